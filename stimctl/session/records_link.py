"""Sessions of a subject on record: RMT and history in, the session's row out.

`--subject ID` takes the subject's latest threshold, screening and history from the
SQLite store (so the daily and course rules act on real history), records the session
as running when it starts, updates its pulse count and chain head after every train,
and closes it with the journal's final status and head.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from stimctl.protocol.derived import derive
from stimctl.records import (
    Store,
    begin_session,
    end_session,
    history_for,
    subject_for,
    update_session_progress,
)
from stimctl.safety import History, Subject
from stimctl.session.engine import SessionEngine
from stimctl.session.runner import Prepared
from stimctl.session.summary import Summary

log = logging.getLogger(__name__)


def subject_and_history(subject_id: str, now: dt.datetime) -> tuple[Subject, History]:
    with Store.open() as store:
        return subject_for(store, subject_id), history_for(store, subject_id, now)


@dataclass
class SessionRecorder:
    """Keeps the session's row in step with its journal."""

    subject_id: str
    session_id: str

    @classmethod
    def begin(cls, prepared: Prepared, engine: SessionEngine, operator: str) -> SessionRecorder:
        from stimctl.configs import file_digest

        assert prepared.subject.subject_id is not None
        with Store.open() as store:
            begin_session(
                store,
                subject_id=prepared.subject.subject_id,
                protocol_name=prepared.protocol.name,
                protocol_digest=file_digest(prepared.protocol_path),
                pulses_planned=engine.plan.total_pulses,
                started_at=prepared.now,
                session_id=engine.journal.session_id,
                journal_path=engine.journal.path,
                chain_head=engine.journal.head,
                operator_id=operator,
                device=prepared.device.name,
                coil=prepared.protocol.coil.family,
                protocol_class=derive(prepared.protocol).protocol_class,
                # the threshold this session's dose refers to (kind and muscle, issue 15)
                threshold_id=prepared.threshold.record_id,
            )
        recorder = cls(prepared.subject.subject_id, engine.journal.session_id)
        engine.on_progress = recorder.progress
        return recorder

    def progress(self, pulses_delivered: int, chain_head: str) -> None:
        """Called by the engine thread after each train; never breaks the session."""
        try:
            with Store.open() as store:
                update_session_progress(
                    store, self.session_id, pulses_delivered=pulses_delivered, chain_head=chain_head
                )
        except Exception as exc:  # the journal stays the record of truth
            log.error("could not update session %s on record: %s", self.session_id, exc)

    def end(self, summary: Summary, chain_head: str) -> None:
        with Store.open() as store:
            end_session(
                store,
                self.session_id,
                status=summary.status,
                pulses_delivered=summary.pulses_delivered,
                chain_head=chain_head,
                ended_at=dt.datetime.now(dt.UTC),
            )
