"""SIGTERM, SIGHUP and SIGINT end a running session the way Ctrl-C does: abort, disarm,
close the journal, then let the process exit (issue 12: SIGTERM used to kill `run`
mid-train with the device still firing and the row left `running`).

Handlers only put an abort on the engine's queue (signal-safe: no I/O in the handler);
the engine thread disarms within one wait slice, and the main thread waits for it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Protocol

SIGNALS: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class Abortable(Protocol):
    def abort(self, actor: str, reason: str = "operator abort") -> None: ...

    def note_interrupt(self, signal_name: str) -> None: ...


@contextmanager
def abort_on_signals(engine: Abortable, actor: str = "engine") -> Iterator[None]:
    """While inside, each of `SIGNALS` aborts `engine` instead of killing the process.

    SIGINT is the operator's Ctrl-C and is journaled under `actor` (the session's
    operator); SIGTERM and SIGHUP come from the system and are journaled as the engine's.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (tests drive sessions from others)
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        engine.note_interrupt(name)
        if signum == signal.SIGINT:
            engine.abort(actor, reason="interrupted (Ctrl-C)")
        else:
            engine.abort("engine", reason=f"interrupted ({name})")

    previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
