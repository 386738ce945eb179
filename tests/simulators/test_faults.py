"""Fault injection, through the Python API and through URL keys."""

from __future__ import annotations

import errno

import pytest
import serial

from simulators import create_simulator
from simulators.magstim import Magstim200Simulator
from simulators.magventure import MagProX100Simulator
from stimctl.clock import VirtualClock
from tests.simulators.conftest import exchange, magpro, magstim, sim_of

Q = magstim(b"Q@")


def test_drop_rate_one_silences_the_device(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    sim.faults.drop_rate = 1.0
    assert exchange(sim, Q) == b""
    assert sim.state.remote  # the device did hear the command


def test_drop_input_rate_one_means_the_device_hears_nothing(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    sim.faults.drop_input_rate = 1.0
    assert exchange(sim, Q) == b""
    assert not sim.state.remote


def test_partial_drop_is_reproducible_with_a_seed(clock: VirtualClock) -> None:
    def run() -> bytes:
        sim = create_simulator("magstim-200?seed=7&drop_rate=0.5", clock=clock)
        return b"".join(exchange(sim, Q) for _ in range(20))

    first = run()
    assert first == run()
    assert 0 < len(first) < 60


def test_corrupt_rate_flips_bits_but_keeps_the_length(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock, seed=3)
    sim.faults.corrupt_rate = 1.0
    reply = exchange(sim, Q)
    good = magstim(b"Q\x89")
    assert len(reply) == 3
    assert all(bin(a ^ b).count("1") == 1 for a, b in zip(reply, good, strict=True))


def test_reply_delay_holds_the_reply_back_on_the_clock(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    sim.faults.reply_delay_s = 0.25
    sim.write(Q)
    assert sim.read(3) == b""
    clock.advance(0.2)
    assert sim.read(3) == b""
    clock.advance(0.05)
    assert sim.read(3) == magstim(b"Q\x89")


def test_fault_values_are_checked() -> None:
    sim = Magstim200Simulator(VirtualClock())
    with pytest.raises(ValueError, match="probability"):
        sim.faults.drop_rate = 1.5
    with pytest.raises(ValueError, match="reply_delay_s"):
        sim.faults.reply_delay_s = -1


def test_ignore_disarm_answers_normally_but_stays_armed(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    exchange(sim, Q)
    exchange(sim, magstim(b"EB"))
    sim.faults.ignore_disarm = True
    assert exchange(sim, magstim(b"EA")) == magstim(b"E\x8a")
    assert sim.armed
    assert exchange(sim, Q)[1] & 0x06  # and the status says so


def test_magpro_ignore_disarm_stays_enabled(clock: VirtualClock) -> None:
    sim = MagProX100Simulator(clock)
    exchange(sim, magpro(b"\x02\x01"))
    sim.faults.ignore_disarm = True
    reply = exchange(sim, magpro(b"\x02\x00"))
    assert reply == magpro(bytes([3, 25, 60, 0x34]))
    assert sim.armed


def test_coil_removed_blocks_arming_until_interlock_ignored(clock: VirtualClock) -> None:
    sim = create_simulator("magstim-rapid2?version=8&coil_removed=1", clock=clock)
    exchange(sim, Q)
    assert exchange(sim, magstim(b"EB")) == magstim(b"ES")
    assert not exchange(sim, Q)[1] & 0x08  # coil-present bit clear
    exchange(sim, magstim(b"b@"))
    assert exchange(sim, magstim(b"EB"))[:2] == b"E\x81"


def test_error_key_in_the_url(clock: VirtualClock) -> None:
    sim = create_simulator("magstim-rapid2?version=8&error=U05", clock=clock)
    exchange(sim, Q)
    assert exchange(sim, magstim(b"I@"))[1:5] == b"\xa9U05"


def test_overheat_key_in_the_url_starts_hot(clock: VirtualClock) -> None:
    sim = create_simulator("magstim-200?coil_temp_c=41", clock=clock)
    exchange(sim, Q)
    assert exchange(sim, magstim(b"EB")) == magstim(b"ES")


def test_set_error_accepts_a_bare_number(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    sim.set_error("1")
    assert sim.state.error_code == "E01"
    with pytest.raises(ValueError, match="E01"):
        sim.set_error("bogus")


# --- a pulled cable through the in-process port ---------------------------------------


def test_pulled_cable_fails_like_a_vanished_device(url_clock: str) -> None:
    port = serial.serial_for_url(f"stimsim://magstim-200?clock={url_clock}", timeout=0.05)
    port.write(Q)
    assert port.read(3) == magstim(b"Q\x89")
    sim_of(port).pull_cable()
    with pytest.raises(serial.SerialException, match="write failed"):
        port.write(Q)
    with pytest.raises(serial.SerialException, match="disconnected"):
        port.read(3)
    with pytest.raises(OSError, match="Input/output") as caught:
        _ = port.in_waiting
    assert caught.value.errno == errno.EIO
    sim_of(port).plug_cable()
    port.write(Q)
    assert port.read(3) == magstim(b"Q\x89")


def test_cable_pulled_key_opens_a_dead_port(url_clock: str) -> None:
    port = serial.serial_for_url(f"stimsim://magpro-x100?clock={url_clock}&cable_pulled=1")
    with pytest.raises(serial.SerialException):
        port.write(magpro(b"\x00"))
