"""One request/reply exchange with a Magstim over a `Transport`, under one lock.

The reply is read the way device-protocols A2.2 frames it: one byte (`?` = unknown
command, complete); a second byte (`?`/`S` = error reply, one checksum byte follows);
otherwise the documented remaining length, or up to a NUL for the version reply. Every
read runs against one deadline, so a silent or short reply is a `DeviceTimeout`, never a
hang (MP's A11.1 bug).
"""

from __future__ import annotations

import logging
import threading
import time

from drivers.magstim.codec import UNKNOWN_COMMAND, Reply, Request, decode_reply, remaining_after
from stimctl.errors import DeviceRejected, DeviceTimeout, ProtocolError
from stimctl.hal import Transport

log = logging.getLogger(__name__)


class MagstimLink:
    """Serialises exchanges: the keep-alive thread and callers share this lock."""

    def __init__(self, transport: Transport, *, reply_timeout_s: float) -> None:
        self.transport = transport
        self.reply_timeout_s = reply_timeout_s
        self.lock = threading.RLock()

    def exchange(self, request: Request) -> Reply:
        with self.lock:
            # Stale bytes (a late reply to a timed-out request) would shift the framing.
            self.transport.reset_input()
            self.transport.write(request.frame)
            log.debug("-> %s %s", request.name, request.frame.hex(" "))
            try:
                data = self._read_reply(request)
            except DeviceTimeout as exc:
                raise DeviceTimeout(f"{request.name}: {exc}") from exc
            log.debug("<- %s %s", request.name, data.hex(" "))
            try:
                return decode_reply(request, data)
            except DeviceRejected:
                raise
            except ProtocolError:
                self.transport.reset_input()  # resynchronise: drop whatever follows
                raise

    def _read_reply(self, request: Request) -> bytes:
        deadline = time.monotonic() + self.reply_timeout_s

        def left() -> float:  # one deadline for the whole reply, not one per read
            return max(deadline - time.monotonic(), 0.0)

        first = self.transport.read_exact(1, left())
        if first[0] == UNKNOWN_COMMAND and request.echo != UNKNOWN_COMMAND:
            return first
        head = first + self.transport.read_exact(1, left())
        if head[0] != request.echo:
            self.transport.reset_input()
            raise ProtocolError(
                f"{request.name}: reply starts with {head.hex(' ')}, not the echo "
                f"{request.echo:02x}"
            )
        remaining = remaining_after(request, head)
        if remaining is not None:
            return head + self.transport.read_exact(remaining, left())
        if head[1] == 0:  # empty version string: the NUL is already here
            return head + self.transport.read_exact(1, left())
        body = self.transport.read_until(b"\x00", left(), max_bytes=32)
        return head + body + self.transport.read_exact(1, left())
