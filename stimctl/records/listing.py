"""Every session on record, of every kind, for `stimctl sessions list`.

The store has a row for each session of a subject (treatment, research, dry runs with
`--subject`). Journals without a row are sessions too: threshold hunts (`rmt-*`) and dry
runs given only `--rmt`. A newcomer who finds 8 journals and 2 listed sessions stops
trusting the list (issue 16), so those journals are read here and listed with their kind.
This is a listing, not a verification: `records audit` and `journal verify` judge the
chains; a journal that cannot be read is listed as unreadable, never skipped.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stimctl.journal.writer import JOURNAL_SUFFIX
from stimctl.records.models import SessionRecord
from stimctl.records.sessions import list_sessions
from stimctl.records.store import Store

KINDS: dict[str, str] = {
    "treatment": "a clinical session of a subject; counts for the daily and course rules",
    "research": "a session of a study (research mode); counts for the subject's rules",
    "simulated": "a dry run on the simulator; never counts as treatment",
    "threshold-hunt": "a motor-threshold hunt (`rmt hunt`) that fired pulses",
}


@dataclass(frozen=True)
class ListedSession:
    id: str
    kind: str
    subject_id: str | None
    started_at: dt.datetime | None
    status: str
    pulses_delivered: int | None
    pulses_planned: int | None
    protocol: str
    study_id: str | None = None
    pulses_exact: bool = True
    on_record: bool = True
    """False: known only from its journal (no row in the store)."""
    journal_path: str | None = None


def kind_of(record: SessionRecord) -> str:
    if record.simulated:
        return "simulated"
    return "research" if record.mode == "research" else "treatment"


def from_record(record: SessionRecord) -> ListedSession:
    return ListedSession(
        id=record.id,
        kind=kind_of(record),
        subject_id=record.subject_id,
        started_at=record.started_at,
        status=record.status,
        pulses_delivered=record.pulses_delivered,
        pulses_planned=record.pulses_planned,
        protocol=record.protocol_name,
        study_id=record.study_id,
        pulses_exact=record.pulses_exact,
        journal_path=record.journal_path,
    )


def _records(path: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    with path.open("rb") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:  # a torn last line of a crashed session
                continue
            if isinstance(record, dict):
                records.append(record)
    return records


def _utc(text: object) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def from_journal(path: Path) -> ListedSession:
    """What a journal's start and end say about its session."""
    sid = path.name.removesuffix(JOURNAL_SUFFIX)
    try:
        records = _records(path)
    except OSError:
        records = []
    start = records[0] if records and records[0].get("event") == "session_start" else None
    if start is None:
        return ListedSession(sid, "unknown", None, None, "unreadable", None, None, "-",
                             on_record=False, journal_path=str(path))  # fmt: skip
    payload = start.get("payload") or {}
    ends = [r for r in records if r.get("event") in ("session_end", "seal")]
    end = (ends[0].get("payload") or {}) if ends else {}
    subject = payload.get("subject")
    if payload.get("kind") == "threshold-hunt":
        kind = "threshold-hunt"
        subject_id = subject if isinstance(subject, str) else None
        protocol = f"{payload.get('method', '?')} on {payload.get('device', '?')}"
        planned = None
        delivered = end.get("pulses", sum(r.get("event") == "pulse" for r in records))
    else:
        site = payload.get("site") or {}
        kind = (
            "simulated"
            if payload.get("simulated")
            else ("research" if site.get("mode") == "research" else "treatment")
        )
        subject_id = subject.get("id") if isinstance(subject, dict) else None
        protocol = str((payload.get("protocol") or {}).get("name", "?"))
        planned = (payload.get("plan") or {}).get("total_pulses")
        delivered = end.get("pulses_delivered", end.get("pulses"))
    return ListedSession(
        id=sid,
        kind=kind,
        subject_id=subject_id,
        started_at=_utc(start.get("utc")),
        status=str(end.get("status", "unfinished")),
        pulses_delivered=delivered if isinstance(delivered, int) else None,
        pulses_planned=planned if isinstance(planned, int) else None,
        protocol=protocol,
        study_id=payload.get("study_id") if isinstance(payload.get("study_id"), str) else None,
        on_record=False,
        journal_path=str(path),
    )


def list_all_sessions(
    store: Store,
    journals: Path,
    *,
    subject_id: str | None = None,
    kinds: frozenset[str] | None = None,
    limit: int | None = None,
) -> list[ListedSession]:
    """Rows of the store and journals no row names, oldest first, filtered."""
    rows = [from_record(r) for r in list_sessions(store, subject_id)]
    named = {Path(r.journal_path).resolve() for r in rows if r.journal_path}
    named_ids = {r.id for r in rows}
    on_disk = sorted(journals.glob(f"*{JOURNAL_SUFFIX}")) if journals.is_dir() else []
    for path in on_disk:
        if path.resolve() in named or path.name.removesuffix(JOURNAL_SUFFIX) in named_ids:
            continue
        listed = from_journal(path)
        if subject_id is None or listed.subject_id == subject_id:
            rows.append(listed)
    if kinds is not None:
        rows = [r for r in rows if r.kind in kinds]
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    rows.sort(key=lambda r: (r.started_at or never, r.id))
    return rows[-limit:] if limit is not None else rows
