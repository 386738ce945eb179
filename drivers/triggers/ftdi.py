"""`ftdi://VENDOR:PRODUCT[:SERIAL]/INTERFACE?pin=N`: one pin of an FTDI chip in
asynchronous bit-bang mode (pyftdi, optional extra `ftdi`).

The part before `?` is pyftdi's own device URL (e.g. `ftdi://ftdi:232h/1`,
`ftdi://ftdi:2232h:FT1234/2`); `pin` (0-7, default 0) is the output, `loopback_pin`
an input wired back to it (read after each edge, pyftdi peek mode). Every other pin
stays an input. pyftdi talks to the chip through libusb; a missing package is one line.
"""

from __future__ import annotations

import contextlib
from typing import Any

from stimctl.errors import ConfigError, TransportError
from stimctl.hal import TriggerLine, TriggerUnavailable


class FtdiLine(TriggerLine):
    scheme = "ftdi"
    extra = "ftdi"

    def _configure(self) -> None:
        self.device_url = f"ftdi://{self.where}"
        self.pin = int(self._number("pin", 0, 0, 7))
        loop = self._text("loopback_pin")
        self.loopback_pin: int | None = None
        if loop is not None:
            if loop not in {str(n) for n in range(8)} or int(loop) == self.pin:
                raise ConfigError(
                    f"trigger line {self.url!r}: loopback_pin must be 0-7 and not the output pin"
                )
            self.loopback_pin = int(loop)
        self._gpio: Any = None

    @property
    def has_loopback(self) -> bool:
        return self.loopback_pin is not None

    def _do_open(self) -> None:
        try:
            from pyftdi.gpio import GpioAsyncController
        except ImportError:
            self.needs("pyftdi", "pyftdi.gpio")
        gpio = GpioAsyncController()
        try:
            gpio.configure(self.device_url, direction=1 << self.pin, initial=0)
        except Exception as exc:  # pyftdi raises UsbToolsError, FtdiError, ValueError...
            raise TriggerUnavailable(f"trigger line {self.url}: {exc}") from None
        self._gpio = gpio

    def _do_close(self) -> None:
        gpio, self._gpio = self._gpio, None
        if gpio is not None:
            with contextlib.suppress(Exception):
                gpio.close()

    def _do_set(self, level: bool) -> None:
        try:
            self._gpio.write((1 << self.pin) if level else 0)
        except Exception as exc:
            raise TransportError(f"trigger line {self.url}: write failed: {exc}") from None

    def _do_read_back(self) -> bool:
        assert self.loopback_pin is not None
        try:
            pins = int(self._gpio.read(1, peek=True))
        except Exception as exc:
            raise TransportError(f"trigger line {self.url}: read failed: {exc}") from None
        return bool(pins & (1 << self.loopback_pin))
