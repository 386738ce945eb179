"""`parallel:///dev/parport0?bit=0`: a data line of a parallel port (pyparallel,
optional extra `parallel`; Linux ppdev or Windows).

magicpy's `TriggerPort` triggers a MagPro's Trigger In from a parallel-port data line
held for 10 ms (device-protocols B7). `bit` (0-7, default 0: D0, pin 2 of the DB-25) is
the output; the other data lines stay low. `loopback=ack|busy|paperout|select|error`
reads a status input wired back to it. The port's number or device follows the scheme
(`parallel://0`, `parallel:///dev/parport1`).
"""

from __future__ import annotations

import contextlib
from typing import Any

from stimctl.errors import ConfigError, TransportError
from stimctl.hal import TriggerLine, TriggerUnavailable

STATUS_INPUTS = {
    "ack": "getInAcknowledge",
    "busy": "getInBusy",
    "paperout": "getInPaperOut",
    "select": "getInSelected",
    "error": "getInError",
}


class ParallelLine(TriggerLine):
    scheme = "parallel"
    extra = "parallel"

    def _configure(self) -> None:
        where = self.where or "0"
        self.port: int | str = int(where) if where.isdigit() else where
        self.bit = int(self._number("bit", 0, 0, 7))
        loop = self._text("loopback")
        if loop is not None and loop not in STATUS_INPUTS:
            raise ConfigError(
                f"trigger line {self.url!r}: loopback must be one of {', '.join(STATUS_INPUTS)}"
            )
        self.loopback_input = loop
        self._port: Any = None

    @property
    def has_loopback(self) -> bool:
        return self.loopback_input is not None

    def _do_open(self) -> None:
        try:
            import parallel
        except ImportError:
            self.needs("pyparallel", "parallel")
        try:
            self._port = parallel.Parallel(self.port)
        except Exception as exc:  # OSError (no ppdev, permissions), IOError
            raise TriggerUnavailable(f"trigger line {self.url}: cannot open: {exc}") from None

    def _do_close(self) -> None:
        port, self._port = self._port, None
        close = getattr(port, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                close()

    def _do_set(self, level: bool) -> None:
        try:
            self._port.setData((1 << self.bit) if level else 0)
        except Exception as exc:
            raise TransportError(f"trigger line {self.url}: write failed: {exc}") from None

    def _do_read_back(self) -> bool:
        assert self.loopback_input is not None
        try:
            return bool(getattr(self._port, STATUS_INPUTS[self.loopback_input])())
        except Exception as exc:
            raise TransportError(f"trigger line {self.url}: read failed: {exc}") from None
