"""`labjack://T4/IDENTIFIER?out=FIO4&in=FIO5`: a LabJack T4 or T7 digital line through
LabJack's LJM library (`labjack-ljm`, optional extra `labjack`; it also needs LJM's
native library, installed from labjack.com).

NeuroSimo triggers with a LabJack T4 (FIO4 out, FIO5 in, an LJTick-DigitalOut5V into
BNC) and checks the pulse on a loopback input (ecosystem 10.1, 10.2): the output is
read back on `in` after each edge, and a wrong level stops at once. Device types: T4,
T7, TSERIES or ANY; IDENTIFIER a serial number, IP address, name or ANY (the LJM
`openS` arguments); the connection is `conn` (default ANY: USB, Ethernet, WiFi).
Without `in` there is no loopback check (`in=` empty): say so on purpose.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from stimctl.errors import ConfigError, TransportError
from stimctl.hal import TriggerLine, TriggerUnavailable

DEVICE_TYPES = ("T4", "T7", "TSERIES", "ANY")
LINE_NAME = re.compile(r"(FIO|EIO|CIO|MIO|DIO)\d{1,2}")


class LabJackLine(TriggerLine):
    scheme = "labjack"
    extra = "labjack"

    def _configure(self) -> None:
        device, _, identifier = self.where.partition("/")
        self.device_type = device.upper() or "ANY"
        if self.device_type not in DEVICE_TYPES:
            raise ConfigError(
                f"trigger line {self.url!r}: device type must be one of {', '.join(DEVICE_TYPES)}"
            )
        self.identifier = identifier.strip("/") or "ANY"
        self.connection = (self._text("conn", "ANY") or "ANY").upper()
        self.out_name = self._line("out", "FIO4")
        loop = self._text("in", "FIO5")
        self.in_name = None if loop == "" else self._checked(loop or "FIO5", "in")
        if self.in_name == self.out_name:
            raise ConfigError(f"trigger line {self.url!r}: in and out must be different lines")
        self._ljm: Any = None
        self._handle: Any = None

    def _line(self, key: str, default: str) -> str:
        return self._checked(self._text(key, default) or default, key)

    def _checked(self, name: str, key: str) -> str:
        upper = name.upper()
        if not LINE_NAME.fullmatch(upper):
            raise ConfigError(
                f"trigger line {self.url!r}: {key} must be a digital line such as FIO4"
            )
        return upper

    @property
    def has_loopback(self) -> bool:
        return self.in_name is not None

    def _do_open(self) -> None:
        try:
            from labjack import ljm
        except ImportError:
            self.needs("labjack-ljm", "labjack.ljm")
        except OSError as exc:  # the wrapper loads LJM's native library on import
            raise TriggerUnavailable(
                f"trigger line {self.url}: LabJack's LJM library is not installed ({exc})"
            ) from None
        try:
            self._handle = ljm.openS(self.device_type, self.connection, self.identifier)
        except Exception as exc:  # ljm.LJMError
            raise TriggerUnavailable(f"trigger line {self.url}: cannot open: {exc}") from None
        self._ljm = ljm

    def _do_close(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None and self._ljm is not None:
            with contextlib.suppress(Exception):
                self._ljm.close(handle)

    def _do_set(self, level: bool) -> None:
        try:
            self._ljm.eWriteName(self._handle, self.out_name, 1 if level else 0)
        except Exception as exc:
            raise TransportError(f"trigger line {self.url}: write failed: {exc}") from None

    def _do_read_back(self) -> bool:
        try:
            return bool(round(float(self._ljm.eReadName(self._handle, self.in_name))))
        except Exception as exc:
            raise TransportError(f"trigger line {self.url}: read failed: {exc}") from None
