"""Magstim drivers end to end over a scripted port: open/close, arm/fire rules,
keep-alive, Rapid versions and trains, faults."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from drivers.magstim import BiStimDriver, Magstim200Driver, RapidDriver
from stimctl.clock import VirtualClock
from stimctl.errors import (
    ConfigError,
    ConnectionLost,
    DeviceRejected,
    DeviceTimeout,
    OutputStateMismatch,
    SafetyViolation,
    StateError,
    StimctlError,
)
from stimctl.hal import ArmState, OutputPlan, PairedPulse, ScriptedPort, TrainSpec, Transport
from tests.drivers.magstim_frames import (
    ARM,
    ARMED,
    DISARM,
    FIRE,
    ND,
    PARAMS,
    READY,
    STANDBY,
    F,
    Q,
    R,
    X,
    ms,
    rapid_params,
    reply,
    temp_reply,
    x_reply,
)

UNLOCK = "abcd-0123abcd-5e"
J = ms(b"J@")
BISTIM_MODE = ms(b"X@")


def j_reply(a: int, b: int = 0, interval: int = 0, status: int = STANDBY) -> bytes:
    """`J` reply: power A, power B, interval (A4; a 200² sends "000000" after A)."""
    return reply(b"J", status, b"%03d%03d%03d" % (a, b, interval))


def _set_30(status: int = STANDBY) -> list[tuple[bytes, bytes]]:
    """set_intensity(30) on a 200²: `@030`, then the `J` read-back (issue 12 item 1)."""
    return [(ms(b"@030"), reply(b"@", status)), (J, j_reply(30, status=status))]


def _make(cls: Any, script: list[tuple[bytes, bytes]], **options: Any) -> tuple[Any, ScriptedPort]:
    port = ScriptedPort(script)
    options.setdefault("keepalive", False)
    options.setdefault("reply_timeout_s", 0.1)
    driver = cls("scripted://", clock=VirtualClock(), transport=Transport(port), **options)
    return driver, port


def _open_200() -> list[tuple[bytes, bytes]]:
    return [(Q, reply(b"Q", STANDBY)), (Q, reply(b"Q", STANDBY)), (F, temp_reply())]


def _open_rapid10() -> list[tuple[bytes, bytes]]:
    code = ms(b"Q" + UNLOCK.encode())
    version = ms(b"NV10.0\x00")
    return [(ND, version), (code, reply(b"Q", STANDBY)), (X, x_reply()), (F, temp_reply())]


def test_open_takes_remote_control_and_reports_standby() -> None:
    driver, port = _make(Magstim200Driver, _open_200())
    status = driver.open()
    assert status.arm_state is ArmState.STANDBY and status.remote_control
    assert status.coil_temperature_c == 24.0
    port.assert_done()


def test_open_disarms_a_unit_found_ready() -> None:
    script = [(Q, reply(b"Q", READY)), (Q, reply(b"Q", READY)), (F, temp_reply(READY))]
    script += [(DISARM, reply(b"E", READY)), (Q, reply(b"Q", STANDBY))]
    driver, port = _make(Magstim200Driver, script)
    assert driver.open().arm_state is ArmState.STANDBY
    port.assert_done()


def test_fire_in_standby_writes_nothing() -> None:
    driver, port = _make(Magstim200Driver, [*_open_200(), (Q, reply(b"Q", STANDBY))])
    driver.open()
    with pytest.raises(StateError, match="cannot fire"):
        driver.fire()
    port.assert_done()  # no `EH` went out


def test_arm_wait_ready_fire_and_close() -> None:
    script = [
        *_open_200(),
        *_set_30(),
        (Q, reply(b"Q", STANDBY)),  # arm: precondition read
        (J, j_reply(30)),  # arm: what does the unit hold? A as planned: not re-sent
        (J, j_reply(30)),  # arm: read back the whole output state first
        (ARM, reply(b"E", STANDBY)),
        (Q, reply(b"Q", ARMED)),
        (Q, reply(b"Q", ARMED)),  # wait_ready polls
        (Q, reply(b"Q", READY)),
        (Q, reply(b"Q", READY)),  # fire: precondition read
        (FIRE, reply(b"E", READY)),
        (DISARM, reply(b"E", ARMED)),  # close: disarm, then release remote control
        (R, reply(b"R", 0x09)),
    ]
    driver, port = _make(Magstim200Driver, script)
    driver.open()
    driver.set_intensity(30)
    assert driver.arm().arm_state is ArmState.ARMED
    assert driver.wait_ready(timeout_s=2.0, poll_s=0.1).arm_state is ArmState.READY
    driver.fire()
    driver.close()
    port.assert_done()


def test_arm_needs_an_intensity_first() -> None:
    driver, port = _make(Magstim200Driver, [*_open_200(), (Q, reply(b"Q", STANDBY))])
    driver.open()
    with pytest.raises(StateError, match="intensity"):
        driver.arm()
    port.assert_done()  # no `EB` went out


def test_arm_refuses_a_power_the_device_does_not_hold() -> None:
    """The unit acknowledged `@030` but reads 45 %: not armed, parameter and values named."""
    script = [*_open_200(), *_set_30()]
    script += [(Q, reply(b"Q", STANDBY)), (J, j_reply(45)), (ms(b"@030"), reply(b"@", STANDBY))]
    script += [(J, j_reply(45))]
    driver, port = _make(Magstim200Driver, script)
    driver.open()
    driver.set_intensity(30)
    with pytest.raises(OutputStateMismatch, match="power_a reads 45, planned 30") as info:
        driver.arm()
    assert (info.value.parameter, info.value.wanted, info.value.read) == ("power_a", 30, 45)
    port.assert_done()  # no `EB` went out


def test_arm_when_already_ready_sends_no_second_arm() -> None:
    # A second `EB` would be a conflict reply (device-protocols M11); the output state is
    # still read back, without changing anything.
    script = [
        *_open_200(),
        *_set_30(READY),
        (Q, reply(b"Q", READY)),
        (J, j_reply(30, status=READY)),
    ]
    driver, port = _make(Magstim200Driver, script)
    driver.open()
    driver.set_intensity(30)
    driver.arm()
    port.assert_done()


def test_conflict_reply_is_device_rejected() -> None:
    script = [*_open_200(), *_set_30(), (Q, reply(b"Q", STANDBY))]
    script += [(J, j_reply(30)), (J, j_reply(30)), (ARM, b"ESg")]
    driver, _ = _make(Magstim200Driver, script)
    driver.open()
    driver.set_intensity(30)
    with pytest.raises(DeviceRejected, match="conflicts"):
        driver.arm()


@pytest.mark.parametrize("percent", [101, -1, 50.5])
def test_power_out_of_range_is_refused_before_any_byte(percent: float) -> None:
    driver, port = _make(Magstim200Driver, _open_200())
    driver.open()
    with pytest.raises(SafetyViolation):
        driver.set_intensity(percent)
    port.assert_done()


def _open_bistim(high_res: bool, mode: bytes = b"4") -> list[tuple[bytes, bytes]]:
    timing = ms(b"Y@") if high_res else ms(b"Z@")
    return [
        (Q, reply(b"Q", STANDBY)),
        (timing, reply(timing[:1], STANDBY)),  # timing mode set explicitly at open
        (BISTIM_MODE, reply(b"X", STANDBY, mode)),  # does the unit answer `X@`? (A3, CB)
        (Q, reply(b"Q", STANDBY)),
        (F, temp_reply()),
    ]


def test_bistim_paired_plan_sets_b_and_interval_in_its_timing_mode_before_arming() -> None:
    script = [
        *_open_bistim(high_res=True),
        (ms(b"@040"), reply(b"@", STANDBY)),
        (J, j_reply(40, 30, 10)),  # set_intensity reads back at once
        (BISTIM_MODE, reply(b"X", STANDBY, b"4")),
        (Q, reply(b"Q", STANDBY)),  # plan_output: standby only
        (Q, reply(b"Q", STANDBY)),  # arm: precondition read
        (J, j_reply(40, 30, 10)),  # arm: what the unit holds now
        (BISTIM_MODE, reply(b"X", STANDBY, b"4")),
        (ms(b"Y@"), reply(b"Y", STANDBY)),  # timing first: it resets the interval (A7)
        (ms(b"C025"), reply(b"C", STANDBY)),  # 2.5 ms in 0.1 ms units
        (ms(b"A050"), reply(b"A", STANDBY)),
        (J, j_reply(40, 50, 25)),
        (BISTIM_MODE, reply(b"X", STANDBY, b"4")),
        (ARM, reply(b"E", STANDBY)),
        (Q, reply(b"Q", ARMED)),
    ]
    driver, port = _make(BiStimDriver, script, high_res=True)
    driver.open()
    driver.set_intensity(40)
    with pytest.raises(SafetyViolation):
        driver.plan_output(OutputPlan(paired=PairedPulse(50, 100.0)))  # > 99.9 ms high-res
    with pytest.raises(SafetyViolation):
        driver.plan_output(OutputPlan(paired=PairedPulse(50, 2.55)))  # not 0.1 ms steps
    driver.plan_output(OutputPlan(paired=PairedPulse(50, 2.5)))
    driver.arm()
    port.assert_done()


def test_bistim_left_paired_is_put_back_to_single_pulse_before_arming() -> None:
    """B at 100 % and 3 ms from an earlier study: B 0 %, low-res, 10 ms, then armed."""
    script = [
        *_open_bistim(high_res=False, mode=b"2"),
        (ms(b"@046"), reply(b"@", STANDBY)),
        (J, j_reply(46, 100, 3)),
        (BISTIM_MODE, reply(b"X", STANDBY, b"2")),
        (Q, reply(b"Q", STANDBY)),
        (J, j_reply(46, 100, 3)),
        (BISTIM_MODE, reply(b"X", STANDBY, b"2")),
        (ms(b"Z@"), reply(b"Z", STANDBY)),
        (ms(b"C010"), reply(b"C", STANDBY)),
        (ms(b"A000"), reply(b"A", STANDBY)),
        (J, j_reply(46, 0, 10)),
        (BISTIM_MODE, reply(b"X", STANDBY, b"2")),
        (ARM, reply(b"E", STANDBY)),
        (Q, reply(b"Q", ARMED)),
    ]
    driver, port = _make(BiStimDriver, script)
    driver.open()
    driver.set_intensity(46)
    driver.arm()
    port.assert_done()


def test_bistim_whose_b_power_stays_at_100_is_not_armed() -> None:
    script = [
        *_open_bistim(high_res=False, mode=b"2"),
        (ms(b"@046"), reply(b"@", STANDBY)),
        (J, j_reply(46, 100, 3)),
        (BISTIM_MODE, reply(b"X", STANDBY, b"2")),
        (Q, reply(b"Q", STANDBY)),
        (J, j_reply(46, 100, 3)),
        (BISTIM_MODE, reply(b"X", STANDBY, b"2")),
        (ms(b"Z@"), reply(b"Z", STANDBY)),
        (ms(b"C010"), reply(b"C", STANDBY)),
        (ms(b"A000"), reply(b"A", STANDBY)),  # acknowledged ...
        (J, j_reply(46, 100, 10)),  # ... but B still reads 100 %
        (BISTIM_MODE, reply(b"X", STANDBY, b"2")),
    ]
    driver, port = _make(BiStimDriver, script)
    driver.open()
    driver.set_intensity(46)
    with pytest.raises(OutputStateMismatch, match="power_b reads 100, planned 0"):
        driver.arm()
    port.assert_done()  # no `EB` went out


def test_bistim_output_b_stays_off_in_a_single_pulse_plan() -> None:
    driver, port = _make(BiStimDriver, _open_bistim(high_res=False, mode=b"2"))
    driver.open()
    with pytest.raises(ConfigError, match="paired"):
        driver.set_intensity(50, output="B")
    port.assert_done()


def test_200_has_no_output_b() -> None:
    driver, _ = _make(Magstim200Driver, _open_200())
    driver.open()
    with pytest.raises(ConfigError):
        driver.set_intensity(50, output="B")


def test_keepalive_period_is_short_when_armed() -> None:
    script = [
        *_open_200(),
        *_set_30(),
        (Q, reply(b"Q", STANDBY)),
        (J, j_reply(30)),
        (J, j_reply(30)),
        (ARM, reply(b"E", STANDBY)),
        (Q, reply(b"Q", ARMED)),
        (Q, reply(b"Q", READY)),  # the keep-alive 0.5 s later
    ]
    driver, port = _make(Magstim200Driver, script)
    driver.open()
    driver.set_intensity(30)
    driver.arm()
    driver.clock.advance(0.4)
    assert not driver.keepalive_tick()
    driver.clock.advance(0.11)
    assert driver.keepalive_tick()
    port.assert_done()


def test_keepalive_thread_keeps_control_and_stops_on_close() -> None:
    script = [*_open_200(), (Q, reply(b"Q", STANDBY))]
    script += [(DISARM, reply(b"E", STANDBY)), (R, reply(b"R", 0x09))]
    driver, port = _make(Magstim200Driver, script, keepalive=True)
    driver.open()
    assert driver.keepalive.running
    driver.clock.advance(0.51)  # idle period: the 500 ms Magstim recommends (A6)
    deadline = time.monotonic() + 2
    while driver.keepalive.sent < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert driver.keepalive.sent == 1
    driver.close()
    assert not driver.keepalive.running
    port.assert_done()


def test_pulled_cable_during_keepalive_is_reported_and_blocks_commands() -> None:
    driver, port = _make(Magstim200Driver, _open_200(), keepalive=True)
    faults: list[StimctlError] = []
    seen = threading.Event()
    driver.open()

    def on_fault(exc: StimctlError) -> None:
        faults.append(exc)
        seen.set()

    driver.on_fault = on_fault
    port.pull_cable()
    driver.clock.advance(6.0)
    assert seen.wait(2.0)
    assert isinstance(faults[0], ConnectionLost)
    with pytest.raises(ConnectionLost):
        driver.status()
    report = driver.safe_stop()
    assert not report.disarmed and report.error
    driver.close()  # never raises on a dead link


def test_silent_device_times_out_instead_of_hanging() -> None:
    driver, _ = _make(Magstim200Driver, [(Q, b"")])
    with pytest.raises(DeviceTimeout):
        driver.open()
    assert not driver.is_open


def test_rapid_reads_version_uses_unlock_code_and_x_keepalive() -> None:
    driver, port = _make(RapidDriver, [*_open_rapid10(), (X, x_reply())], unlock_code=UNLOCK)
    driver.open()
    assert driver.version == (10, 0)
    assert driver.identify().software_version == "10.0"
    driver.clock.advance(0.51)
    assert driver.keepalive_tick()
    port.assert_done()


def test_rapid_v9_without_unlock_code_names_the_likely_cause() -> None:
    driver, _ = _make(RapidDriver, [(Q, b"")], version="9.0")
    with pytest.raises(DeviceTimeout, match="unlock code"):
        driver.open()


def test_rapid_pre_v9_uses_q_as_keepalive() -> None:
    script = [(Q, reply(b"Q", STANDBY)), (Q, reply(b"Q", STANDBY)), (F, temp_reply())]
    driver, port = _make(RapidDriver, [*script, (Q, reply(b"Q", STANDBY))], version="8.0")
    driver.open()
    driver.clock.advance(0.51)
    assert driver.keepalive_tick()
    port.assert_done()


def _train_script(held_pulses: int = 100) -> list[tuple[bytes, bytes]]:
    return [
        (X, x_reply()),  # precondition: standby
        (PARAMS, rapid_params(0x38, 50, 0, 1, 0)),  # single-pulse mode
        (ms(b"[0010"), reply(b"[", STANDBY, b"\x30")),  # 1.0 s enters train mode (A8.2)
        (ms(b"B0100"), reply(b"B", STANDBY, b"\x30")),
        (ms(b"[0100"), reply(b"[", STANDBY, b"\x30")),
        (ms(b"D00100"), reply(b"D", STANDBY, b"\x30")),
        (PARAMS, rapid_params(0x30, 50, 100, held_pulses, 100)),  # read back
    ]


def test_rapid_train_is_loaded_in_order_and_read_back() -> None:
    script = (
        _open_rapid10()
        + _train_script()
        + [
            (X, x_reply(READY, 0x30)),  # start_train precondition
            (FIRE, reply(b"E", READY)),
        ]
    )
    driver, port = _make(RapidDriver, script, unlock_code=UNLOCK)
    driver.open()
    driver.configure_train(TrainSpec(frequency_hz=10.0, pulses=100, duration_s=10.0))
    driver.start_train()
    port.assert_done()


def test_rapid_train_the_device_did_not_take_is_an_error() -> None:
    driver, _ = _make(
        RapidDriver, [*_open_rapid10(), *_train_script(held_pulses=99)], unlock_code=UNLOCK
    )
    driver.open()
    with pytest.raises(DeviceRejected, match="holds"):
        driver.configure_train(TrainSpec(frequency_hz=10.0, pulses=100, duration_s=10.0))


def test_rapid_fire_in_train_mode_is_refused() -> None:
    script = [*_open_rapid10(), *_train_script(), (X, x_reply(READY, 0x30))]
    driver, port = _make(RapidDriver, script, unlock_code=UNLOCK)
    driver.open()
    driver.configure_train(TrainSpec(frequency_hz=10.0, pulses=100, duration_s=10.0))
    with pytest.raises(ConfigError, match="train mode"):
        driver.fire()
    port.assert_done()


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        (TrainSpec(frequency_hz=10.0, pulses=100), ConfigError),  # no duration
        (TrainSpec(frequency_hz=10.0, pulses=90, duration_s=10.0), ConfigError),  # mismatch
        (TrainSpec(frequency_hz=60.0, pulses=60, duration_s=1.0), SafetyViolation),  # > 50 Hz
        (TrainSpec(frequency_hz=10.25, pulses=41, duration_s=4.0), SafetyViolation),
    ],
)
def test_rapid_train_values_are_refused_not_adjusted(
    spec: TrainSpec, error: type[Exception]
) -> None:
    driver, port = _make(RapidDriver, [*_open_rapid10(), (X, x_reply())], unlock_code=UNLOCK)
    driver.open()
    with pytest.raises(error):
        driver.configure_train(spec)
    assert b"B0" not in bytes(port.written)


def test_rapid_charge_delay_limits_follow_the_version() -> None:
    driver, _ = _make(RapidDriver, _open_rapid10(), unlock_code=UNLOCK)
    driver.open()
    with pytest.raises(SafetyViolation):
        driver.set_charge_delay(10001)


def test_rapid_enhanced_power_raises_the_range_to_110() -> None:
    script = [
        *_open_rapid10(),
        (X, x_reply()),
        (PARAMS, rapid_params(0x38, 50, 0, 1, 0)),
        (ms(b"^@"), reply(b"^", STANDBY, b"\x39")),
        (ms(b"@110"), reply(b"@", STANDBY)),
        (PARAMS, rapid_params(0x39, 110, 0, 1, 0)),  # read back at once
    ]
    driver, port = _make(RapidDriver, script, unlock_code=UNLOCK)
    driver.open()
    assert driver.capabilities().output_range_pct == (0, 100)
    driver.set_enhanced_power(True)
    assert driver.capabilities().output_range_pct == (0, 110)
    driver.set_intensity(110)
    port.assert_done()


def test_rapid_error_bit_reads_the_error_code() -> None:
    error_status = STANDBY | 0x20
    script = [
        (ND, ms(b"NV10.0\x00")),
        (ms(b"Q" + UNLOCK.encode()), reply(b"Q", STANDBY)),
        (X, x_reply(error_status)),
        (F, temp_reply(error_status)),
        (ms(b"I@"), reply(b"I", error_status, b"E01")),
    ]
    driver, port = _make(RapidDriver, script, unlock_code=UNLOCK)
    assert driver.open().error_code == "E01"
    port.assert_done()


@pytest.mark.parametrize(
    ("mains", "rapid_type", "power", "hz"),
    [
        (240, 0, 73, 20.0),
        (240, 0, 50, 30.0),
        (240, 1, 99, 26.0),
        (240, 1, 100, 25.0),
        (240, 2, 100, 41.0),
        (115, 0, 0, 36.0),
        (115, 2, 100, 25.0),
        (240, 0, 110, 0.0),
    ],
)
def test_rapid_frequency_table_matches_the_reference(
    mains: int, rapid_type: int, power: int, hz: float
) -> None:
    from drivers.magstim.rapid_tables import max_frequency_hz

    assert max_frequency_hz(mains, rapid_type, power) == hz


def test_rapid_train_faster_than_the_power_allows_is_refused() -> None:
    script = [
        *_open_rapid10(),
        (X, x_reply()),
        (PARAMS, rapid_params(0x38, 50, 0, 1, 0)),  # 50 %: at most 30 Hz on a Rapid² (A9)
    ]
    driver, port = _make(RapidDriver, script, unlock_code=UNLOCK)
    driver.open()
    with pytest.raises(SafetyViolation, match=r"30\.0 Hz at 50 %"):
        driver.configure_train(TrainSpec(frequency_hz=35.0, pulses=35, duration_s=1.0))
    port.assert_done()


def test_rapid_power_raise_above_the_train_frequency_limit_writes_nothing() -> None:
    script = [
        *_open_rapid10(),
        (X, x_reply()),
        (PARAMS, rapid_params(0x38, 30, 0, 1, 0)),
        (ms(b"[0010"), reply(b"[", STANDBY, b"\x30")),
        (ms(b"B0400"), reply(b"B", STANDBY, b"\x30")),
        (ms(b"[0010"), reply(b"[", STANDBY, b"\x30")),
        (ms(b"D00040"), reply(b"D", STANDBY, b"\x30")),
        (PARAMS, rapid_params(0x30, 30, 400, 40, 10)),
    ]
    driver, port = _make(RapidDriver, script, unlock_code=UNLOCK)
    driver.open()
    driver.configure_train(TrainSpec(frequency_hz=40.0, pulses=40, duration_s=1.0))
    with pytest.raises(SafetyViolation, match=r"at most 30\.0 Hz"):
        driver.set_intensity(50)  # 40 Hz needs <= 40 % on a 240 V Rapid²
    port.assert_done()
