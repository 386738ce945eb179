"""`stimsim://MODEL?key=value...`: a simulator behind pyserial's `serial_for_url`.

pyserial imports this module when `simulators.urlhandler` is in
`serial.protocol_handler_packages`, which `simulators.install_url_handler()` arranges.

The port behaves like a real one:
- `read(n)` returns as soon as n bytes are there; with `timeout=None` it waits for
  ever, with `timeout=0` it returns what is there, with a float it returns short
  (maybe b"") when the timeout passes. Timeouts are real time, as in pyserial; the port
  never moves the simulator's clock. Under a `VirtualClock` the device's timed events
  (trains, keep-alive lapses, reply delays) happen when the test advances the clock,
  and a read sees their bytes as soon as it looks again.
- a pulled cable (`simulator.pull_cable()` or `?cable_pulled=1`) makes `read` and
  `write` raise `serial.SerialException` and `in_waiting` raise `OSError(EIO)`, as
  pyserial does when a USB adapter vanishes.
- with `?strict_baud=1`, a baud rate other than the device's (9600 Magstim, 38400
  MagPro) garbles the line: the device hears nothing valid and the host gets nothing.
  Off by default, so a dry run that opens every port at one rate still works.
- closing and reopening the port keeps the same simulator (the device stays powered).

`port.simulator` is the live simulator (pulse log, faults, state).
"""

from __future__ import annotations

import errno
import threading
import time
from typing import Any

from serial.serialutil import PortNotOpenError, SerialBase, SerialException

from simulators.core import SimulatorBase
from simulators.spec import create_simulator
from stimctl.clock import MonotonicClock

# Longest blind wait: output may appear because another thread moved the clock, or
# close() / cancel_read() was called.
POLL_S = 0.005
READ_GONE = (
    "device reports readiness to read but returned no data "
    "(device disconnected or multiple access on port?)"
)  # pyserial serialposix wording for a vanished device


class Serial(SerialBase):
    """A pyserial port whose far end is an in-process simulator."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.simulator: SimulatorBase | None = None
        self._made_for: str | None = None
        self._cancel = threading.Event()
        super().__init__(*args, **kwargs)

    # --- open / close ----------------------------------------------------------------

    def open(self) -> None:
        if self.is_open:
            raise SerialException("Port is already open.")
        if self.portstr is None:
            raise SerialException("Port must be configured before it can be used.")
        if self.simulator is None or self._made_for != self.portstr:
            self.simulator = create_simulator(self.portstr)
            self._made_for = self.portstr
        self._reconfigure_port()
        self.is_open = True

    def close(self) -> None:
        self.is_open = False
        self._cancel.set()

    def _reconfigure_port(self) -> None:
        if not isinstance(self.baudrate, int) or not 0 < self.baudrate < 2**32:
            raise ValueError(f"invalid baudrate: {self.baudrate!r}")

    # --- I/O ---------------------------------------------------------------------------

    def _device(self) -> SimulatorBase:
        if not self.is_open or self.simulator is None:
            raise PortNotOpenError()
        return self.simulator

    def _line_ok(self, sim: SimulatorBase) -> bool:
        return self.baudrate == sim.baudrate or not sim.strict_baud

    @property
    def in_waiting(self) -> int:
        sim = self._device()
        if sim.faults.cable_pulled:
            raise OSError(errno.EIO, "Input/output error")
        return sim.in_waiting() if self._line_ok(sim) else 0

    def write(self, b: Any, /) -> int | None:
        sim = self._device()
        data = bytes(b)
        if sim.faults.cable_pulled:
            raise SerialException(f"write failed: {OSError(errno.EIO, 'Input/output error')}")
        if self._line_ok(sim):
            sim.write(data)
        return len(data)

    def read(self, size: int = 1, /) -> bytes:
        sim = self._device()
        self._cancel.clear()
        timeout = self.timeout
        # pyserial semantics: the timeout is real time. The port never moves the
        # simulator's clock; whoever owns that clock does (a test, the session engine).
        deadline = None if timeout is None else time.monotonic() + timeout
        gap = self.inter_byte_timeout
        last_byte_at = time.monotonic()
        data = bytearray()
        while len(data) < size:
            if sim.faults.cable_pulled:
                raise SerialException(READ_GONE)
            if self._line_ok(sim):
                chunk = sim.read(size - len(data))
                if chunk:
                    data += chunk
                    last_byte_at = time.monotonic()
            if len(data) >= size or timeout == 0 or self._cancel.is_set() or not self.is_open:
                break
            wait = POLL_S
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                wait = min(wait, remaining)
            if gap is not None and data:
                # pyserial: after the first byte, a silence of inter_byte_timeout ends it
                silence_left = last_byte_at + gap - time.monotonic()
                if silence_left <= 0:
                    break
                wait = min(wait, silence_left)
            if isinstance(sim.clock, MonotonicClock) and self._line_ok(sim):
                wake = sim.next_wakeup()
                if wake is not None:
                    wait = min(wait, max(0.0, wake - sim.clock.now()))
            sim.wait_for_write(wait)
        return bytes(data)

    def reset_input_buffer(self) -> None:
        sim = self._device()
        if sim.faults.cable_pulled:
            raise SerialException(READ_GONE)
        sim.discard_output()

    def reset_output_buffer(self) -> None:
        self._device()  # writes reach the device at once; nothing is buffered

    @property
    def out_waiting(self) -> int:
        self._device()
        return 0

    def cancel_read(self) -> None:
        self._cancel.set()

    def cancel_write(self) -> None:
        """Writes never block."""

    # --- modem lines (three-wire cables: nothing is wired) ---------------------------

    def _update_rts_state(self) -> None:
        """RTS goes nowhere on the documented three-wire cables (A1)."""

    def _update_dtr_state(self) -> None:
        """DTR goes nowhere on the documented three-wire cables (A1)."""

    def _update_break_state(self) -> None:
        """A break is not a command."""

    @property
    def cts(self) -> bool:
        self._device()
        return True

    @property
    def dsr(self) -> bool:
        self._device()
        return True

    @property
    def ri(self) -> bool:
        self._device()
        return False

    @property
    def cd(self) -> bool:
        self._device()
        return True
