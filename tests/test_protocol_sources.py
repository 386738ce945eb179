"""Each corrected shipped protocol against its source's numbers (safety-limits 13.3;
issue 15 item 7). One row per protocol: the numbers the cited trial gives, the words its
source field must contain, and the verdict it gets for the typical subject."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Any

import pytest

from stimctl.protocol import derive, load_protocol
from stimctl.safety import SiteRules
from stimctl.safety.engine import evaluate
from stimctl.testing.expected import EXPECTED_VERDICTS, typical_subject

NOW = dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC)
SUBJECT = typical_subject(NOW.date())
SITE = SiteRules(accelerated_allowed=True)

# name -> (numbers from the source, words the source must cite)
SOURCES: dict[str, tuple[dict[str, Any], list[str]]] = {
    # THREE-D abstract: 4-6 weeks of weekday sessions -> at most 30, no taper
    "dep-itbs-three-d": (
        {"total_pulses": 600, "course_sessions": 30, "percent_rmt": 120, "class": "itbs"},
        ["Blumberger", "2018", "4-6 weeks"],
    ),
    # the cleared 19-minute protocol: 4 s on / 11 s off, 75 trains, 3000 pulses
    "dep-fda-10hz-19min": (
        {"frequency": 10, "train_s": 4, "iti_s": 11, "trains": 75, "total_pulses": 3000},
        ["clearance", "882.5805"],
    ),
    "dep-fda-10hz": (
        {"frequency": 10, "train_s": 4, "iti_s": 26, "trains": 75, "total_pulses": 3000},
        ["O'Reardon"],
    ),
    # SAINT abstract: 1800 pulses, 10/day 50 min apart, 5 days, 90% depth-adjusted RMT
    "dep-saint": (
        {
            "total_pulses": 1800,
            "sessions_per_day": 10,
            "min_gap_minutes": 50,
            "course_sessions": 50,
            "percent_rmt": 90,
            "depth_adjusted": True,
        },
        ["Cole", "2020"],
    ),
    # Hosomi 2020: 5 daily sessions of 5 Hz, 500 pulses, then 4 weekly
    "np-m1-5hz-hosomi": (
        {"frequency": 5, "total_pulses": 500, "course_sessions": 9},
        ["Hosomi", "2020", "Pain 161:351"],
    ),
    # Hosomi 2013 (PubMed 23623156): 10 daily sessions of 5 Hz, 500 pulses
    "np-m1-5hz-hosomi2013": (
        {"frequency": 5, "total_pulses": 500, "course_sessions": 10},
        ["Hosomi", "2013", "23623156"],
    ),
    # Hodaj 2020: 10 Hz, 12 daily sessions over 3 weeks; 2000 pulses (Hodaj 2015)
    "np-m1-10hz-hodaj": (
        {"frequency": 10, "total_pulses": 2000, "course_sessions": 12, "max_train_s": 5},
        ["Hodaj", "2020", "131:1423"],
    ),
    # Attal 2021: 10 Hz, 3000 pulses, 15 sessions
    "np-m1-10hz-attal": (
        {"frequency": 10, "total_pulses": 3000, "course_sessions": 15},
        ["Attal", "2021"],
    ),
    # Quesada 2020: 20 Hz, 4 sessions 3 weeks apart
    "np-m1-20hz": ({"frequency": 20, "course_sessions": 4}, ["Quesada", "2020"]),
    # Fitzgerald 2006: 1 Hz, 10 sessions plus a 2-week extension
    "dep-1hz-rdlpfc": (
        {"frequency": 1, "course_sessions": 20},
        ["Fitzgerald", "2006", "Wassermann"],
    ),
    # Huang 2005: cTBS600, 40 s, 80% AMT
    "ctbs-m1": (
        {"total_pulses": 600, "train_s": 40, "percent_amt": 80, "class": "ctbs"},
        ["Huang", "2005", "80% AMT"],
    ),
}


def _actual(name: str) -> dict[str, Any]:
    p = load_protocol(name)
    d = derive(p)
    return {
        "frequency": d.pulse_frequency_hz,
        "train_s": d.train_duration_s,
        "max_train_s": d.train_duration_s,
        "iti_s": d.inter_train_interval_s,
        "trains": d.trains,
        "total_pulses": d.total_pulses,
        "class": d.protocol_class,
        "percent_rmt": p.intensity.percent_rmt,
        "percent_amt": p.intensity.percent_amt,
        "depth_adjusted": p.intensity.depth_adjusted,
        "course_sessions": p.schedule.course_sessions,
        "sessions_per_day": p.schedule.sessions_per_day,
        "min_gap_minutes": p.schedule.min_gap_minutes,
    }


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_protocol_matches_its_source(name: str) -> None:
    numbers, words = SOURCES[name]
    actual = _actual(name)
    for key, expected in numbers.items():
        if key == "max_train_s":
            assert actual[key] <= expected, (name, key)
        else:
            assert actual[key] == pytest.approx(expected), (name, key, actual[key])
    source = load_protocol(name).source
    for word in words:
        assert word in source, (name, word)


@pytest.mark.parametrize("name", sorted(EXPECTED_VERDICTS))
def test_every_protocol_says_what_comes_from_the_trial(name: str) -> None:
    notes = load_protocol(name).notes or ""
    # each note says which parameters come from the source ("From the trial: ...",
    # "All stimulation parameters from the cleared protocol") and which are the layout
    assert "from the" in notes.lower(), name


@pytest.mark.parametrize(
    "name", sorted(n for n in EXPECTED_VERDICTS if load_protocol(n).indication != "research")
)
def test_no_clinical_protocol_needs_an_override_for_its_own_session(name: str) -> None:
    verdict = evaluate(load_protocol(name), SUBJECT, now=NOW, site=SITE)
    assert verdict.verdict.value == "allow", [
        f for f in verdict.findings if f.severity.value != "allow"
    ]


def test_saint_without_scalp_cortex_distances_is_blocked_naming_them() -> None:
    verdict = evaluate(
        load_protocol("dep-saint"), replace(SUBJECT, scalp_cortex_mm={}), now=NOW, site=SITE
    )
    assert verdict.verdict.value == "block"
    (finding,) = verdict.deciding()
    assert finding.rule == "MT-DEPTH"
    assert "M1-hand" in finding.message and "L-DLPFC" in finding.message
    assert "Stokes" in finding.source


def test_saint_shows_the_depth_adjusted_dose_with_the_formula() -> None:
    verdict = evaluate(load_protocol("dep-saint"), SUBJECT, now=NOW, site=SITE)
    depth = next(f for f in verdict.findings if f.rule == "MT-DEPTH")
    # Stokes 2005: 55 + 3 x (20 - 18) = 61% MSO; 90% of it = 54.9% MSO
    assert "55 + 3 x (20 mm L-DLPFC - 18 mm M1-hand) = 61% MSO" in depth.message
    assert verdict.derived["dose_percent_mso"] == pytest.approx(54.9)
    assert "54.9% MSO" in depth.message


def test_an_adjusted_threshold_on_record_serves_saint() -> None:
    from stimctl.safety import MotorThreshold

    adjusted = MotorThreshold(64.0, "emg", NOW.date(), adjusted_for="L-DLPFC")
    subject = replace(SUBJECT, scalp_cortex_mm={}, thresholds=(*SUBJECT.thresholds, adjusted))
    verdict = evaluate(load_protocol("dep-saint"), subject, now=NOW, site=SITE)
    assert verdict.verdict.value == "allow"
    assert verdict.derived["dose_percent_mso"] == pytest.approx(57.6)  # 90% of 64


TAG = re.compile(r"\[(V|V2|R|U|P|E)( abstract)?\]")


@pytest.mark.parametrize("name", sorted(EXPECTED_VERDICTS))
def test_every_finding_on_a_shipped_protocol_cites_a_tagged_source(name: str) -> None:
    # issue 15 "must show": no finding whose source is missing or untagged
    verdict = evaluate(load_protocol(name), SUBJECT, now=NOW, site=SITE)
    for finding in verdict.findings:
        assert TAG.search(finding.source), (name, finding.rule, finding.source)
        if finding.rule == "WASS1998_T4" and isinstance(finding.limit, float):
            # the number printed is the cell the source gives, or the envelope says so
            assert "envelope" in finding.message or "[E]" not in finding.source
