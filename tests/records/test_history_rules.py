"""Daily and course rules acting on history read from a real database file.

Each test records sessions through the same functions the session engine calls
(`begin_session`/`end_session`) and evaluates the next one through the store and the
safety engine (`evaluate_for_subject`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from stimctl.protocol import load_protocol
from stimctl.protocol.models import Protocol
from stimctl.records import (
    AdverseEventRecord,
    CourseRecord,
    Store,
    ThresholdRecord,
    add_subject,
    begin_session,
    edit_subject,
    end_session,
    evaluate_for_subject,
    history_for,
    record_adverse_event,
    record_screening,
    record_threshold,
    review_adverse_event,
    start_course,
    subject_for,
    update_session_progress,
)
from stimctl.records.clinical import screening_from
from stimctl.safety import SiteRules
from stimctl.safety.verdict import Verdict
from tests.builders import clean_screening
from tests.records.conftest import DIGEST, NOW, TODAY

SAINT_SITE = SiteRules(accelerated_allowed=True)
MORNING = NOW.replace(hour=8)


def _rules(verdict: Verdict, severity: str) -> set[str]:
    return {f.rule for f in verdict.findings if f.severity.value == severity}


@pytest.fixture
def screened(store: Store, subject: str) -> str:
    record_screening(store, screening_from(subject, clean_screening()))
    # SAINT's dose is of the depth-adjusted RMT: it needs these (issue 15 item 7)
    edit_subject(store, subject, scalp_cortex_mm={"M1-hand": 18.0, "L-DLPFC": 20.0})
    return subject


def _deliver(
    store: Store,
    protocol: Protocol,
    start: dt.datetime,
    *,
    pulses: int | None = None,
    minutes: float = 10.0,
    status: str = "completed",
    subject: str = "S-01",
) -> None:
    from stimctl.protocol import derive

    derived = derive(protocol)
    row = begin_session(
        store,
        subject_id=subject,
        protocol_name=protocol.name,
        protocol_digest=DIGEST,
        protocol_class=derived.protocol_class,
        pulses_planned=derived.total_pulses,
        started_at=start,
    )
    end_session(
        store,
        row.id,
        status=status,
        pulses_delivered=derived.total_pulses if pulses is None else pulses,
        chain_head="a" * 64,
        ended_at=start + dt.timedelta(minutes=minutes),
    )


def _check(store: Store, protocol: Protocol, now: dt.datetime, **kwargs: object) -> Verdict:
    return evaluate_for_subject(store, protocol, "S-01", now=now, **kwargs)  # type: ignore[arg-type]


def test_saint_ten_sessions_a_day_allowed_and_the_eleventh_blocked(
    store: Store, screened: str
) -> None:
    saint = load_protocol("dep-saint")
    start_course(store, CourseRecord(screened, "dep-saint", DIGEST, 50, TODAY))
    for index in range(10):
        now = MORNING + dt.timedelta(minutes=60 * index)
        verdict = _check(store, saint, now, site=SAINT_SITE)
        assert verdict.verdict.value == "allow", (index, verdict.findings)
        _deliver(store, saint, now)
    eleventh = _check(store, saint, MORNING + dt.timedelta(minutes=600), site=SAINT_SITE)
    assert eleventh.verdict.value == "block"
    assert {"SES-3", "PUL-4"} <= _rules(eleventh, "block")
    assert history_for(store, "S-01", MORNING + dt.timedelta(hours=11)).course_sessions == 10


def test_saint_minimum_gap_counts_from_the_end_of_the_last_session(
    store: Store, screened: str
) -> None:
    saint = load_protocol("dep-saint")
    _deliver(store, saint, MORNING, minutes=10)  # ends 08:10
    too_soon = _check(store, saint, MORNING + dt.timedelta(minutes=40), site=SAINT_SITE)
    gap = [f for f in too_soon.findings if f.rule == "SES-3" and f.severity.value == "block"]
    assert gap, too_soon.findings
    assert gap[0].value == pytest.approx(30.0)
    enough = _check(store, saint, MORNING + dt.timedelta(minutes=61), site=SAINT_SITE)
    assert enough.verdict.value == "allow", enough.findings


def test_saint_refused_where_the_site_forbids_accelerated_schedules(
    store: Store, screened: str
) -> None:
    verdict = _check(store, load_protocol("dep-saint"), MORNING, site=SiteRules())
    assert "SES-3" in _rules(verdict, "block")


def test_daily_pulse_cap_counts_a_stopped_session_by_its_delivered_pulses(
    store: Store, screened: str
) -> None:
    fda = load_protocol("dep-fda-10hz")  # 3000 pulses, standard schedule
    _deliver(store, fda, MORNING, pulses=500, status="stopped")
    verdict = _check(store, fda, MORNING + dt.timedelta(hours=4))
    daily = [f for f in verdict.findings if f.rule == "PUL-1" and "today" in f.message]
    assert daily and daily[0].severity.value == "override"
    assert daily[0].value == 3500
    assert "SES-1" in _rules(verdict, "override")


def test_a_session_that_delivered_nothing_does_not_count(store: Store, screened: str) -> None:
    fda = load_protocol("dep-fda-10hz")
    _deliver(store, fda, MORNING, pulses=0, status="aborted")
    verdict = _check(store, fda, MORNING + dt.timedelta(hours=1))
    assert not {"SES-1", "PUL-1"} & _rules(verdict, "override")


def test_yesterdays_session_does_not_count_today(store: Store, screened: str) -> None:
    fda = load_protocol("dep-fda-10hz")
    _deliver(store, fda, MORNING - dt.timedelta(days=1))
    verdict = _check(store, fda, MORNING)
    assert verdict.verdict.value == "allow", verdict.findings


def test_stale_rmt_from_the_store_needs_an_override(store: Store) -> None:
    add_subject(store, "S-01")
    record_screening(store, screening_from("S-01", clean_screening()))
    old = TODAY - dt.timedelta(days=30)
    record_threshold(store, ThresholdRecord("S-01", 50.0, "emg", old))
    verdict = _check(store, load_protocol("dep-fda-10hz"), MORNING)
    assert "INT-7" in _rules(verdict, "override")
    record_threshold(store, ThresholdRecord("S-01", 52.0, "emg", TODAY))
    fresh = _check(store, load_protocol("dep-fda-10hz"), MORNING)
    assert "INT-7" not in {f.rule for f in fresh.findings}
    assert subject_for(store, "S-01").rmt.percent_mso == 52.0


def test_visual_rmt_from_the_store_needs_an_override_at_120_percent(store: Store) -> None:
    add_subject(store, "S-01")
    record_screening(store, screening_from("S-01", clean_screening()))
    record_threshold(store, ThresholdRecord("S-01", 50.0, "visual", TODAY))
    verdict = _check(store, load_protocol("dep-fda-10hz"), MORNING)
    assert "INT-6" in _rules(verdict, "override")


def test_a_seizure_on_record_blocks_until_reviewed(store: Store, screened: str) -> None:
    fda = load_protocol("dep-fda-10hz")
    event = record_adverse_event(
        store, AdverseEventRecord("S-01", "seizure", "severe", MORNING - dt.timedelta(days=1))
    )
    blocked = _check(store, fda, MORNING)
    assert "SES-4" in _rules(blocked, "block")
    review_adverse_event(store, event.id, reviewed_by="dr-lee", notes="EEG normal; resume")
    assert "SES-4" not in {f.rule for f in _check(store, fda, MORNING).findings}


def test_an_unreviewed_mild_headache_does_not_block(store: Store, screened: str) -> None:
    record_adverse_event(store, AdverseEventRecord("S-01", "headache", "mild", MORNING))
    verdict = _check(store, load_protocol("dep-fda-10hz"), MORNING + dt.timedelta(hours=1))
    assert "SES-4" not in {f.rule for f in verdict.findings}


def test_no_screening_on_record_blocks_a_session_start(store: Store, subject: str) -> None:
    verdict = _check(store, load_protocol("dep-fda-10hz"), MORNING)
    assert "SCR-4" in _rules(verdict, "block")


def test_course_count_comes_from_sessions_of_the_course_protocol(
    store: Store, screened: str
) -> None:
    fda = load_protocol("dep-fda-10hz")
    start_course(store, CourseRecord("S-01", "dep-fda-10hz", DIGEST, 36, TODAY))
    for day in range(36, 0, -1):
        _deliver(store, fda, MORNING - dt.timedelta(days=day))
    _deliver(store, load_protocol("dep-saint"), MORNING - dt.timedelta(hours=2))  # not course
    history = history_for(store, "S-01", MORNING)
    assert history.course_sessions == 36
    verdict = _check(store, fda, MORNING)
    assert {"SES-COURSE", "SES-5"} <= _rules(verdict, "override")


def test_first_exposures_see_sessions_older_than_the_lookback(store: Store, screened: str) -> None:
    fda = load_protocol("dep-fda-10hz")
    for day in (200, 199, 198):
        _deliver(store, fda, MORNING - dt.timedelta(days=day))
    history = history_for(store, "S-01", MORNING)
    assert len(history.sessions) == 3
    assert "SES-9" not in {f.rule for f in _check(store, fda, MORNING).findings}


def test_a_session_still_running_counts_its_planned_pulses(store: Store, screened: str) -> None:
    fda = load_protocol("dep-fda-10hz")
    row = begin_session(
        store,
        subject_id="S-01",
        protocol_name=fda.name,
        protocol_digest=DIGEST,
        protocol_class="hf-rtms",
        pulses_planned=3000,
        started_at=MORNING,
    )
    update_session_progress(store, row.id, pulses_delivered=1600, chain_head="c" * 64)
    verdict = _check(store, fda, MORNING + dt.timedelta(hours=2))
    assert "SES-1" in _rules(verdict, "override")
    # live, or dead and not yet reconciled: it may deliver (or have delivered) its plan
    daily = [f for f in verdict.findings if f.rule == "PUL-1" and "today" in f.message]
    assert daily and daily[0].value == 3000 + 3000


def test_the_site_file_decides_whether_saint_is_allowed(
    store: Store, screened: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saint = load_protocol("dep-saint")
    assert "SES-3" in _rules(_check(store, saint, MORNING), "block")  # shipped default: no
    site = tmp_path / "site.toml"
    site.write_text("schema_version = 1\naccelerated_allowed = true\n", encoding="utf-8")
    monkeypatch.setenv("STIMCTL_SITE", str(site))
    assert _check(store, saint, MORNING).verdict.value == "allow"


def test_a_sixth_consecutive_saint_day_blocks(store: Store, screened: str) -> None:
    saint = load_protocol("dep-saint")
    for day in range(5, 0, -1):
        _deliver(store, saint, MORNING - dt.timedelta(days=day))
    verdict = _check(store, saint, MORNING, site=SAINT_SITE)
    days = [f for f in verdict.findings if f.rule == "SES-3" and "in a row" in f.message]
    assert days and days[0].severity.value == "block"


def test_a_screening_older_than_the_site_validity_blocks_a_start(
    store: Store, subject: str
) -> None:
    old = dataclasses.replace(clean_screening(), answered_on=TODAY - dt.timedelta(days=45))
    record_screening(store, screening_from(subject, old))
    verdict = _check(store, load_protocol("dep-fda-10hz"), MORNING)
    assert "SCR-4" in _rules(verdict, "block")
