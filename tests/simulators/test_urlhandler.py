"""`stimsim://` through pyserial's own `serial_for_url`: install, specs, timeouts."""

from __future__ import annotations

import threading
import time

import pytest
import serial

import simulators
from simulators import SimSpecError, create_simulator
from stimctl.clock import MonotonicClock, VirtualClock
from stimctl.errors import ConfigError
from tests.simulators.conftest import magpro, magstim, sim_of, split_magpro

Q = magstim(b"Q@")


def test_nothing_is_installed_on_import(no_url_handler: None) -> None:
    with pytest.raises(ValueError, match="stimsim"):
        serial.serial_for_url("stimsim://magstim-200")


def test_install_is_idempotent(no_url_handler: None) -> None:
    simulators.install_url_handler()
    simulators.install_url_handler()
    assert serial.protocol_handler_packages.count("simulators.urlhandler") == 1
    port = serial.serial_for_url("stimsim://magstim-200", timeout=1)
    port.write(Q)
    assert port.read(3) == bytes.fromhex("51 89 25")


def test_round_trip_on_an_injected_clock(url_clock: str, clock: VirtualClock) -> None:
    port = serial.serial_for_url(f"stimsim://magstim-200?clock={url_clock}", timeout=0)
    port.write(Q + magstim(b"EB"))
    assert port.in_waiting == 6
    assert port.read(6) == bytes.fromhex("51 89 25 45 89 31")
    clock.advance(0.95)
    port.write(Q)
    assert port.read(3) == bytes.fromhex("51 8C 22")
    port.write(magstim(b"EH"))
    port.read(3)
    assert [p.time for p in sim_of(port).pulses] == [clock.now()]
    assert isinstance(sim_of(port).clock, VirtualClock)


def test_magpro_round_trip(url_clock: str) -> None:
    port = serial.serial_for_url(
        f"stimsim://magpro-x100?clock={url_clock}&serial=0xFEFF45", baudrate=38400, timeout=0
    )
    port.write(magpro(b"\x00"))
    assert split_magpro(port.read(13)) == [bytes.fromhex("00 24 FE FF 45 19 3C 32 00")]


def test_default_clock_is_real_monotonic_time() -> None:
    simulators.install_url_handler()
    port = serial.serial_for_url("stimsim://magstim-rapid2?version=8", timeout=1)
    assert isinstance(sim_of(port).clock, MonotonicClock)


def test_read_with_timeout_zero_returns_what_is_there(url_clock: str) -> None:
    port = serial.serial_for_url(f"stimsim://magstim-200?clock={url_clock}", timeout=0)
    assert port.read(3) == b""
    port.write(Q)
    assert port.read(10) == bytes.fromhex("51 89 25")


def test_read_with_a_timeout_returns_short_after_it(url_clock: str) -> None:
    port = serial.serial_for_url(f"stimsim://magstim-200?clock={url_clock}", timeout=0.05)
    port.write(Q)
    assert port.read(12) == bytes.fromhex("51 89 25")  # short: only 3 bytes exist
    assert port.read(1) == b""


def test_read_without_timeout_waits_for_another_threads_write() -> None:
    simulators.install_url_handler()
    port = serial.serial_for_url("stimsim://magstim-200", timeout=None)
    writer = threading.Timer(0.05, port.write, args=(Q,))
    writer.start()
    assert port.read(3) == bytes.fromhex("51 89 25")
    writer.join()


def test_read_sees_a_delayed_reply_when_its_time_comes_in_real_time() -> None:
    simulators.install_url_handler()
    port = serial.serial_for_url("stimsim://magstim-200?reply_delay_s=0.05", timeout=2)
    start = time.monotonic()
    port.write(Q)
    assert port.read(3) == bytes.fromhex("51 89 25")
    assert time.monotonic() - start < 2  # returned on the reply, not on the timeout


def test_reopening_keeps_the_same_device(url_clock: str) -> None:
    port = serial.serial_for_url(f"stimsim://magstim-200?clock={url_clock}", timeout=0)
    device = sim_of(port)
    port.write(Q)
    port.close()
    with pytest.raises(serial.PortNotOpenError):
        port.read(1)
    port.open()
    assert sim_of(port) is device
    assert port.read(3) == bytes.fromhex("51 89 25")


def test_strict_baud_garbles_a_wrong_rate(url_clock: str) -> None:
    url = f"stimsim://magpro-x100?clock={url_clock}&strict_baud=1"
    port = serial.serial_for_url(url, baudrate=9600, timeout=0)
    port.write(magpro(b"\x00"))
    assert port.read(13) == b""
    port.baudrate = 38400
    port.write(magpro(b"\x00"))
    assert len(port.read(13)) == 13


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("magstim-300", "unknown model 'magstim-300'"),
        ("magstim-200?colour=red", "unknown key(s) for magstim-200: colour"),
        ("magstim-200?version=9", "unknown key(s) for magstim-200: version"),
        ("magstim-200?drop_rate=2", "drop_rate must be 0.0..1.0"),
        ("magstim-200?seed=1&seed=2", "key 'seed' given twice"),
        ("magstim-rapid2?type=ultra", "type must be one of"),
        ("magstim-rapid2?version=nine", "version must look like"),
        ("magstim-rapid2?unlock_code=short", "16 characters"),
        ("magpro-x100?magoption=maybe", "magoption must be true/false"),
        ("magstim-200?error=bogus", "error code must be like E01"),
        ("magstim-200?clock=nobody", "no clock registered as 'nobody'"),
    ],
)
def test_bad_specs_raise_one_clear_error(spec: str, message: str) -> None:
    with pytest.raises(SimSpecError) as caught:
        create_simulator(spec)
    assert message in str(caught.value)
    assert isinstance(caught.value, ConfigError)
    assert isinstance(caught.value, serial.SerialException)


def test_bad_url_raises_from_serial_for_url() -> None:
    simulators.install_url_handler()
    with pytest.raises(serial.SerialException, match="unknown model"):
        serial.serial_for_url("stimsim://nothing")


def test_url_keeps_the_case_of_the_unlock_code(url_clock: str) -> None:
    code = "ABCD-0123abcd-5E"
    port = serial.serial_for_url(
        f"stimsim://magstim-rapid2?clock={url_clock}&version=10&unlock_code={code}", timeout=0
    )
    port.write(magstim(b"Q" + code.encode()))
    assert port.read(3) == bytes.fromhex("51 89 25")


def test_inter_byte_timeout_ends_a_read_after_a_silence(url_clock: str) -> None:
    port = serial.serial_for_url(
        f"stimsim://magstim-200?clock={url_clock}", timeout=None, inter_byte_timeout=0.02
    )
    port.write(Q)
    assert port.read(100) == bytes.fromhex("51 89 25")  # would block for ever without it


def test_a_bare_flag_key_means_on() -> None:
    sim = create_simulator("stimsim://magstim-200?ignore_disarm&keepalive_never_lapses=0")
    assert sim.faults.ignore_disarm and not sim.faults.keepalive_never_lapses
