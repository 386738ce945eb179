"""The base class's rule of issue 12 item 1: before `_do_arm`, the whole planned output
state is applied and read back, and a difference means no arm. On the in-memory fake."""

from __future__ import annotations

import pytest

from stimctl.errors import ConfigError, OutputStateMismatch, StateError
from stimctl.hal import ArmState, OutputPlan, PairedPulse
from stimctl.hal._output import differences
from tests.hal.fake_driver import FakeStimulator


def _armable() -> FakeStimulator:
    driver = FakeStimulator()
    driver.open()
    driver.set_intensity(30)
    driver.calls.clear()
    return driver


def test_arm_applies_then_reads_back_then_arms() -> None:
    driver = _armable()
    driver.arm()
    assert driver.calls == [
        "status",
        "read output",  # output A as planned: not re-sent
        "apply output",
        "read output",
        "arm",
        "status",
    ]


def test_an_output_a_changed_behind_the_host_is_set_again_before_arming() -> None:
    driver = _armable()
    driver.held["power_a"] = 55  # the front panel
    driver.arm()
    assert "intensity A=30" in driver.calls
    assert driver.held["power_a"] == 30 and driver.state is ArmState.READY


def test_a_read_back_that_differs_refuses_to_arm_and_names_the_parameter() -> None:
    driver = _armable()
    driver.held["power_b"] = 100  # left by a paired-pulse study ...
    driver.ignore_settings = True  # ... and the device does not take the new value
    with pytest.raises(OutputStateMismatch) as info:
        driver.arm()
    assert (info.value.parameter, info.value.wanted, info.value.read) == ("power_b", 0, 100)
    assert "power_b reads 100, planned 0" in str(info.value)
    assert "arm" not in driver.calls
    assert driver.state is ArmState.STANDBY


def test_a_left_over_state_the_device_takes_is_restored_and_armed() -> None:
    driver = _armable()
    driver.held["power_b"] = 100
    driver.arm()
    assert driver.held["power_b"] == 0
    assert driver.state is ArmState.READY


def test_an_already_armed_device_is_checked_without_changes_and_disarmed_if_wrong() -> None:
    driver = _armable()
    driver.arm()
    driver.held["power_b"] = 100  # changed behind the host's back while armed
    driver.calls.clear()
    with pytest.raises(OutputStateMismatch, match="power_b"):
        driver.arm()
    assert "apply output" not in driver.calls  # settings are not changed while armed
    assert "disarm" in driver.calls
    assert driver.state is ArmState.STANDBY


def test_arm_without_an_intensity_is_refused_before_any_setting() -> None:
    driver = FakeStimulator()
    driver.open()
    driver.calls.clear()
    with pytest.raises(StateError, match="intensity"):
        driver.arm()
    assert driver.calls == ["status"]


def test_set_intensity_reads_back_at_once_and_disarms_on_a_difference() -> None:
    driver = _armable()
    driver.arm()
    driver.ignore_settings = True
    with pytest.raises(OutputStateMismatch, match="power_a reads 30, planned 40"):
        driver.set_intensity(40)
    assert driver.state is ArmState.STANDBY


def test_verify_output_only_reads() -> None:
    driver = _armable()
    driver.arm()
    driver.calls.clear()
    driver.verify_output()
    assert driver.calls == ["read output"]


def test_a_plan_the_driver_cannot_deliver_is_refused_before_any_io() -> None:
    driver = _armable()
    with pytest.raises(ConfigError, match="single pulses"):
        driver.plan_output(OutputPlan(paired=PairedPulse(50, 3.0)))
    assert driver.calls == []
    assert driver.output_plan == OutputPlan()


def test_the_plan_changes_only_in_standby() -> None:
    driver = _armable()
    driver.arm()
    with pytest.raises(StateError, match="output plan"):
        driver.plan_output(OutputPlan())


def test_found_armed_at_open_is_reported_once() -> None:
    driver = FakeStimulator(initial=ArmState.READY)
    driver.open()
    assert driver.found_armed_at_open == (
        "the Fake-1 on fake:// was found armed (left by a crashed session?) and was disarmed"
    )
    driver.close()
    driver.open()
    assert driver.found_armed_at_open is None


def test_differences_fail_closed_on_missing_values_and_types() -> None:
    assert differences({"a": 1}, {"a": 1}) == []
    assert differences({"a": 1}, {}) == [("a", 1, "not read back")]
    assert differences({"a": False}, {"a": 0}) == [("a", False, 0)]  # 0 is not "off"
    assert differences({"a": 1}, {"a": True}) == [("a", 1, True)]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"burst_pulses": 3}, "burst_ipi_ms"),
        ({"burst_pulses": 6, "burst_ipi_ms": 10.0}, "1-5"),
        (
            {"burst_pulses": 2, "burst_ipi_ms": 10.0, "paired": PairedPulse(50, 3.0)},
            "not both",
        ),
    ],
)
def test_output_plan_refuses_nonsense(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        OutputPlan(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("percent", "interval"), [(0, 3.0), (101, 3.0), (50, 0.0), (50, -1.0)])
def test_paired_pulse_refuses_nonsense(percent: int, interval: float) -> None:
    with pytest.raises(ConfigError):
        PairedPulse(percent, interval)
