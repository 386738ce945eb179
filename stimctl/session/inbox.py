"""The engine's command inbox: typed commands instead of `(str, dict)` (issue 14 item 3).

Callers on any thread (console, CLI signal handlers, the records link, fault injectors)
put a command; only the engine thread takes them, between pulses and during waits. Each
command is a frozen dataclass; `kind` names it in the journal's `operator` record and
`args()` gives the fields in the order the journal has always recorded them.
"""

from __future__ import annotations

import collections
import dataclasses
import queue
import threading
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Command:
    kind: ClassVar[str] = ""

    def args(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class Pause(Command):
    kind: ClassVar[str] = "pause"
    actor: str


@dataclass(frozen=True)
class Resume(Command):
    kind: ClassVar[str] = "resume"
    actor: str


@dataclass(frozen=True)
class Stop(Command):
    """Stop at the end of the current train."""

    kind: ClassVar[str] = "stop"
    actor: str


@dataclass(frozen=True)
class Abort(Command):
    kind: ClassVar[str] = "abort"
    actor: str
    reason: str


@dataclass(frozen=True)
class Acknowledge(Command):
    kind: ClassVar[str] = "acknowledge"
    actor: str


@dataclass(frozen=True)
class EndForAdverseEvent(Command):
    kind: ClassVar[str] = "end_for_adverse_event"
    actor: str
    event_kind: str
    severity: str


@dataclass(frozen=True)
class DeviceFault(Command):
    """A driver or helper thread failed; `lost`: the link is gone (DEV-3)."""

    kind: ClassVar[str] = "device_fault"
    error: str
    lost: bool


@dataclass(frozen=True)
class ChangeIntensity(Command):
    kind: ClassVar[str] = "intensity"
    actor: str
    percent_rmt: float
    reason: str
    confirmed: bool


@dataclass(frozen=True)
class EStopDone(Command):
    """The e-stop already disarmed from the caller's thread; the engine ends the session."""

    kind: ClassVar[str] = "estop"
    actor: str
    disarmed: bool
    error: str | None


@dataclass(frozen=True)
class RecordsFailed(Command):
    """The records link could not write the session's row (the journal stays the record
    of truth): the operator is told by an alarm, the session goes on."""

    kind: ClassVar[str] = "records_failed"
    message: str


class Inbox:
    """A thread-safe FIFO of commands; `drain` never blocks."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Command] = queue.Queue()
        self._lock = threading.Lock()
        self._waiting: collections.Counter[type[Command]] = collections.Counter()

    def put(self, command: Command) -> None:
        with self._lock:
            self._waiting[type(command)] += 1
        self._queue.put(command)

    def take(self) -> Command | None:
        try:
            command = self._queue.get_nowait()
        except queue.Empty:
            return None
        with self._lock:
            self._waiting[type(command)] -= 1
        return command

    def waiting(self, kind: type[Command]) -> bool:
        """Whether a command of `kind` was given and not yet taken (most commands wait
        for the end of the running train: the console shows them as coming)."""
        with self._lock:
            return self._waiting[kind] > 0
