"""A bug in the I/O path is not a pulled cable (issue 14 item 6).

The transport used to turn every ValueError/TypeError/AttributeError into
`ConnectionLost`, so a programming error looked like a lost link (exit 5, "check the
cable"). Now only a port whose descriptor is gone is a lost connection.
"""

from __future__ import annotations

import os

import pytest
import serial

from stimctl.errors import ConnectionLost, EncodingError, SafetyViolation
from stimctl.hal import ScriptedPort, Transport


class _BuggyPort(ScriptedPort):
    """An open port whose read hits a programming error (not a vanished descriptor)."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def read(self, size: int = 1) -> bytes:
        raise self.error


@pytest.mark.parametrize(
    "error",
    [ValueError("bad literal"), TypeError("unsupported operand"), AttributeError("no attr")],
)
def test_a_bug_while_reading_propagates_as_itself(error: Exception) -> None:
    transport = Transport(_BuggyPort(error))
    with pytest.raises(type(error)) as raised:
        transport.read_exact(3, timeout=0.2)
    assert not isinstance(raised.value, ConnectionLost)
    assert raised.value is error


def test_a_port_whose_descriptor_vanished_is_a_lost_connection() -> None:
    controller, device = os.openpty()
    port = serial.Serial(os.ttyname(device), timeout=0.02)
    transport = Transport(port, url=os.ttyname(device))
    try:
        port.fd = None  # what pyserial's port looks like when closed under the reader
        with pytest.raises(ConnectionLost, match="the port is gone"):
            transport.read_exact(1, timeout=0.2)
    finally:
        os.close(controller)
        os.close(device)


def test_a_pulled_pty_is_still_a_lost_connection() -> None:
    controller, device = os.openpty()
    port = serial.Serial(os.ttyname(device), timeout=0.02)
    transport = Transport(port, url=os.ttyname(device))
    os.close(controller)  # the far end goes away
    try:
        with pytest.raises(ConnectionLost):
            transport.read_exact(1, timeout=0.5)
    finally:
        port.close()
        os.close(device)


def test_the_magstim_codec_raises_an_encoding_error_not_a_safety_violation() -> None:
    from drivers.magstim.codec import digits, tenths

    for call in (lambda: digits(1000, 3, "power"), lambda: digits("7", 3, "power")):  # type: ignore[arg-type]
        with pytest.raises(EncodingError) as raised:
            call()
        assert not isinstance(raised.value, SafetyViolation)
    with pytest.raises(EncodingError, match="must be a number"):
        tenths(float("nan"), "interval")


def test_the_magventure_codec_raises_an_encoding_error_not_a_safety_violation() -> None:
    from drivers.magventure.codec import rep_rate_x10

    with pytest.raises(EncodingError, match="must be a number") as raised:
        rep_rate_x10(float("inf"))
    assert not isinstance(raised.value, SafetyViolation)
