"""`serial-rts://PORT` and `serial-dtr://PORT`: a serial port's RTS or DTR modem line.

MagPy's `quickFire` raises RTS and `resetQuickFire` lowers it "a few ms later" to
trigger a Magstim through a custom cable from RTS to the trigger input; MagPy drives RTS
low at start-up (device-protocols A1, A7). PORT is anything pyserial opens:
`serial-rts:///dev/ttyUSB1`, `serial-rts://COM4`, `serial-rts://loop://` (pyserial's
loopback port, which ties RTS to CTS and DTR to DSR).

Keys: `width_ms`; `loopback=cts|dsr|cd|ri`, a modem input wired back to the output (a
loopback cable), read after each edge; `baud` (default 9600, the Magstim's rate, A1),
which matters when the line shares the port of the stimulator's serial link (MagPy's
quick-fire cable on the same port: POSIX allows opening it twice; Windows does not).

A port without modem lines (a pseudo-terminal, some adapters) is refused at `open`
with one line; an OS error while pulsing is a `TransportError` (exit 5).
"""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar

from stimctl.errors import ConfigError, TransportError
from stimctl.hal import TriggerLine, TriggerUnavailable

INPUTS = ("cts", "dsr", "cd", "ri")


class SerialModemLine(TriggerLine):
    """RTS or DTR of a pyserial port as the trigger output."""

    output: ClassVar[str] = ""

    def _configure(self) -> None:
        if not self.where:
            raise ConfigError(f"trigger line {self.url!r}: name the port, e.g. /dev/ttyUSB1")
        self.port_url = self.where
        self.baud = int(self._number("baud", 9600, 50, 4_000_000))
        loop = self._text("loopback")
        if loop is not None and loop not in INPUTS:
            raise ConfigError(
                f"trigger line {self.url!r}: loopback must be one of {', '.join(INPUTS)}"
            )
        self.loopback_input = loop
        self._port: Any = None

    @property
    def has_loopback(self) -> bool:
        return self.loopback_input is not None

    def _do_open(self) -> None:
        import serial

        try:
            self._port = serial.serial_for_url(self.port_url, baudrate=self.baud, timeout=0)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TriggerUnavailable(
                f"trigger line {self.url}: cannot open the port: {exc}"
            ) from None
        try:
            setattr(self._port, self.output, False)  # MagPy drives RTS low at start-up (A1)
        except OSError as exc:
            self._do_close()
            raise TriggerUnavailable(
                f"trigger line {self.url}: the port has no {self.output.upper()} line to drive"
                f" ({exc.strerror or exc}); a pseudo-terminal has no modem lines"
            ) from None

    def _do_close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(Exception):
                port.close()

    def _do_set(self, level: bool) -> None:
        try:
            setattr(self._port, self.output, level)
        except OSError as exc:
            raise TransportError(
                f"trigger line {self.url}: setting {self.output.upper()} failed: {exc}"
            ) from None

    def _do_read_back(self) -> bool:
        try:
            return bool(getattr(self._port, str(self.loopback_input)))
        except OSError as exc:
            raise TransportError(
                f"trigger line {self.url}: reading {self.loopback_input} failed: {exc}"
            ) from None


class SerialRtsLine(SerialModemLine):
    scheme = "serial-rts"
    output = "rts"


class SerialDtrLine(SerialModemLine):
    scheme = "serial-dtr"
    output = "dtr"
