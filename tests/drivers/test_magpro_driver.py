"""MagPro driver over a scripted port: reader thread, unsolicited messages, rules."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from drivers.magventure import MagProDriver
from stimctl.clock import VirtualClock
from stimctl.errors import (
    ChecksumError,
    ConfigError,
    ConnectionLost,
    DeviceTimeout,
    OutputStateMismatch,
    SafetyViolation,
    StateError,
    StimctlError,
)
from stimctl.hal import ArmState, ScriptedPort, TrainSpec, Transport
from tests.drivers.magpro_frames import (
    DISABLED,
    ENABLED,
    GET_MODE,
    GET_STATUS,
    mode,
    mv,
    set_mode,
    status,
)

OPEN = [(GET_STATUS, status()), (GET_STATUS, status())]


def _make(script: list[tuple[bytes, bytes]], **options: Any) -> tuple[MagProDriver, ScriptedPort]:
    port = ScriptedPort(script)
    options.setdefault("reply_timeout_s", 0.2)
    options.setdefault("link_watch", False)  # the script has no room for status polls
    driver = MagProDriver("scripted://", clock=VirtualClock(), transport=Transport(port), **options)
    return driver, port


@pytest.fixture
def cleanup() -> Any:
    drivers: list[MagProDriver] = []
    yield drivers.append
    for driver in drivers:
        driver.close_link()


def test_open_reads_status_and_identity(cleanup: Any) -> None:
    driver, port = _make(OPEN, model="x100", option="false")
    cleanup(driver)
    assert driver.open().arm_state is ArmState.STANDBY
    identity = driver.identify()
    assert identity.model == "MagPro X100" and identity.serial_number == str(0x012345)
    assert driver.capabilities().outputs == ("A",)
    port.assert_done()


def test_open_refuses_another_model(cleanup: Any) -> None:
    driver, _ = _make(OPEN, model="r30")
    cleanup(driver)
    with pytest.raises(ConfigError, match="reports X100"):
        driver.open()
    assert not driver.is_open


def test_open_disables_an_enabled_unit(cleanup: Any) -> None:
    script = [
        (GET_STATUS, status(ENABLED)),
        (mv(2, 0), mv(3, 25, 60, DISABLED)),  # first, before the model checks
        (GET_STATUS, status()),
        (GET_STATUS, status()),
    ]
    driver, port = _make(script)
    cleanup(driver)
    assert driver.open().arm_state is ArmState.STANDBY
    assert driver.found_armed_at_open == (
        "the MagPro on scripted:// was found armed (left by a crashed session?) and was disarmed"
    )
    port.assert_done()


def test_open_disables_an_enabled_unit_even_when_the_model_is_wrong(cleanup: Any) -> None:
    script = [
        (GET_STATUS, status(ENABLED)),
        (mv(2, 0), mv(3, 25, 60, DISABLED)),
        (GET_STATUS, status()),
    ]
    driver, port = _make(script, model="r30")
    cleanup(driver)
    with pytest.raises(ConfigError, match="reports X100"):
        driver.open()
    port.assert_done()  # the disable went out before the refusal


def test_open_of_a_unit_in_standby_reports_nothing(cleanup: Any) -> None:
    driver, _ = _make(OPEN)
    cleanup(driver)
    driver.open()
    assert driver.found_armed_at_open is None


def test_intensity_is_set_with_both_amplitudes_and_verified(cleanup: Any) -> None:
    script = [
        *OPEN,
        (GET_STATUS, status(a=50, b=0)),
        (mv(1, 60, 0), mv(1, 60, 0, DISABLED)),
        (GET_STATUS, status(a=60, b=0)),  # read back at once (issue 12 item 1)
        (GET_MODE, mode()),
    ]
    driver, port = _make(script)
    cleanup(driver)
    driver.open()
    driver.set_intensity(60)
    port.assert_done()


def test_intensity_the_device_did_not_take_is_an_error(cleanup: Any) -> None:
    script = [*OPEN, (GET_STATUS, status()), (mv(1, 60, 0), b""), (GET_STATUS, status(a=50))]
    script += [(GET_MODE, mode()), (mv(2, 0), b""), (GET_STATUS, status())]  # + safe stop
    driver, _ = _make(script)
    cleanup(driver)
    driver.open()
    with pytest.raises(OutputStateMismatch, match="power_a reads 50, planned 60"):
        driver.set_intensity(60)


def test_arm_puts_a_unit_left_in_dual_mode_back_to_standard_and_b_off(cleanup: Any) -> None:
    """MagOption unit left in Dual mode, B 100 %, monophasic: set back before enabling."""
    option = 3 << 5  # X100+Option (B3)
    st = DISABLED & 0x1F  # Standard, Biphasic, disabled
    left = status(option | 0x03, a=46, b=100)  # Dual, Monophasic (B3 status bits)
    script = [
        (GET_STATUS, left),
        (GET_STATUS, left),
        (GET_STATUS, left),  # set_intensity: current amplitudes
        (mv(1, 46, 100), b""),
        (GET_STATUS, left),
        (GET_MODE, mode(model=3, mode_=3, waveform=0)),
        (GET_STATUS, left),  # arm: precondition read
        (GET_STATUS, left),  # arm: what the unit holds now
        (GET_MODE, mode(model=3, mode_=3, waveform=0)),
        (GET_MODE, mode(model=3, mode_=3, waveform=0)),
        (set_mode(model=3), b""),
        (GET_STATUS, left),
        (mv(1, 46, 0), b""),
        (GET_STATUS, status(st | option, a=46, b=0)),
        (GET_MODE, mode(model=3)),
        (mv(2, 1), b""),
        (GET_STATUS, status(ENABLED | option, a=46, b=0)),
    ]
    driver, port = _make(script, model="x100", option="true")
    cleanup(driver)
    driver.open()
    driver.set_intensity(46)
    driver.arm()
    port.assert_done()


def test_arm_refuses_a_unit_that_keeps_its_waveform(cleanup: Any) -> None:
    script = [
        *OPEN,
        (GET_STATUS, status(a=46)),
        (mv(1, 46, 0), b""),
        (GET_STATUS, status(a=46)),
        (GET_MODE, mode(waveform=0)),
        (GET_STATUS, status(a=46)),  # arm: precondition read
        (GET_STATUS, status(a=46)),  # arm: what the unit holds now
        (GET_MODE, mode(waveform=0)),
        (GET_MODE, mode(waveform=0)),
        (set_mode(), b""),
        (GET_STATUS, status(a=46)),
        (GET_STATUS, status(a=46)),
        (GET_MODE, mode(waveform=0)),  # still monophasic
    ]
    driver, port = _make(script)
    cleanup(driver)
    driver.open()
    driver.set_intensity(46)
    with pytest.raises(OutputStateMismatch, match="waveform reads 0, planned 1"):
        driver.arm()
    port.assert_done()  # no enable went out


def test_out_of_range_intensity_writes_nothing(cleanup: Any) -> None:
    driver, port = _make(OPEN)
    cleanup(driver)
    driver.open()
    with pytest.raises(SafetyViolation):
        driver.set_intensity(101)
    port.assert_done()


def test_arm_fire_counts_pulses_from_unsolicited_didt_and_close_disables(cleanup: Any) -> None:
    enable_burst = mv(1, 50, 0, ENABLED) + mv(3, 25, 60, ENABLED) + mv(1, 50, 0, ENABLED)
    script = [
        *OPEN,
        (GET_STATUS, status(a=50)),
        (mv(1, 50, 0), b""),
        (GET_STATUS, status(a=50)),
        (GET_MODE, mode()),
        (GET_STATUS, status()),  # arm: precondition read
        (GET_STATUS, status()),
        (GET_MODE, mode()),
        (GET_MODE, mode()),
        (set_mode(), b""),
        (GET_STATUS, status()),
        (GET_STATUS, status()),
        (GET_MODE, mode()),
        (mv(2, 1), enable_burst),
        (GET_STATUS, status(ENABLED)),
        (GET_STATUS, status(ENABLED)),
        (mv(3, 1), mv(2, 80, 0, ENABLED)),
        (mv(2, 0), mv(3, 25, 60, DISABLED)),
    ]
    driver, port = _make(script)
    cleanup(driver)
    driver.open()
    driver.set_intensity(50)
    assert driver.arm().arm_state is ArmState.READY
    driver.fire()
    deadline = time.monotonic() + 2
    while driver.pulses_seen < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert driver.pulses_seen == 1
    latest = driver.latest(2)
    assert latest is not None and latest.didt_a == 80
    driver.close()
    assert not port.remaining  # the disable went out; its reply may be left unread


def test_fire_when_disabled_writes_nothing(cleanup: Any) -> None:
    driver, port = _make([*OPEN, (GET_STATUS, status())])
    cleanup(driver)
    driver.open()
    with pytest.raises(StateError):
        driver.fire()
    port.assert_done()


def test_train_goes_to_the_timing_page_then_starts(cleanup: Any) -> None:
    script = [
        *OPEN,
        (GET_STATUS, status()),
        (mv(7, 2, 0), mv(8, 2, 0, DISABLED)),
        (mv(6, 0, 100, 0, 5, 0, 1, 0, 10), b""),
        (GET_STATUS, status(ENABLED)),
        (mv(7, 2, 0), b""),
        (mv(4), mv(8, 2, 1, ENABLED)),
    ]
    driver, port = _make(script)
    cleanup(driver)
    driver.open()
    driver.configure_train(TrainSpec(frequency_hz=10.0, pulses=5))
    driver.start_train()
    time.sleep(0.05)
    port.assert_done()


def test_fractional_rate_above_one_pps_is_refused(cleanup: Any) -> None:
    driver, _ = _make([*OPEN, (GET_STATUS, status()), (mv(7, 2, 0), b"")])
    cleanup(driver)
    driver.open()
    with pytest.raises(SafetyViolation, match="whole"):
        driver.configure_train(TrainSpec(frequency_hz=2.5, pulses=5))


def test_corrupted_reply_is_a_checksum_error_not_a_timeout(cleanup: Any) -> None:
    bad = bytearray(status())
    bad[-2] ^= 0x01
    driver, _ = _make([(GET_STATUS, bytes(bad))])
    cleanup(driver)
    with pytest.raises(ChecksumError):
        driver.open()


def test_missing_reply_is_a_timeout(cleanup: Any) -> None:
    driver, _ = _make([(GET_STATUS, b"")])
    cleanup(driver)
    with pytest.raises(DeviceTimeout):
        driver.open()


def test_pulled_cable_is_reported_by_the_reader(cleanup: Any) -> None:
    driver, port = _make(OPEN)
    cleanup(driver)
    driver.open()
    faults: list[StimctlError] = []
    seen = threading.Event()

    def on_fault(exc: StimctlError) -> None:
        faults.append(exc)
        seen.set()

    driver.on_fault = on_fault
    port.pull_cable()
    assert seen.wait(2.0)
    assert isinstance(faults[0], ConnectionLost)
    with pytest.raises(ConnectionLost):
        driver.status()
    assert not driver.safe_stop().disarmed


def test_option_strings_from_device_profiles_are_understood() -> None:
    driver = MagProDriver("loop://", model="x100", option="true")
    assert driver.capabilities().outputs == ("A", "B")
    with pytest.raises(ConfigError):
        MagProDriver("loop://", option="maybe")
    with pytest.raises(ConfigError):
        MagProDriver("loop://", model="x200")
