"""Shared helpers for the simulator tests: a virtual clock and frame builders.

The frame builders are written here from device-protocols A2 / B2, not imported from
the simulators, so a checksum bug in a simulator cannot hide behind the same bug here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import serial

import simulators
from simulators.core import SimulatorBase
from simulators.urlhandler import protocol_stimsim
from stimctl.clock import VirtualClock


def magstim(text: bytes) -> bytes:
    """A Magstim frame: the bytes plus NOT(sum) & 0xFF (device-protocols A2)."""
    return text + bytes([~sum(text) & 0xFF])


def crc8(payload: bytes) -> int:
    crc = 0
    for byte in payload:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
    return crc


def magpro(payload: bytes) -> bytes:
    """A MagPro frame: FE LEN payload CRC-8/MAXIM FF (device-protocols B2)."""
    return bytes([0xFE, len(payload)]) + payload + bytes([crc8(payload), 0xFF])


def split_magpro(data: bytes) -> list[bytes]:
    """Payloads of back-to-back MagPro frames, checking LEN, CRC and end byte."""
    out = []
    while data:
        assert data[0] == 0xFE, data.hex(" ")
        n = data[1]
        payload, crc, end = data[2 : 2 + n], data[2 + n], data[3 + n]
        assert end == 0xFF and crc == crc8(payload), data.hex(" ")
        out.append(payload)
        data = data[n + 4 :]
    return out


def sim_of(port: serial.SerialBase) -> SimulatorBase:
    """The live simulator behind a `stimsim://` port."""
    assert isinstance(port, protocol_stimsim.Serial)
    assert port.simulator is not None
    return port.simulator


def exchange(sim: SimulatorBase, sent: bytes) -> bytes:
    sim.write(sent)
    return sim.read(10_000)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=1000.0)


@pytest.fixture
def url_clock(clock: VirtualClock) -> Iterator[str]:
    """The URL handler installed and `clock` registered; yields the clock's name."""
    simulators.install_url_handler()
    simulators.register_clock("test", clock)
    yield "test"
    simulators.unregister_clock("test")


@pytest.fixture
def no_url_handler() -> Iterator[None]:
    simulators.uninstall_url_handler()
    yield
    simulators.uninstall_url_handler()
    assert "simulators.urlhandler" not in serial.protocol_handler_packages
