"""Byte transport over any pyserial URL: a real port, a pty, `loop://`, `stimsim://`.

Two rules from the style anchors (trap 4.1, 4.3): a short read is an error against ONE
overall deadline (pyserial returns short data silently), and a port that vanishes
(`SerialException`/`OSError`, or a closed descriptor) becomes `ConnectionLost`; any other
exception (a bug) propagates unchanged. I/O deadlines use real monotonic
time, not the injected session clock: bytes arrive in real time even when the session
runs on a `VirtualClock`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Protocol

from stimctl.errors import ConnectionLost, DeviceTimeout, ProtocolError, TransportError

log = logging.getLogger(__name__)

# The port's own read timeout: how long one blocking read may wait before we look at the
# overall deadline again. Short, so a deadline is overrun by at most this much.
POLL_S = 0.02


class SerialPort(Protocol):
    """The part of `serial.SerialBase` that `Transport` uses."""

    timeout: float | None

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes, /) -> int | None: ...

    def flush(self) -> None: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


def _descriptor_gone(port: object) -> bool:
    """True when a pyserial port's file descriptor was closed under it (fd None or -1)."""
    fd = getattr(port, "fd", 0)
    return fd is None or (isinstance(fd, int) and fd < 0)


@contextlib.contextmanager
def _translate_errors(what: str, port: object = None) -> Iterator[None]:
    """Turn pyserial and OS errors into `ConnectionLost`, chained (`raise ... from`).

    ValueError/TypeError/AttributeError become `ConnectionLost` only when the port's file
    descriptor is gone (pyserial raises them from a port closed under it); otherwise they
    are bugs and propagate as they are: a bug must not look like a pulled cable.
    """
    import serial

    try:
        yield
    except (serial.SerialException, OSError) as exc:
        raise ConnectionLost(f"{what} failed, the port is gone: {exc}") from exc
    except (ValueError, TypeError, AttributeError) as exc:
        if port is not None and _descriptor_gone(port):
            raise ConnectionLost(f"{what} failed, the port is gone: {exc}") from exc
        raise
    except Exception as exc:
        # termios.error (not an OSError) from `in_waiting` when a tty's far end vanished
        if type(exc).__module__ == "termios":
            raise ConnectionLost(f"{what} failed, the port is gone: {exc}") from exc
        raise


class Transport:
    """Framing-free byte I/O on one open serial port.

    Not thread-safe by itself: drivers serialise access with their own lock, and only one
    thread ever reads (style-anchors trap 4.2).
    """

    def __init__(self, port: SerialPort, *, url: str = "") -> None:
        self._port = port
        self._closed = False
        self.url = url
        with _translate_errors("configuring the port", self._port):
            port.timeout = POLL_S

    @classmethod
    def open(
        cls,
        url: str,
        *,
        baudrate: int,
        write_timeout_s: float = 1.0,
    ) -> Transport:
        """Open `url` with `serial.serial_for_url` at 8N1, no flow control."""
        import serial

        try:
            port = serial.serial_for_url(
                url,
                baudrate=baudrate,
                bytesize=serial.EIGHTBITS,
                parity=serial.PARITY_NONE,
                stopbits=serial.STOPBITS_ONE,
                xonxoff=False,
                rtscts=False,
                timeout=POLL_S,
                write_timeout=write_timeout_s,
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TransportError(f"cannot open serial port {url!r}: {exc}") from exc
        log.debug("opened %s at %d baud", url, baudrate)
        return cls(port, url=url)

    @property
    def closed(self) -> bool:
        return self._closed

    def write(self, data: bytes) -> None:
        self._check_open()
        with _translate_errors("writing to the port", self._port):
            written = self._port.write(data)
            self._port.flush()
        if written is not None and written != len(data):
            raise ConnectionLost(f"wrote {written} of {len(data)} bytes to {self.url!r}")

    def read_exact(self, n: int, timeout: float) -> bytes:
        """Read exactly `n` bytes before one overall deadline, or raise `DeviceTimeout`."""
        self._check_open()
        deadline = time.monotonic() + timeout
        buf = bytearray()
        while True:
            with _translate_errors("reading from the port", self._port):
                buf += self._port.read(n - len(buf))
            if len(buf) >= n:
                break
            if time.monotonic() >= deadline:
                got = bytes(buf).hex(" ")
                raise DeviceTimeout(f"expected {n} bytes within {timeout:.3f} s, got [{got}]")
        return bytes(buf)

    def read_until(self, terminator: bytes, timeout: float, max_bytes: int = 256) -> bytes:
        """Read up to and including `terminator` before one deadline; the result keeps it."""
        self._check_open()
        deadline = time.monotonic() + timeout
        buf = bytearray()
        while True:
            with _translate_errors("reading from the port", self._port):
                buf += self._port.read(1)
            if buf.endswith(terminator):
                break
            if len(buf) >= max_bytes:
                raise ProtocolError(f"no {terminator!r} within {max_bytes} bytes")
            if time.monotonic() >= deadline:
                got = bytes(buf).hex(" ")
                raise DeviceTimeout(f"no {terminator!r} within {timeout:.3f} s, got [{got}]")
        return bytes(buf)

    def read_some(self, max_bytes: int = 256) -> bytes:
        """Whatever is buffered (or the next byte within one poll period); b"" if none."""
        self._check_open()
        with _translate_errors("reading from the port", self._port):
            waiting = self._port.in_waiting
            return self._port.read(min(max(waiting, 1), max_bytes))

    def reset_input(self) -> None:
        self._check_open()
        with _translate_errors("flushing the input buffer", self._port):
            self._port.reset_input_buffer()

    def close(self) -> None:
        """Idempotent; never raises (a vanished port is already closed as far as we care)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._port.close()
        except Exception as exc:  # closing a dead port must not mask the original error
            log.debug("closing %s: %s", self.url, exc)

    def _check_open(self) -> None:
        if self._closed:
            raise ConnectionLost(f"transport {self.url!r} is closed")
