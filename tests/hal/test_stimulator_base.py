"""The rules `Stimulator` enforces for every driver, on an in-memory fake."""

from __future__ import annotations

import pytest

from stimctl.errors import (
    ConfigError,
    ConnectionLost,
    SafetyViolation,
    StateError,
    StimctlError,
)
from stimctl.hal import VIA_SERIAL, ArmState, FireReceipt, Stimulator, TrainSpec
from tests.hal.fake_driver import FakeStimulator


def _open(**kwargs: object) -> FakeStimulator:
    driver = FakeStimulator(**kwargs)  # type: ignore[arg-type]
    driver.open()
    driver.calls.clear()
    return driver


def _armable(**kwargs: object) -> FakeStimulator:
    """Open with an intensity set: `arm` needs one (the planned state includes it)."""
    driver = _open(**kwargs)
    driver.set_intensity(30)
    driver.calls.clear()
    return driver


def test_a_driver_missing_a_hook_cannot_be_constructed() -> None:
    class Incomplete(Stimulator):
        def _do_open(self) -> None: ...

    with pytest.raises(TypeError, match="abstract"):
        Incomplete("x://")  # type: ignore[abstract]


def test_open_disarms_a_device_found_armed() -> None:
    driver = FakeStimulator(initial=ArmState.READY)
    status = driver.open()
    assert "disarm" in driver.calls
    assert status.arm_state is ArmState.STANDBY


def test_open_treats_unknown_as_armed_and_disarms() -> None:
    driver = FakeStimulator(initial=ArmState.UNKNOWN)
    driver.open()
    assert "disarm" in driver.calls


def test_open_fails_closed_when_the_device_will_not_disarm() -> None:
    driver = FakeStimulator(initial=ArmState.READY, sticky_arm=True)
    with pytest.raises(StateError, match="did not disarm"):
        driver.open()
    assert driver.closed and not driver.is_open


def test_commands_before_open_are_state_errors() -> None:
    driver = FakeStimulator()
    with pytest.raises(StateError, match="not open"):
        driver.fire()


def test_fire_requires_ready() -> None:
    driver = _open()
    with pytest.raises(StateError, match="cannot fire"):
        driver.fire()
    assert "fire" not in driver.calls


def test_fire_refuses_an_unknown_arm_state() -> None:
    driver = _open()
    driver.state = ArmState.UNKNOWN
    with pytest.raises(StateError):
        driver.fire()
    assert "fire" not in driver.calls


def test_fire_returns_a_serial_receipt_with_the_schedule_and_the_clock_time() -> None:
    driver = _open()
    driver.set_intensity(40)
    driver.arm()
    driver.clock.sleep(2.5)  # a VirtualClock: the receipt must carry its reading
    receipt = driver.fire(scheduled_s=2.0)
    assert receipt == FireReceipt(VIA_SERIAL, 2.5, 2.0)
    assert receipt.late_s == pytest.approx(0.5)
    assert receipt.to_journal() == {"via": "serial", "actual_s": 2.5, "scheduled_s": 2.0}
    assert driver.fire().scheduled_s is None


def test_arm_is_idempotent() -> None:
    driver = _armable()
    driver.arm()
    driver.arm()
    assert driver.calls.count("arm") == 1


@pytest.mark.parametrize("percent", [-1, 101, 100.5, 50.5, float("nan"), float("inf")])
def test_out_of_range_or_fractional_intensity_is_rejected_not_clipped(percent: float) -> None:
    driver = _open()
    with pytest.raises(SafetyViolation):
        driver.set_intensity(percent)
    assert not any(c.startswith("intensity") for c in driver.calls)


def test_intensity_edges_are_accepted_as_whole_percent() -> None:
    driver = _open()
    driver.set_intensity(0)
    driver.set_intensity(100.0)
    # each setting is read back at once (issue 12 item 1)
    assert driver.calls == ["intensity A=0", "read output", "intensity A=100", "read output"]


def test_unknown_output_is_a_config_error() -> None:
    driver = _open()
    with pytest.raises(ConfigError, match="outputs"):
        driver.set_intensity(50, output="B")


@pytest.mark.parametrize(
    "spec",
    [
        TrainSpec(frequency_hz=51.0, pulses=10),
        TrainSpec(frequency_hz=10.05, pulses=10),
        TrainSpec(frequency_hz=10.0, pulses=6001),
        TrainSpec(frequency_hz=10.0, pulses=1000, duration_s=100.1),
    ],
)
def test_train_outside_capabilities_is_rejected(spec: TrainSpec) -> None:
    driver = _open()
    with pytest.raises(SafetyViolation):
        driver.configure_train(spec)
    assert "train" not in driver.calls


def test_train_spec_refuses_nonsense() -> None:
    with pytest.raises(ConfigError):
        TrainSpec(frequency_hz=0.0, pulses=1)
    with pytest.raises(ConfigError):
        TrainSpec(frequency_hz=1.0, pulses=0)


def test_configure_train_only_in_standby_and_start_only_after_configure() -> None:
    driver = _armable()
    driver.arm()
    with pytest.raises(StateError, match="configure a train"):
        driver.configure_train(TrainSpec(frequency_hz=10.0, pulses=10))
    with pytest.raises(StateError, match="configure_train before"):
        driver.start_train()
    driver.disarm()
    driver.configure_train(TrainSpec(frequency_hz=10.0, pulses=10))
    driver.arm()
    driver.start_train()
    assert driver.calls[-1] == "start_train"


def test_close_disarms_and_is_idempotent() -> None:
    driver = _armable()
    driver.arm()
    driver.close()
    driver.close()
    assert driver.calls.count("disarm") == 1
    assert driver.state is ArmState.STANDBY


def test_context_manager_closes_and_disarms() -> None:
    with FakeStimulator() as driver:
        assert isinstance(driver, FakeStimulator)
        driver.set_intensity(30)
        driver.arm()
    assert isinstance(driver, FakeStimulator)
    assert not driver.is_open and driver.state is ArmState.STANDBY


@pytest.mark.parametrize("state", list(ArmState))
def test_safe_stop_disarms_from_every_state(state: ArmState) -> None:
    driver = _open()
    driver.state = state
    report = driver.safe_stop()
    assert report.disarmed and report.error is None
    assert "disarm" in driver.calls


def test_safe_stop_on_a_dead_link_reports_instead_of_raising() -> None:
    driver = _open()
    driver.dead = True
    report = driver.safe_stop()
    assert not report.disarmed
    assert report.error is not None and "cable" in report.error


def test_safe_stop_reports_a_device_that_stays_armed() -> None:
    driver = _open(sticky_arm=True)
    driver.state = ArmState.READY
    report = driver.safe_stop()
    assert not report.disarmed and "ready" in (report.error or "")


def test_a_background_connection_loss_blocks_further_commands() -> None:
    driver = _open()
    seen: list[StimctlError] = []
    driver.on_fault = seen.append
    driver._report_fault(ConnectionLost("reader died"))
    assert seen and driver.fault is seen[0]
    with pytest.raises(ConnectionLost):
        driver.status()
    assert driver.safe_stop().disarmed  # safe_stop still tries
