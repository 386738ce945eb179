"""pylsl access, stream names, and the clock bridge between the journal and LSL.

pylsl is optional (the `lab` extra, which bundles liblsl): every command that needs it
calls `require_pylsl()` and fails with one line when it is missing. liblsl reads its
configuration from ``LSLAPICFG`` (or ``lsl_api.cfg``); docs/lab-integration.md shows a
loopback-only file for a single machine.
"""

from __future__ import annotations

import importlib
import threading
from collections import deque
from types import ModuleType
from typing import Any

from stimctl.clock import Clock
from stimctl.errors import ConfigError, EmgStreamError
from stimctl.journal import JournalRecord, events

MARKER_STREAM = "stimctl-markers"
"""Default name of the marker stream (`--lsl` without a name)."""
MARKER_TYPE = "Markers"
EMG_STREAM = "stimctl-emg"
"""Name of the synthetic EMG stream (`stimctl sim emg`)."""
EMG_TYPE = "EMG"
RESOLVE_TIMEOUT_S = 2.0


def require_pylsl() -> ModuleType:
    """The pylsl module, or one clear line when it (or its liblsl) is missing."""
    try:
        pylsl = importlib.import_module("pylsl")
    except ImportError as exc:  # also raised when the bundled liblsl cannot load
        raise ConfigError(
            f"Lab Streaming Layer is not available ({exc}): install stimctl[lab] (pylsl)"
        ) from None
    return pylsl


def local_clock() -> float:
    """LSL's clock (seconds): what sample and marker timestamps are measured on."""
    return float(require_pylsl().local_clock())


def resolve(target: str, *, timeout_s: float = RESOLVE_TIMEOUT_S) -> Any:
    """The `StreamInfo` of the stream named `target`, else of type `target`.

    Several streams of that name (or, with no name match, of that type) seen within
    1 s of the first (two query waves) are ambiguous: a hunt must not read whichever answered first.
    """
    pylsl = require_pylsl()
    found = list(pylsl.resolve_byprop("name", target, 1, timeout_s))
    kind = "named"
    if not found:
        found = list(pylsl.resolve_byprop("type", target, 1, min(timeout_s, 0.5)))
        kind = "of type"
    if found:  # a short second look: the first answer need not be the only one
        prop = "name" if kind == "named" else "type"
        found = list(pylsl.resolve_byprop(prop, target, 2, 1.0)) or found
    if not found:
        raise EmgStreamError(
            f"no LSL stream named or of type {target!r} found within {timeout_s:g} s "
            "(is the amplifier's LSL app running on this network?)"
        )
    sources = {info.source_id() or info.uid() for info in found}
    if len(sources) > 1:
        raise ConfigError(
            f"{len(sources)} LSL streams {kind} {target!r} are on the network; name the one to use"
        )
    return found[0]


class PulseClock:
    """A journal listener that turns each `pulse` record into a time on LSL's clock.

    The pulse's own time is the fire receipt's ``actual_s`` when the record has one, else
    the record's ``mono``; both are on the session's clock, which is mapped to LSL's clock
    by reading both at the moment the record arrives (so any clock that runs at real speed
    works, whatever its origin). `times` keeps the most recent pulses in order.
    """

    def __init__(self, clock: Clock, *, keep: int = 64) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._times: deque[tuple[int, float]] = deque(maxlen=keep)

    def lsl_time_of(self, record: JournalRecord) -> float:
        payload = record["payload"]
        when = payload.get("actual_s", record["mono"])
        # Read LSL's clock and the session clock together; their difference is the offset.
        return local_clock() - (self._clock.now() - float(when))

    def __call__(self, record: JournalRecord) -> None:
        if record["event"] != events.PULSE:
            return
        stamp = self.lsl_time_of(record)
        with self._lock:
            self._times.append((int(record["seq"]), stamp))

    def latest(self) -> tuple[int, float] | None:
        """(journal seq, LSL time) of the last pulse, or None before the first."""
        with self._lock:
            return self._times[-1] if self._times else None
