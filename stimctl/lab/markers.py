"""`MarkerOutlet`: the journal, as it is written, published as LSL markers (issue 18).

One stream (default name ``stimctl-markers``, type ``Markers``, one string channel,
irregular rate, source id ``stimctl-<name>``), one JSON object per marker:

    {"event": "pulse", "session": "...", "seq": 12, "train": 0, "pulse": 3,
     "intensity_mso": 61, "intensity_rmt": 110.0}

Pulses carry the train, the 0-based pulse index of the session and the intensity (% MSO
as set on the device and, where the session has a threshold, % RMT). Every other record
except device status samples is a state change: its marker carries the event name, the
session, the journal sequence number and the payload keys a recording needs to make
sense of it (from/to/trigger of a transition, status and reason at the end, ...). The
journal's ``seq`` ties every marker to exactly one record of the signed journal.

A device-timed train (a Rapid² or MagPro running the train itself) is journaled per train,
without `pulse` records; its pulses are published when the train ends, each stamped at
the train's onset plus i / frequency and marked ``"derived": true``, with the
`train_end` record's ``seq``.

Markers are stamped with the pulse's time on LSL's clock (the fire receipt's
``actual_s``, else the record's ``mono``), not with the moment they were pushed, so a
recorder aligns them with its data even though the journal fsync comes first. For
sub-millisecond alignment a lab records the trigger line on the amplifier itself
(docs/lab-integration.md).
"""

from __future__ import annotations

import json
import threading
from typing import Any

from stimctl.clock import Clock
from stimctl.journal import JournalRecord, events
from stimctl.lab.lsl import MARKER_STREAM, MARKER_TYPE, PulseClock, require_pylsl

# Payload keys copied into state-change markers (when present): small and stable.
_STATE_KEYS = (
    "from",
    "to",
    "trigger",
    "train",
    "pulses",
    "pulses_planned",
    "frequency_hz",
    "status",
    "reason",
    "kind",
    "cause",
    "alarm",
    "action",
    "method",
    "rmt",
    "subject",
)
_SKIPPED = frozenset({events.DEVICE})  # status samples: many, and not state changes


def marker_for(
    record: JournalRecord, session: str | None, train_intensity: dict[str, Any]
) -> dict[str, Any]:
    """The JSON object published for one journal record."""
    payload = record["payload"]
    marker: dict[str, Any] = {"event": record["event"], "session": session, "seq": record["seq"]}
    if record["event"] == events.PULSE:
        mso = payload.get("intensity", train_intensity.get("mso"))
        marker.update(
            train=payload.get("train"),
            pulse=payload.get("index"),
            intensity_mso=mso,
            intensity_rmt=payload.get("intensity_percent_rmt", train_intensity.get("rmt")),
        )
        return marker
    for key in _STATE_KEYS:
        if key in payload and isinstance(payload[key], str | int | float | bool | None):
            marker[key] = payload[key]
    return marker


class MarkerOutlet:
    """A journal listener publishing markers on an LSL outlet; `close()` when done.

    The outlet is created at once, so a recorder can connect before the first pulse.
    """

    def __init__(self, clock: Clock, name: str = MARKER_STREAM) -> None:
        pylsl = require_pylsl()
        self.name = name
        info = pylsl.StreamInfo(
            name, MARKER_TYPE, 1, pylsl.IRREGULAR_RATE, pylsl.cf_string, f"stimctl-{name}"
        )
        info.desc().append_child_value("manufacturer", "stimctl")
        info.desc().append_child_value("format", "json")
        self._outlet: Any = pylsl.StreamOutlet(info)
        self._clock = PulseClock(clock)
        self._lock = threading.Lock()
        self._session: str | None = None
        self._train: dict[str, Any] = {}
        self._pulses = 0  # pulses of the session so far (the next pulse's index)
        self.published = 0

    def __call__(self, record: JournalRecord) -> None:
        event = record["event"]
        if event in _SKIPPED:
            return
        payload = record["payload"]
        with self._lock:
            if self._outlet is None:
                return
            stamp = self._clock.lsl_time_of(record)
            if event == events.SESSION_START:
                self._session = payload.get("session_id", self._session)
            elif event == events.TRAIN_START:
                self._train = {
                    "mso": payload.get("intensity_percent_mso", payload.get("intensity_pct_mso")),
                    "rmt": payload.get(
                        "delivered_percent_rmt", payload.get("intensity_percent_rmt")
                    ),
                    "frequency_hz": payload.get("frequency_hz"),
                    "onset": stamp,
                    "seen": 0,
                }
            elif event == events.PULSE:
                self._train["seen"] = self._train.get("seen", 0) + 1
                self._pulses = max(self._pulses, int(payload.get("index", self._pulses)) + 1)
            elif event == events.TRAIN_END:
                self._derive_pulses(record)
            self._push(marker_for(record, self._session, self._train), stamp)

    def _derive_pulses(self, record: JournalRecord) -> None:
        """A device-timed train is journaled per train (no `pulse` records): its pulses
        are published at its end, one marker each, ``derived: true``, stamped at the
        onset plus i / frequency, carrying the `train_end` record's sequence number."""
        delivered = record["payload"].get("pulses")
        missing = (delivered if isinstance(delivered, int) else 0) - self._train.get("seen", 0)
        frequency = self._train.get("frequency_hz")
        onset = self._train.get("onset")
        if missing <= 0 or not isinstance(frequency, int | float) or frequency <= 0:
            return
        assert isinstance(onset, float)
        for i in range(missing):
            marker = marker_for(record, self._session, self._train)
            marker.update(
                event=events.PULSE,
                pulse=self._pulses,
                train=record["payload"].get("train"),
                intensity_mso=self._train.get("mso"),
                intensity_rmt=self._train.get("rmt"),
                derived=True,
            )
            for key in ("pulses", "pulses_planned", "status", "reason"):
                marker.pop(key, None)
            self._push(marker, onset + i / float(frequency))
            self._pulses += 1

    def _push(self, marker: dict[str, Any], stamp: float) -> None:
        outlet = self._outlet
        if outlet is not None:
            outlet.push_sample([json.dumps(marker, separators=(",", ":"))], stamp)
            self.published += 1

    def wait_for_consumers(self, timeout_s: float) -> bool:
        """True once a recorder (any inlet) is connected, False after `timeout_s`."""
        outlet = self._outlet
        return outlet is not None and bool(outlet.wait_for_consumers(timeout_s))

    def close(self) -> None:
        with self._lock:
            self._outlet = None  # pylsl closes the outlet when the object goes
