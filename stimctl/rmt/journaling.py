"""A threshold hunt that fires pulses through a stimulator is journaled like a session
(ARCHITECTURE rule 7: the journal is the record of truth for what was delivered).

One journal per hunt, `rmt-<time>-<id>`: `session_start` (kind `threshold-hunt`, subject,
method, device), one train (`train_start`/`train_end`) holding one `pulse` record per
pulse with its intensity and the response, the `threshold` result, and `session_end`.
The other measurements that fire through a driver (recruitment curve, paired pulses,
hotspot search; issue 19) use the same journal with their own `kind`, extra pulse keys
(output B, interval) and their result in `session_end`'s ``result``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from stimctl.clock import Clock
from stimctl.hal import FireReceipt
from stimctl.journal import Journal, events, journals_dir
from stimctl.journal.writer import JournalListener
from stimctl.rmt.result import HuntResult, PulseRecord


class HuntJournal:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.pulses = 0

    @classmethod
    def start(
        cls,
        *,
        clock: Clock,
        start: dict[str, Any],
        directory: Path | None = None,
        listeners: tuple[JournalListener, ...] = (),
        kind: str = "threshold-hunt",
    ) -> HuntJournal:
        folder = directory or journals_dir()
        folder.mkdir(parents=True, exist_ok=True)
        now = dt.datetime.now(dt.UTC)
        session_id = f"rmt-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        journal = Journal.create(folder, session_id, clock=clock, listeners=listeners)
        journal.append(events.SESSION_START, {"kind": kind, **start})
        journal.append(events.TRAIN_START, {"train": 0, "timing": "host"})
        return cls(journal)

    def fired(
        self, intensity_percent_mso: int, receipt: FireReceipt | None = None, **extra: Any
    ) -> None:
        """The device fired one pulse (trigger): journaled at once, before any response,
        with how and when it left when the driver said so (`receipt`). `extra`: what else
        the trigger delivered (paired pulses: output B, interval)."""
        payload: dict[str, Any] = {
            "train": 0,
            "index": self.pulses,
            "intensity": intensity_percent_mso,
            **extra,
        }
        if receipt is not None:
            payload.update(receipt.to_journal())
        self.journal.append(events.PULSE, payload, actor=events.ACTOR_DEVICE)
        self.pulses += 1

    def rejected(self, intensity_percent_mso: int, reason: str) -> None:
        """The last pulse's trial was rejected (background EMG): it does not count."""
        self.journal.append(
            events.DEVICE,
            {
                "response_to_pulse": self.pulses - 1,
                "intensity": intensity_percent_mso,
                "rejected": reason,
            },
        )

    def response(self, record: PulseRecord) -> None:
        """What came back for a pulse (EMG amplitude or the operator's answer)."""
        self.journal.append(
            events.DEVICE, {"response_to_pulse": self.pulses - 1, **record.as_dict()}
        )

    def reading(self, index: int, payload: dict[str, Any]) -> None:
        """What came back for pulse `index` (0-based) of a measurement other than a hunt."""
        self.journal.append(events.DEVICE, {"response_to_pulse": index, **payload})

    def finish(
        self,
        result: HuntResult | None,
        *,
        error: str | None = None,
        stopped: bool = False,
        summary: dict[str, Any] | None = None,
    ) -> None:
        self.journal.append(events.TRAIN_END, {"train": 0, "pulses": self.pulses})
        if result is not None:
            self.journal.append(events.THRESHOLD, result.as_dict())
        if error is None:
            status = events.STATUS_COMPLETED
        else:
            status = events.STATUS_STOPPED if stopped else events.STATUS_FAULT
        payload: dict[str, Any] = {"status": status, "pulses_delivered": self.pulses}
        if error is not None:
            payload["reason"] = error
        if summary is not None:
            payload["result"] = summary
        self.journal.append(events.SESSION_END, payload)
        self.journal.close()
