"""Serve a simulator on a pseudo-terminal, so any program can open it as a serial port.

The slave side is put in raw mode (no echo, no line editing, 8-bit clean) and kept
open by the server, so a client may open and close it many times without the master
seeing an error. The server loop moves bytes between the master side and the simulator
and wakes for the simulator's own events (trains, unsolicited MagPro messages).

A pulled cable on a pty only silences the device (a pty cannot vanish under the
client); use the in-process `stimsim://` port to test the pyserial errors.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import tty
from collections.abc import Callable
from types import TracebackType

from simulators.core import SimulatorBase

POLL_S = 0.02  # longest sleep of the loop, so stop requests are seen promptly
CHUNK = 4096


class PtyServer:
    """One simulator on one pseudo-terminal. Use as a context manager."""

    def __init__(self, simulator: SimulatorBase) -> None:
        self.simulator = simulator
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self._pending = bytearray()

    def __enter__(self) -> PtyServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._master = self._slave = -1

    def serve(self, stop: threading.Event) -> None:
        """Run until `stop` is set."""
        while not stop.is_set():
            self.step(self._wait_s())

    def step(self, wait_s: float) -> None:
        """Wait up to `wait_s` for host bytes, feed them, send what the device says."""
        readable, _, _ = select.select([self._master], [], [], wait_s)
        if readable:
            try:
                data = os.read(self._master, CHUNK)
            except (BlockingIOError, InterruptedError):
                data = b""
            except OSError:
                data = b""  # EIO: no client has the slave open right now
            if data:
                self.simulator.write(data)
        self._pending += self.simulator.read(CHUNK)
        if self._pending:
            try:
                written = os.write(self._master, self._pending)
            except (BlockingIOError, InterruptedError):
                written = 0
            del self._pending[:written]

    def _wait_s(self) -> float:
        if self._pending:
            return 0.001
        wake = self.simulator.next_wakeup()
        if wake is None:
            return POLL_S
        return min(POLL_S, max(0.0, wake - self.simulator.clock.now()))


def serve_pty(
    simulator: SimulatorBase,
    stop: threading.Event,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve `simulator` on a new pty until `stop` is set; `announce(path)` once ready."""
    with PtyServer(simulator) as server:
        if announce is not None:
            announce(server.path)
        server.serve(stop)
