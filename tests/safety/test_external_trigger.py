"""An external trigger (issue 18): theta burst and sub-second bursts on a Rapid² are no
longer held to the 1 Hz serial trigger (TDb087 §5.5, device-protocols A7); the unit's
own limits still are: maximum frequency at the power and the energy formulas (A9), and
the recharge of a 200² or BiStim², which no trigger shortens.

Table-driven from the sources above plus a hypothesis property: a trigger only ever
lifts the serial-trigger finding, never another one, and never on other units.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stimctl.device_profiles import load_profile, rapid_max_frequency_hz
from stimctl.protocol.models import Protocol
from stimctl.safety.verdict import Severity
from tests.builders import check, subject, theta_burst, train

STANDARD = "magstim-rapid2-standard-240v"
SUPER_PLUS = "magstim-rapid2-super-plus-240v"
SERIAL_LIMIT = "single triggers at up to"
LIFTED = "serial trigger limit does not apply"


def _findings(protocol: Protocol, rmt: float, device: str, trigger: bool) -> list[Any]:
    verdict = check(
        protocol, subject=subject(rmt=rmt), device=load_profile(device), external_trigger=trigger
    )
    return list(verdict.findings)


def _rule(findings: list[Any], rule: str, severity: str) -> list[Any]:
    return [f for f in findings if f.rule == rule and f.severity.value == severity]


# (case, protocol, RMT % MSO, device profile, trigger, rule, expected blocking messages)
CASES: list[tuple[str, Protocol, float, str, bool, str, tuple[str, ...]]] = [
    # iTBS at 120 % of RMT 55 = 66 % MSO; Super Rapid² Plus reaches 74 Hz there (A9)
    ("itbs super-plus serial", theta_burst(120), 55, SUPER_PLUS, False, "TBS-5", (SERIAL_LIMIT,)),
    ("itbs super-plus trigger", theta_burst(120), 55, SUPER_PLUS, True, "TBS-5", ()),
    # a standard Rapid² allows only 22 Hz at 66 % MSO (A9): the trigger does not help
    ("itbs standard trigger", theta_burst(120), 55, STANDARD, True, "TBS-5", ("not deliverable",)),
    # at 28 % MSO the standard unit reaches 50 Hz: only the serial trigger was in the way
    ("ctbs standard low serial", theta_burst(70, 40.0, None, 1), 40, STANDARD, False, "TBS-5",
     (SERIAL_LIMIT,)),
    ("ctbs standard low trigger", theta_burst(70, 40.0, None, 1), 40, STANDARD, True, "TBS-5", ()),
    # a 200² and a BiStim² recharge for seconds (0.25 Hz): no trigger changes that
    ("10 Hz on a 200² trigger", train(10, 100, 4.0, 26.0), 50, "magstim-200", True, "DEV-FREQ",
     ("range (0.25 Hz)", "single triggers at up to 0.25 Hz (its recharge")),
    ("itbs bistim trigger", theta_burst(120), 40, "magstim-bistim", True, "TBS-5",
     ("range (0.25 Hz)", "single triggers at up to 0.25 Hz (its recharge")),
    # a MagPro takes single triggers at 100 Hz anyway
    ("itbs magpro serial", theta_burst(120), 55, "magpro-x100", False, "TBS-5", ()),
    ("itbs magpro trigger", theta_burst(120), 55, "magpro-x100", True, "TBS-5", ()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("protocol", "rmt", "device", "trigger", "rule", "blocks"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_serial_trigger_rule_by_device_and_trigger(
    protocol: Protocol, rmt: float, device: str, trigger: bool, rule: str, blocks: tuple[str, ...]
) -> None:
    blocking = _rule(_findings(protocol, rmt, device, trigger), rule, "block")
    assert len(blocking) == len(blocks), [f.message for f in blocking]
    for expected in blocks:
        assert any(expected in finding.message for finding in blocking), expected


def test_the_lifted_limit_is_reported_as_an_allow_finding_with_its_source() -> None:
    findings = _findings(theta_burst(120), 55, SUPER_PLUS, True)
    lifted = [f for f in findings if LIFTED in f.message]
    assert len(lifted) == 1
    assert lifted[0].severity is Severity.ALLOW
    assert lifted[0].rule == "TBS-5"
    assert "TDb087 section 5.5" in lifted[0].source


def test_energy_limits_still_apply_to_a_triggered_continuous_theta_burst() -> None:
    """cTBS 600 pulses (40 s at a mean 15 Hz) at 80 % MSO on a Super Rapid² Plus: 57 Hz
    is reachable (A9), but 15 x 161.2 J/s exceeds 1050 J/s and the maximum on-time
    63000 / (15 x 161.2) = 26 s is shorter than 40 s: DEV-ONTIME still blocks."""
    findings = _findings(theta_burst(100, 40.0, None, 1), 80, SUPER_PLUS, True)
    assert not _rule(findings, "TBS-5", "block")
    on_time = _rule(findings, "DEV-ONTIME", "block")
    assert len(on_time) == 1
    assert on_time[0].limit == pytest.approx(26.05, abs=0.01)


PROFILES = st.sampled_from(
    [
        STANDARD,
        SUPER_PLUS,
        "magstim-rapid2-super-240v",
        "magstim-rapid2-standard-115v",
        "magstim-200",
        "magstim-bistim",
        "magpro-x100",
        "magpro-r30",
    ]
)


def _blocks(findings: list[Any]) -> set[tuple[str, str]]:
    return {(f.rule, f.message) for f in findings if f.severity is Severity.BLOCK}


@settings(max_examples=120, deadline=None)
@given(
    profile=PROFILES,
    rmt=st.floats(min_value=20, max_value=80, allow_nan=False),
    percent=st.sampled_from([70.0, 80.0, 100.0, 120.0]),
    burst=st.sampled_from([(3, 50.0, 5.0), (3, 30.0, 6.0), (5, 50.0, 5.0), (2, 20.0, 2.0)]),
)
def test_a_trigger_only_ever_lifts_the_serial_trigger_finding(
    profile: str, rmt: float, percent: float, burst: tuple[int, float, float]
) -> None:
    protocol = theta_burst(percent, burst=burst)
    without = _findings(protocol, rmt, profile, False)
    with_trigger = _findings(protocol, rmt, profile, True)
    lifted = _blocks(without) - _blocks(with_trigger)
    assert _blocks(with_trigger) <= _blocks(without)  # nothing new blocks, nothing else lifts
    assert all(SERIAL_LIMIT in message for _, message in lifted)
    device = load_profile(profile)
    if device.rapid is None:
        assert not lifted  # only a Rapid²'s 1 Hz is the serial trigger's
    dose = rmt * percent / 100
    if lifted and dose <= device.max_output_percent_mso:
        # what is left to judge the burst frequency is the A9 table at that power
        assert burst[1] <= rapid_max_frequency_hz(device, dose) + 1e-9 or _rule(
            with_trigger, "TBS-5", "block"
        )
