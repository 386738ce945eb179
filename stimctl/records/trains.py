"""One row per train, read from the session journals (the record of truth for delivery)
and joined with the session row and the motor threshold the session was dosed from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stimctl.errors import ConfigError, RecordsError
from stimctl.journal import events, read
from stimctl.journal.record import GENESIS, JournalRecord
from stimctl.records.clinical import threshold_by_id
from stimctl.records.journal_store import journal_file
from stimctl.records.models import SessionRecord, ThresholdRecord
from stimctl.records.sessions import list_sessions
from stimctl.records.store import Store
from stimctl.records.values import from_utc_text


@dataclass(frozen=True)
class TrainRow:
    subject_id: str
    session_id: str
    session_number: int
    """1-based position of the session in the subject's record (BIDS ``ses-<n>``)."""
    protocol_name: str
    train: int
    started_at: dt.datetime
    ended_at: dt.datetime | None
    onset_s: float
    """Train start on the session's own clock, as the report gives it: the engine's
    journaled ``actual_onset_s`` (else seconds after the first journal record)."""
    duration_s: float | None
    pulses: int | None
    pulses_planned: int | None
    frequency_hz: float | None
    intensity_pct_mso: float | None
    intensity_pct_rmt: float | None
    rmt_pct_mso: float | None
    rmt_method: str | None
    rmt_measured_on: dt.date | None
    rmt_criterion: str | None
    rmt_algorithm: str | None
    rmt_device: str | None
    rmt_coil: str | None
    device: str | None
    coil: str | None
    session_status: str
    simulated: bool = False
    """The session was a dry run on the simulator (not treatment)."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: datetimes and dates as ISO 8601 text."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, dt.datetime | dt.date):
                value = value.isoformat()
            out[name] = value
        return out


@dataclass(frozen=True)
class SessionTrains:
    session: SessionRecord
    number: int
    threshold: ThresholdRecord | None
    trains: tuple[TrainRow, ...]
    journal_head: str | None
    start: dict[str, Any] = field(default_factory=dict)
    """The journal's `session_start` payload (protocol, device identity, subject)."""


def course_trains(store: Store, subject_id: str) -> list[SessionTrains]:
    """Every session of the subject with its trains (sessions without a journal have
    none). A journal that is missing or no longer holds its stored chain head is a
    `RecordsError`: an export never silently drops or trusts a rewritten record."""
    sessions = list_sessions(store, subject_id)
    out: list[SessionTrains] = []
    for number, session in enumerate(sessions, start=1):
        threshold = None
        if session.threshold_id is not None:
            with store.read() as conn:
                threshold = threshold_by_id(conn, session.threshold_id)
        records = _journal_records(store, session)
        trains = tuple(_trains(session, number, threshold, records))
        head = session.chain_head if records else None
        start = records[0]["payload"] if records else {}
        out.append(SessionTrains(session, number, threshold, trains, head, start))
    return out


def _journal_records(store: Store, session: SessionRecord) -> list[JournalRecord]:
    if session.journal_path is None:
        return []
    head = session.chain_head if session.chain_head not in (None, GENESIS) else None
    # Another console's session: its journal comes from the store's copy (issue 17).
    path = journal_file(store, session) or Path(session.journal_path)
    try:
        return read(path, expected_head=head)
    except ConfigError as exc:
        raise RecordsError(f"session {session.id}: {exc}") from None


def _trains(
    session: SessionRecord,
    number: int,
    threshold: ThresholdRecord | None,
    records: list[JournalRecord],
) -> list[TrainRow]:
    if not records:
        return []
    origin = records[0]["mono"]
    # one clock for every figure: the session's own (simulated in a dry run), anchored at
    # the UTC time of its first record; the journal's wall-clock `utc` of a dry run's
    # trains would disagree with its simulated onsets (issue 16 item 8)
    first_utc = from_utc_text(records[0]["utc"])
    starts: dict[int, JournalRecord] = {}
    ends: dict[int, JournalRecord] = {}
    pulse_counts: dict[int, int] = {}
    for record in records:
        train = record["payload"].get("train")
        if not isinstance(train, int) or isinstance(train, bool):
            continue
        if record["event"] == events.TRAIN_START:
            starts.setdefault(train, record)
        elif record["event"] == events.TRAIN_END:
            ends[train] = record
        elif record["event"] == events.PULSE:
            pulse_counts[train] = pulse_counts.get(train, 0) + 1
    rows = []
    for train in sorted(starts):
        start, end = starts[train], ends.get(train)
        payload = start["payload"]
        mso = train_percent_mso(payload)
        rmt = threshold.percent_mso if threshold else None
        pulses = pulse_counts.get(train)
        if pulses is None and end is not None:
            pulses = journal_int(end["payload"].get("pulses"))
        onset = journal_number(payload.get("actual_onset_s"))
        if onset is None:
            onset = start["mono"] - origin
        end_s = journal_number(end["payload"].get("end_s")) if end else None
        duration = None
        if end is not None:
            duration = end_s - onset if end_s is not None else end["mono"] - start["mono"]
        rows.append(
            TrainRow(
                subject_id=session.subject_id,
                session_id=session.id,
                session_number=number,
                protocol_name=session.protocol_name,
                train=train,
                started_at=first_utc + dt.timedelta(seconds=onset),
                ended_at=(
                    first_utc + dt.timedelta(seconds=onset + duration)
                    if duration is not None
                    else None
                ),
                onset_s=round(onset, 6),
                duration_s=round(duration, 6) if duration is not None else None,
                pulses=pulses,
                pulses_planned=journal_int(payload.get("pulses_planned")),
                frequency_hz=journal_number(payload.get("frequency_hz")),
                intensity_pct_mso=mso,
                intensity_pct_rmt=round(mso / rmt * 100.0, 2) if mso and rmt else None,
                rmt_pct_mso=rmt,
                rmt_method=threshold.method if threshold else None,
                rmt_measured_on=threshold.measured_on if threshold else None,
                rmt_criterion=threshold.criterion if threshold else None,
                rmt_algorithm=threshold.algorithm if threshold else None,
                rmt_device=threshold.device if threshold else None,
                rmt_coil=threshold.coil if threshold else None,
                device=session.device,
                coil=session.coil,
                session_status=session.status,
                simulated=session.simulated,
            )
        )
    return rows


def journal_number(value: object) -> float | None:
    """A number from a journal payload, else None (a bool, text or a missing key is no
    number: never guessed)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def journal_int(value: object) -> int | None:
    """A whole number from a journal payload, else None (as `journal_number`)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def train_percent_mso(payload: dict[str, object]) -> float | None:
    """The % MSO a train was set to: the engine journals ``intensity_percent_mso``
    (``intensity_pct_mso`` is the older documented name, still read)."""
    value = payload.get("intensity_percent_mso", payload.get("intensity_pct_mso"))
    return journal_number(value)
