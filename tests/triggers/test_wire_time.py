"""Wire time in the byte-level simulators (issue 18 item 5): 10 bits per byte at the
device's baud rate, 9600 for a Magstim (device-protocols A1), 38400 for a MagPro (B1),
in both directions, one byte after another. On the virtual clock, so exact."""

from __future__ import annotations

import pytest

import simulators
from stimctl.clock import VirtualClock
from tests.simulators.conftest import magpro, magstim

MAGSTIM_BYTE_S = 10 / 9600
MAGPRO_BYTE_S = 10 / 38400


def test_byte_time_follows_the_documented_baud_rates() -> None:
    assert simulators.create_simulator("magstim-rapid2").byte_time_s == MAGSTIM_BYTE_S
    assert simulators.create_simulator("magpro-x100").byte_time_s == MAGPRO_BYTE_S


def test_a_magstim_command_arrives_after_its_bytes_and_the_reply_comes_byte_by_byte() -> None:
    clock = VirtualClock()
    sim = simulators.create_simulator("magstim-200?wire_time=1", clock)
    sim.write(magstim(b"Q@"))  # 3 bytes: enable remote control (A4)
    clock.advance(3 * MAGSTIM_BYTE_S * 0.99)
    sim.poll()
    assert not sim.state.remote  # the checksum byte is still on the wire
    clock.sleep_until(3 * MAGSTIM_BYTE_S + 1e-9)
    sim.poll()
    assert sim.state.remote
    assert sim.read(10) == b""  # the reply's first byte needs one byte time
    got = b""
    for k in range(1, 4):
        clock.sleep_until(3 * MAGSTIM_BYTE_S + k * MAGSTIM_BYTE_S + 1e-9)
        got += sim.read(10)
        assert len(got) == k
    assert got[:1] == b"Q" and len(got) == 3


def test_without_wire_time_bytes_cross_at_once() -> None:
    clock = VirtualClock()
    sim = simulators.create_simulator("magstim-200", clock)
    sim.write(magstim(b"Q@"))
    sim.poll()
    assert sim.state.remote
    assert len(sim.read(10)) == 3


def test_back_to_back_writes_queue_on_the_wire() -> None:
    """A second command written while the first is still on the wire waits its turn;
    the line is full duplex, so the first reply comes down while it goes up."""
    clock = VirtualClock()
    sim = simulators.create_simulator("magstim-200?wire_time=1", clock)
    sim.write(magstim(b"Q@"))
    sim.write(magstim(b"Q@"))
    clock.sleep_until(6 * MAGSTIM_BYTE_S - 1e-9)
    assert len(sim.read(20)) == 2  # first reply: bytes at 4 and 5 byte times
    clock.sleep_until(9 * MAGSTIM_BYTE_S + 1e-9)
    assert len(sim.read(20)) == 4  # its last byte, then the second reply at 7, 8, 9


def test_the_round_trip_of_a_magpro_status_is_its_bytes_at_38400_baud() -> None:
    clock = VirtualClock()
    sim = simulators.create_simulator("magpro-x100?wire_time=1", clock)
    request = magpro(b"\x00")  # get status (B4): 5 bytes
    sim.write(request)
    reply = b""
    while len(reply) == 0 or (sim.next_wakeup() is not None and len(reply) < 8):
        wake = sim.next_wakeup()
        if wake is None:
            break
        clock.sleep_until(wake)
        reply += sim.read(64)
    assert reply[0] == 0xFE
    # request in (5 bytes), then the whole reply out: the last byte lands at
    # (5 + len(reply)) byte times after the write
    assert clock.now() == pytest.approx((len(request) + len(reply)) * MAGPRO_BYTE_S)


def test_the_wire_time_key_is_a_flag() -> None:
    assert simulators.create_simulator("magpro-r30?wire_time=1").wire_time
    assert not simulators.create_simulator("magpro-r30?wire_time=0").wire_time
    assert not simulators.create_simulator("magpro-r30").wire_time
