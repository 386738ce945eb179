"""A threshold hunt that fires pulses through a stimulator is journaled like a session
(ARCHITECTURE rule 7: the journal is the record of truth for what was delivered).

One journal per hunt, `rmt-<time>-<id>`: `session_start` (kind `threshold-hunt`, subject,
method, device), one train (`train_start`/`train_end`) holding one `pulse` record per
pulse with its intensity and the response, the `threshold` result, and `session_end`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from stimctl.clock import Clock
from stimctl.journal import Journal, events, journals_dir
from stimctl.rmt.result import HuntResult, PulseRecord


class HuntJournal:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.pulses = 0

    @classmethod
    def start(
        cls, *, clock: Clock, start: dict[str, Any], directory: Path | None = None
    ) -> HuntJournal:
        folder = directory or journals_dir()
        folder.mkdir(parents=True, exist_ok=True)
        now = dt.datetime.now(dt.UTC)
        session_id = f"rmt-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        journal = Journal.create(folder, session_id, clock=clock)
        journal.append(events.SESSION_START, {"kind": "threshold-hunt", **start})
        journal.append(events.TRAIN_START, {"train": 0, "timing": "host"})
        return cls(journal)

    def pulse(self, record: PulseRecord) -> None:
        self.journal.append(
            events.PULSE,
            {"train": 0, "index": self.pulses, **record.as_dict()},
            actor=events.ACTOR_DEVICE,
        )
        self.pulses += 1

    def finish(self, result: HuntResult | None, *, error: str | None = None) -> None:
        self.journal.append(events.TRAIN_END, {"train": 0, "pulses": self.pulses})
        if result is not None:
            self.journal.append(
                events.THRESHOLD, {k: v for k, v in result.as_dict().items() if k != "trace"}
            )
        status = events.STATUS_COMPLETED if error is None else events.STATUS_FAULT
        payload: dict[str, Any] = {"status": status, "pulses_delivered": self.pulses}
        if error is not None:
            payload["reason"] = error
        self.journal.append(events.SESSION_END, payload)
        self.journal.close()
