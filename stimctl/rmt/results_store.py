"""Paired-pulse and hotspot results in the record store (issue 19 items 3-4).

Tables `paired_pulse_results` and `hotspot_results`. As for recruitment curves
(stimctl.rmt.curve_store), only results measured on a person are stored (the operator's,
or a replayed recording when asked); a virtual subject's never is. A result fired
through a stimulator names its journal (session id and the SHA-256 head it ended on).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from stimctl.errors import ConfigError
from stimctl.records import Store
from stimctl.records.subjects import require_subject
from stimctl.records.values import new_id, now_utc, utc_text
from stimctl.rmt.hotspot import HotspotResult
from stimctl.rmt.paired import PairedResult

ResultSource = Literal["operator", "replay"]


@dataclass(frozen=True)
class JournalLink:
    """The journal that holds every pulse of a measurement, and the head it ended on."""

    session_id: str
    head: str


@dataclass(frozen=True)
class StoredPaired:
    id: str
    subject_id: str
    recorded_at: str
    source: str
    journal: JournalLink | None
    paradigm: str
    interval_ms: float
    conditioning: int
    test: int
    trials: int
    ratio: float
    ratio_interval: tuple[float, float]


@dataclass(frozen=True)
class StoredHotspot:
    id: str
    subject_id: str
    recorded_at: str
    source: str
    journal: JournalLink | None
    intensity: int
    positions: int
    per_position: int
    proposed: str
    proposed_median_uv: float


def _link(session_id: str | None, head: str | None) -> JournalLink | None:
    return None if session_id is None or head is None else JournalLink(session_id, head)


def record_paired(
    store: Store,
    subject_id: str,
    result: PairedResult,
    *,
    source: ResultSource,
    journal: JournalLink | None = None,
) -> StoredPaired:
    """Store one SICI/ICF result for a subject on record (an unknown subject is a
    ConfigError; so is a ratio that is not a finite number)."""
    s, plan = result.summary, result.plan
    low, high = s.ratio_interval
    if not all(math.isfinite(v) for v in (s.ratio, low, high)):
        raise ConfigError(f"paired-pulse ratio {s.ratio!r} ({low!r}-{high!r}) is not storable")
    row = StoredPaired(
        new_id(), subject_id, utc_text(now_utc()), source, journal, plan.paradigm,
        plan.interval, plan.conditioning, plan.test, s.trials, s.ratio, (low, high),
    )  # fmt: skip
    with store.write() as conn:
        require_subject(conn, subject_id)
        conn.execute(
            "INSERT INTO paired_pulse_results (id, subject_id, recorded_at, source,"
            " journal_session_id, journal_head, paradigm, interval_ms, rmt_percent_mso,"
            " conditioning_percent_mso, test_percent_mso, trials, ratio, ratio_low,"
            " ratio_high, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.id, subject_id, row.recorded_at, source,
                None if journal is None else journal.session_id,
                None if journal is None else journal.head,
                plan.paradigm, plan.interval, plan.rmt, plan.conditioning, plan.test,
                s.trials, s.ratio, low, high, json.dumps(result.as_dict()),
            ),
        )  # fmt: skip
    return row


def list_paired(store: Store, subject_id: str) -> list[StoredPaired]:
    """A subject's stored paired-pulse results, oldest first."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT id, subject_id, recorded_at, source, journal_session_id, journal_head,"
            " paradigm, interval_ms, conditioning_percent_mso, test_percent_mso, trials,"
            " ratio, ratio_low, ratio_high FROM paired_pulse_results WHERE subject_id = ?"
            " ORDER BY recorded_at, id",
            (subject_id,),
        ).fetchall()
    return [_paired_row(r) for r in rows]


def _paired_row(r: Sequence[Any]) -> StoredPaired:
    link = _link(r[4], r[5])
    return StoredPaired(
        r[0], r[1], r[2], r[3], link, r[6], r[7], r[8], r[9], r[10], r[11], (r[12], r[13])
    )


def record_hotspot(
    store: Store,
    subject_id: str,
    result: HotspotResult,
    *,
    source: ResultSource,
    journal: JournalLink | None = None,
) -> StoredHotspot:
    """Store one hotspot search for a subject on record (an unknown subject is a
    ConfigError)."""
    plan, best = result.plan, result.proposed
    row = StoredHotspot(
        new_id(), subject_id, utc_text(now_utc()), source, journal, plan.intensity,
        len(plan.positions), plan.per_position, best.name, result.medians()[best.name],
    )  # fmt: skip
    with store.write() as conn:
        require_subject(conn, subject_id)
        conn.execute(
            "INSERT INTO hotspot_results (id, subject_id, recorded_at, source,"
            " journal_session_id, journal_head, intensity_percent_mso, per_position,"
            " positions, proposed, proposed_median_uv, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.id, subject_id, row.recorded_at, source,
                None if journal is None else journal.session_id,
                None if journal is None else journal.head,
                plan.intensity, plan.per_position, len(plan.positions), best.name,
                row.proposed_median_uv, json.dumps(result.as_dict()),
            ),
        )  # fmt: skip
    return row


def list_hotspots(store: Store, subject_id: str) -> list[StoredHotspot]:
    """A subject's stored hotspot searches, oldest first."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT id, subject_id, recorded_at, source, journal_session_id, journal_head,"
            " intensity_percent_mso, positions, per_position, proposed, proposed_median_uv"
            " FROM hotspot_results WHERE subject_id = ? ORDER BY recorded_at, id",
            (subject_id,),
        ).fetchall()
    return [
        StoredHotspot(r[0], r[1], r[2], r[3], _link(r[4], r[5]), r[6], r[7], r[8], r[9], r[10])
        for r in rows
    ]
