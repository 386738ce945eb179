"""`ScriptedPort`: a pyserial port that plays an expected-message table.

The PyMeasure `ProtocolAdapter` idea on the pyserial level: each write must match the
next expected bytes exactly (a mismatch raises `ScriptMismatch` at once), and once a whole
expected write has arrived, its scripted reply becomes readable. `feed` injects unsolicited
bytes, `pull_cable` makes every later call fail like a vanished USB adapter. Shipped in
`stimctl.hal` so that out-of-tree drivers can test against their own tables.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import serial
from typing_extensions import Buffer


class ScriptMismatch(AssertionError):
    """The driver wrote bytes the script did not expect."""


class ScriptedPort(serial.SerialBase):
    """Replays `[(expected_write, reply), ...]`; checks writes byte by byte."""

    def __init__(self, script: list[tuple[bytes, bytes]] | None = None) -> None:
        self._cond = threading.Condition()
        self._script: deque[tuple[bytes, bytes]] = deque(script or [])
        self._pending_write = bytearray()
        self._rx = bytearray()
        self._cable_pulled = False
        self.written = bytearray()  # everything the driver wrote, for inspection
        super().__init__(port="scripted://", timeout=0.02)

    # -- the script ------------------------------------------------------------------

    def expect(self, sent: bytes, reply: bytes = b"") -> None:
        with self._cond:
            self._script.append((sent, reply))

    def feed(self, data: bytes) -> None:
        """Make `data` readable now, as if the device had sent it unsolicited."""
        with self._cond:
            self._rx += data
            self._cond.notify_all()

    def pull_cable(self) -> None:
        with self._cond:
            self._cable_pulled = True
            self._cond.notify_all()

    @property
    def remaining(self) -> list[tuple[bytes, bytes]]:
        with self._cond:
            return list(self._script)

    def assert_done(self) -> None:
        """Every expected write happened and every reply byte was read."""
        with self._cond:
            if self._script or self._pending_write:
                raise ScriptMismatch(
                    f"script not consumed: pending write {bytes(self._pending_write).hex(' ')}, "
                    f"{len(self._script)} exchanges left"
                )
            if self._rx:
                raise ScriptMismatch(f"unread reply bytes: {bytes(self._rx).hex(' ')}")

    # -- pyserial --------------------------------------------------------------------

    def open(self) -> None:
        self.is_open = True

    def close(self) -> None:
        self.is_open = False

    def _reconfigure_port(self) -> None:
        """Settings have no effect on a scripted port."""

    @property
    def in_waiting(self) -> int:
        self._check_alive()
        with self._cond:
            return len(self._rx)

    def read(self, size: int = 1) -> bytes:
        self._check_alive()
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        with self._cond:
            while len(self._rx) < size:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                self._cond.wait(remaining)
                self._check_alive()
            data = bytes(self._rx[:size])
            del self._rx[:size]
            return data

    def write(self, b: Buffer, /) -> int:
        self._check_alive()
        data = bytes(b)
        with self._cond:
            self.written += data
            for byte in data:
                self._take_byte(byte)
            self._cond.notify_all()
        return len(data)

    def flush(self) -> None:
        self._check_alive()

    def reset_input_buffer(self) -> None:
        self._check_alive()
        with self._cond:
            self._rx.clear()

    def reset_output_buffer(self) -> None:
        self._check_alive()

    def _take_byte(self, byte: int) -> None:
        if not self._script:
            raise ScriptMismatch(f"unexpected write {byte:02x}: script is empty")
        expected, reply = self._script[0]
        position = len(self._pending_write)
        if expected[position] != byte:
            got = bytes([*self._pending_write, byte]).hex(" ")
            raise ScriptMismatch(f"expected write {expected.hex(' ')}, got {got}")
        self._pending_write.append(byte)
        if len(self._pending_write) == len(expected):
            self._script.popleft()
            self._pending_write.clear()
            self._rx += reply

    def _check_alive(self) -> None:
        if self._cable_pulled:
            raise serial.SerialException("device disconnected (cable pulled)")
        if not self.is_open:
            raise serial.PortNotOpenError()
