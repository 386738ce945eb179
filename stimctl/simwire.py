"""Simulated trigger wires: the cable between a `sim://NAME` trigger line and the
Trigger In of a byte-level simulator (issue 18).

A base module like `stimctl.clock`: the host's simulated line (a driver) and the
simulators both use it, and neither imports the other (ARCHITECTURE rule 1; they meet
on this wire as they meet on the serial one). A `Wire` carries a logic level; whoever
drives it tells every connected listener about each change, with the driver's clock
time. In-process, both ends find the wire by name (`wire("t1")`).

Across processes (`stimctl sim serve ... --trigger sim://t1`) the simulator's process
`publish`es the wire on a Linux abstract-namespace Unix datagram socket named after the
user and the wire; a host line that finds no listener in its own process sends its edges
there as one-byte datagrams (b"1" rising, b"0" falling). The receiving process stamps
each edge with its own clock when it arrives, as a device's Trigger In would; both
processes read the same monotonic clock, so the latency of the socket is part of the
figure, not hidden.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
from collections.abc import Callable

from stimctl.clock import Clock
from stimctl.errors import ConfigError

Listener = Callable[[bool, float], None]
"""Told of each level change: (level, clock time of the change)."""

NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def check_name(name: str) -> str:
    """A wire name: 1-64 letters, digits, '-', '_' or '.'."""
    if not name or len(name) > 64 or not set(name) <= NAME_CHARS:
        raise ConfigError(
            f"simulated trigger wire name {name!r}: use 1-64 letters, digits, '-', '_' or '.'"
        )
    return name


class Wire:
    """One simulated trigger cable (thread-safe)."""

    def __init__(self, name: str) -> None:
        self.name = check_name(name)
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._level = False

    @property
    def level(self) -> bool:
        with self._lock:
            return self._level

    @property
    def connected(self) -> int:
        """How many listeners (Trigger Ins, recorders) hang on the wire."""
        with self._lock:
            return len(self._listeners)

    def connect(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def disconnect(self, listener: Listener) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def drive(self, level: bool, at: float) -> None:
        """Set the level at clock time `at`; listeners hear only real changes."""
        with self._lock:
            if level == self._level:
                return
            self._level = level
            listeners = list(self._listeners)
        for listener in listeners:
            listener(level, at)


_WIRES: dict[str, Wire] = {}
_WIRES_LOCK = threading.Lock()


def wire(name: str) -> Wire:
    """The in-process wire called `name` (created on first use by either end)."""
    check_name(name)
    with _WIRES_LOCK:
        found = _WIRES.get(name)
        if found is None:
            found = _WIRES[name] = Wire(name)
        return found


def socket_address(name: str) -> str:
    """The abstract-namespace address a published wire listens on (Linux)."""
    return f"\0stimctl-trigger-wire/{os.getuid()}/{check_name(name)}"


def cross_process_supported() -> bool:
    return sys.platform.startswith("linux")


class Publication:
    """A wire served to other processes; `close()` stops it."""

    def __init__(self, target: Wire, clock: Clock) -> None:
        if not cross_process_supported():
            raise ConfigError("a simulated trigger wire between processes needs Linux")
        self.wire = target
        self.clock = clock
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self._sock.bind(socket_address(target.name))
        except OSError as exc:
            self._sock.close()
            raise ConfigError(
                f"simulated trigger wire {target.name!r} is already served by another process"
                f" ({exc.strerror})"
            ) from None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._receive, name=f"wire-{target.name}", daemon=True
        )
        self._thread.start()

    def _receive(self) -> None:
        self._sock.settimeout(0.2)  # so `close` is seen even when nothing arrives
        while not self._stop.is_set():
            try:
                data = self._sock.recv(16)
            except TimeoutError:
                continue
            except OSError:
                return
            for byte in data:
                if byte in (ord("0"), ord("1")):
                    self.wire.drive(byte == ord("1"), self.clock.now())

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(timeout=1)


def publish(name: str, clock: Clock) -> Publication:
    """Serve the in-process wire `name` to lines in other processes."""
    return Publication(wire(name), clock)


class RemoteEnd:
    """The host's end of a wire another process publishes."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def send(self, level: bool) -> None:
        """One edge; an OSError means the serving process went away."""
        self._sock.send(b"1" if level else b"0")

    def close(self) -> None:
        self._sock.close()


def remote_end(name: str) -> RemoteEnd | None:
    """The end of a wire another process publishes as `name`, or None when none does."""
    if not cross_process_supported():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.connect(socket_address(name))
    except OSError:
        sock.close()
        return None
    return RemoteEnd(sock)


__all__ = [
    "Listener",
    "Publication",
    "RemoteEnd",
    "Wire",
    "check_name",
    "cross_process_supported",
    "publish",
    "remote_end",
    "wire",
]
