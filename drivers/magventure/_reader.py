"""The one thread that reads a MagPro port.

The MagPro talks when it likes (device-protocols B5: amplitude changes, di/dt after each
pulse, coil and page changes), so one reader owns every read (style-anchors trap 4.2),
keeps the latest message of each id, and hands replies to whoever waits for one. Writers
only take the write lock. Parse errors are kept in sequence with the messages, so a
waiting command sees a corrupted reply as `ChecksumError`/`ProtocolError`, not as a
timeout.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from drivers.magventure.codec import FrameParser, Message
from stimctl.errors import ConnectionLost, DeviceTimeout, ProtocolError, StimctlError
from stimctl.hal import Transport

log = logging.getLogger(__name__)

_HISTORY = 64  # recent events kept for waiters that start slightly late


class MagProReader:
    """Reads frames on a thread; `wait_for(id, after)` returns the first match after a
    sequence number taken with `mark()` before writing the command."""

    def __init__(
        self,
        transport: Transport,
        *,
        on_message: Callable[[Message], None],
        on_fault: Callable[[StimctlError], None],
    ) -> None:
        self._transport = transport
        self._on_message = on_message
        self._on_fault = on_fault
        self._parser = FrameParser()
        self._cond = threading.Condition()
        self._events: deque[tuple[int, Message | ProtocolError]] = deque(maxlen=_HISTORY)
        self._seq = 0
        self._dead: StimctlError | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.protocol_errors = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="stimctl-magpro-reader", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Flag, then join with a timeout: reads are short, so the thread notices soon."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("MagPro reader did not stop within %.1f s", timeout)
        self._thread = None

    def mark(self) -> int:
        with self._cond:
            if self._dead is not None:
                raise self._dead
            return self._seq

    def wait_for(self, message_id: int, after: int, timeout: float) -> Message:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for seq, event in self._events:
                    if seq <= after:
                        continue
                    if isinstance(event, ProtocolError):
                        raise type(event)(f"while waiting for message {message_id}: {event}")
                    if event.id == message_id:
                        return event
                if self._dead is not None:
                    raise self._dead
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DeviceTimeout(f"no message {message_id} within {timeout:.3f} s")
                self._cond.wait(remaining)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._transport.read_some()
            except ConnectionLost as exc:
                if not self._stop.is_set():
                    self._die(exc)
                return
            except StimctlError as exc:
                self._die(exc)
                return
            if data:
                self._publish(self._parser.feed(data))

    def _publish(self, events: list[Message | ProtocolError]) -> None:
        for event in events:
            if isinstance(event, ProtocolError):
                self.protocol_errors += 1
                log.warning("MagPro: %s", event)
            else:
                try:
                    self._on_message(event)
                except Exception:  # a bookkeeping bug must not kill the reader
                    log.exception("MagPro message handler failed")
            with self._cond:
                self._seq += 1
                self._events.append((self._seq, event))
                self._cond.notify_all()

    def _die(self, exc: StimctlError) -> None:
        with self._cond:
            self._dead = exc
            self._cond.notify_all()
        self._on_fault(exc)
