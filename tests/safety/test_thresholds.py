"""Thresholds by type and muscle (safety-limits 13.2; issue 15 item 1), table-driven.

Huang et al. 2005 gave cTBS and iTBS at 80% AMT [R; Sci Rep s41598-018-26791-w lists
"80% AMT, 600 pulses"]; the reported cTBS seizure happened at 100% RMT, so cTBS at or
above 100% RMT blocks. A protocol needs the threshold it refers to (kind and muscle); a
subject without it is blocked with a message naming what to measure.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from stimctl.protocol.models import Protocol
from stimctl.safety import MotorThreshold, Subject
from tests.builders import TODAY, check, theta_burst, train

RMT_HAND = MotorThreshold(55.0, "emg", TODAY, kind="rmt", muscle="FDI")
AMT_HAND = MotorThreshold(44.0, "emg", TODAY, kind="amt", muscle="FDI")
RMT_LEG = MotorThreshold(65.0, "emg", TODAY, kind="rmt", muscle="TA")


def with_intensity(p: Protocol, **intensity: Any) -> Protocol:
    data = p.model_dump()
    data["intensity"] = intensity
    return Protocol.model_validate(data)


def ctbs(**intensity: Any) -> Protocol:
    return with_intensity(theta_burst(80, 40.0, None, 1), **intensity)


def itbs(**intensity: Any) -> Protocol:
    return with_intensity(theta_burst(80), **intensity)


def subject_with(*thresholds: MotorThreshold) -> Subject:
    return Subject(thresholds[0], thresholds=thresholds[1:])


BOTH = subject_with(RMT_HAND, AMT_HAND)  # AMT 44 = 80% of RMT 55
RMT_ONLY = subject_with(RMT_HAND)
AMT_ONLY = subject_with(AMT_HAND)

# (case, protocol intensity, subject, expected INT-3 severity)
CTBS_CASES = [
    ("Huang 80% AMT", {"percent_amt": 80}, BOTH, "allow"),
    ("Huang 80% AMT, no RMT needed below it", {"percent_amt": 80}, AMT_ONLY, "allow"),
    ("90% AMT (= 72% RMT): above Huang, below RMT", {"percent_amt": 90}, BOTH, "override"),
    ("90% AMT without an RMT: the 100% RMT limit unknown", {"percent_amt": 90}, AMT_ONLY, "block"),
    ("125% AMT = 100% RMT: at the seizure dose", {"percent_amt": 125}, BOTH, "block"),
    ("80% RMT: a higher dose than 80% AMT", {"percent_rmt": 80}, RMT_ONLY, "override"),
    ("80% RMT = 100% AMT with the AMT known", {"percent_rmt": 80}, BOTH, "override"),
    ("64% RMT = 80% AMT", {"percent_rmt": 64}, BOTH, "allow"),
    ("99% RMT", {"percent_rmt": 99}, BOTH, "override"),
    ("100% RMT: at, not only above, is blocked", {"percent_rmt": 100}, BOTH, "block"),
    ("100% RMT without an AMT", {"percent_rmt": 100}, RMT_ONLY, "block"),
]


@pytest.mark.parametrize(("case", "intensity", "subj", "expected"), CTBS_CASES)
def test_ctbs_limits_follow_huang_2005(
    case: str, intensity: dict[str, float], subj: Subject, expected: str
) -> None:
    verdict = check(ctbs(**intensity), subject=subj)
    finding = next(f for f in verdict.findings if f.rule == "INT-3")
    assert finding.severity.value == expected, (case, finding.message)
    assert "Huang" in finding.source or "Oberman" in finding.source


ITBS_CASES = [
    ("Huang 80% AMT, AMT only", {"percent_amt": 80}, AMT_ONLY, "allow"),
    ("100% AMT, no RMT to check the 120% RMT cap", {"percent_amt": 100}, AMT_ONLY, "block"),
    ("100% AMT = 80% RMT", {"percent_amt": 100}, BOTH, "allow"),
    ("THREE-D 120% RMT", {"percent_rmt": 120}, RMT_ONLY, "allow"),
    ("121% RMT", {"percent_rmt": 121}, RMT_ONLY, "block"),
]


@pytest.mark.parametrize(("case", "intensity", "subj", "expected"), ITBS_CASES)
def test_itbs_limits(case: str, intensity: dict[str, float], subj: Subject, expected: str) -> None:
    verdict = check(itbs(**intensity), subject=subj)
    finding = next(f for f in verdict.findings if f.rule == "INT-2")
    assert finding.severity.value == expected, (case, finding.message)


# (case, protocol, subject, words the blocking message must contain)
MISSING_CASES = [
    ("AMT protocol, RMT only", ctbs(percent_amt=80), RMT_ONLY, ["active motor threshold", "hand"]),
    (
        "leg protocol, hand thresholds only",
        with_intensity(train(10, 90, 4.0, 26.0), percent_rmt=90, muscle="leg"),
        BOTH,
        ["resting motor threshold", "leg", "--muscle TA"],
    ),
    (
        "FDI protocol, APB threshold only",
        with_intensity(train(10, 90, 4.0, 26.0), percent_rmt=90, muscle="FDI"),
        subject_with(MotorThreshold(50.0, "emg", TODAY, muscle="APB")),
        ["resting motor threshold", "FDI"],
    ),
    (
        "conventional rTMS in % AMT also needs the RMT (tables are in % RMT)",
        with_intensity(train(10, 90, 4.0, 26.0), percent_amt=110),
        AMT_ONLY,
        ["resting motor threshold"],
    ),
]


@pytest.mark.parametrize(("case", "protocol", "subj", "words"), MISSING_CASES)
def test_missing_threshold_blocks_naming_what_to_measure(
    case: str, protocol: Protocol, subj: Subject, words: list[str]
) -> None:
    verdict = check(protocol, subject=subj)
    assert verdict.verdict.value == "block", case
    finding = verdict.deciding()[0]
    assert finding.rule == "MT-NEED"
    assert "measure" in finding.message
    for word in words:
        assert word in finding.message, (case, word, finding.message)


def test_the_leg_threshold_serves_a_leg_protocol_and_sets_the_dose() -> None:
    p = with_intensity(train(10, 90, 4.0, 26.0), percent_rmt=100, muscle="leg")
    verdict = check(p, subject=subject_with(RMT_HAND, RMT_LEG))
    assert verdict.verdict.value != "block"
    assert verdict.derived["dose_percent_mso"] == pytest.approx(65.0)  # 100% of the TA RMT


def test_a_hand_protocol_ignores_a_leg_threshold() -> None:
    p = train(10, 100, 4.0, 26.0)
    verdict = check(p, subject=subject_with(RMT_LEG, RMT_HAND))
    assert verdict.derived["dose_percent_mso"] == pytest.approx(55.0)


def test_amt_dose_is_converted_with_the_amt() -> None:
    verdict = check(ctbs(percent_amt=80), subject=BOTH)
    assert verdict.derived["dose_percent_mso"] == pytest.approx(35.2)  # 80% of 44
    assert verdict.derived["percent_rmt"] == pytest.approx(64.0)


def test_latest_matching_threshold_is_used() -> None:
    old = MotorThreshold(40.0, "emg", TODAY - dt.timedelta(days=3), kind="amt", muscle="FDI")
    subj = Subject(RMT_HAND, thresholds=(old, AMT_HAND))
    assert subj.threshold("amt", "hand") == AMT_HAND


def test_h7_cap_refers_to_a_leg_threshold() -> None:
    h7 = train(20, 100, 2.0, 20.0, 50, coil={"family": "h-coil", "model": "H7"})
    hand = check(h7, subject=subject_with(RMT_HAND, RMT_LEG))
    finding = next(f for f in hand.findings if f.rule == "INT-4")
    assert finding.severity.value == "block" and "leg" in finding.message
    leg = check(with_intensity(h7, percent_rmt=100, muscle="TA"), subject=subject_with(RMT_LEG))
    assert next(f for f in leg.findings if f.rule == "INT-4").severity.value == "allow"


@pytest.mark.parametrize(("mode", "expected"), [("clinical", "block"), ("research", "override")])
def test_outside_the_h_coil_label_envelope_is_stricter_in_the_clinic(
    mode: str, expected: str
) -> None:
    # Taylor 2021: H-coil seizure rates 5.56 vs 0.14 per 1000 patients (safety-limits 13.3)
    from stimctl.safety import SiteRules

    h1 = train(18, 110, 2.0, 15.0, 55, coil={"family": "h-coil", "model": "H1"})  # 15 s < 20 s
    verdict = check(h1, subject=subject_with(RMT_HAND), site=SiteRules(mode=mode))  # type: ignore[arg-type]
    finding = next(f for f in verdict.findings if f.rule == "HCOIL-ENV")
    assert finding.severity.value == expected
    assert "Taylor" in finding.source
