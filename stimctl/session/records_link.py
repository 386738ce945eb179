"""Sessions of a subject on record: RMT and history in, the session's row out.

`--subject ID` takes the subject's latest threshold, screening and history from the
store (so the daily and course rules act on real history). `SessionRecorder.claim`
starts the session in the store before the device is opened: in one transaction it
closes dead sessions' rows, re-evaluates the safety verdict on the history as it is now
and inserts the running row (`stimctl.records.start`), so of several starts for one
subject only those the rules allow get through. The row is then updated after every
train (and the journal up to that train copied into the store) and closed with the
journal's final status and head.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from stimctl.records import (
    Store,
    end_session,
    history_for,
    subject_for,
    update_session_progress,
)
from stimctl.records.journal_prefix import copy_prefix
from stimctl.records.reconcile import Reconciled, reconcile
from stimctl.records.sessions import abandon_session
from stimctl.records.start import SessionStart, start_session
from stimctl.safety import History, Subject
from stimctl.safety.engine import evaluate
from stimctl.safety.verdict import Verdict
from stimctl.session.engine import SessionEngine
from stimctl.session.runner import Override, Prepared, decide
from stimctl.session.summary import Summary

log = logging.getLogger(__name__)

PROGRESS_QUEUE = 8
"""Updates that may wait for the store; a later one supersedes the oldest."""
PROGRESS_BUSY_TIMEOUT_S = 2.0
"""A progress update waits this long for a locked store (the next one will try again)."""
FLUSH_TIMEOUT_S = 30.0
"""How long `end` waits for waiting updates before it closes the row anyway."""

Progress = tuple[int, str]


def subject_and_history(
    subject_id: str, now: dt.datetime
) -> tuple[Subject, History, list[Reconciled]]:
    """The subject and its history after dead sessions' rows were closed (their count
    then weighs in the first check; the start re-checks in its own transaction)."""
    with Store.open() as store:
        closed = [r for r in reconcile(store, subject_id) if r.closed]
        return subject_for(store, subject_id), history_for(store, subject_id, now), closed


@dataclass
class SessionRecorder:
    """Keeps the session's row in step with its journal."""

    subject_id: str
    session_id: str
    reconciled: tuple[Reconciled, ...] = ()
    journal_path: str | None = None
    """The local journal: after each train the writer copies it up to that train into
    the store (`stimctl.records.journal_prefix`); None: rows only."""
    warnings: list[str] = field(default_factory=list)
    """Failed row updates, for the operator (the CLI prints them at the end)."""
    dropped: int = 0
    """Updates superseded while the store was slow (not an error)."""
    _queue: queue.Queue[Progress | None] = field(
        default_factory=lambda: queue.Queue(PROGRESS_QUEUE), repr=False
    )
    _writer: threading.Thread | None = field(default=None, repr=False)
    _notify: Callable[[str], None] | None = field(default=None, repr=False)

    @classmethod
    def claim(
        cls, prepared: Prepared, operator: str, session_id: str, journal_path: str
    ) -> tuple[SessionRecorder, Prepared]:
        """Start the session on record, re-checking the rules on fresh history under the
        subject's lock. Returns the recorder and `prepared` with the verdict and override
        of that re-check. Raises `SafetyViolation`/`OverrideRequired` to refuse."""
        from stimctl.configs import file_digest

        subject_id = prepared.subject.subject_id
        assert subject_id is not None
        # What is recorded as planned is what the engine will send: the compiled plan
        # (the re-check's PLAN-1 holds it to the protocol's figures), not a second
        # derivation of the protocol (issue 14 item 1).
        plan = prepared.plan

        def check(history: History, now: dt.datetime) -> tuple[Verdict, Override | None]:
            verdict = evaluate(
                prepared.protocol,
                prepared.subject,
                now=now,
                device=prepared.device,
                site=prepared.site,
                history=history,
                require_screening=True,
                plan=plan,  # the guard's limits come from this verdict
                external_trigger=prepared.trigger is not None,  # judged as prepare judged it
            )
            return verdict, decide(verdict, prepared.requested_override)

        with Store.open() as store:
            started = start_session(
                store,
                SessionStart(
                    subject_id=subject_id,
                    session_id=session_id,
                    protocol_name=prepared.protocol.name,
                    protocol_digest=file_digest(prepared.protocol_path),
                    pulses_planned=sum(train.pulses for train in plan.trains),
                    started_at=prepared.now,
                    journal_path=journal_path,
                    operator_id=operator,
                    device=prepared.device.name,
                    coil=prepared.protocol.coil.family,
                    protocol_class=plan.derived.protocol_class,
                    simulated=prepared.simulated,
                    mode=prepared.site.mode,
                    study_id=prepared.study_id,
                    # the threshold this session's dose refers to (kind and muscle, issue 15)
                    threshold_id=prepared.threshold.record_id,
                ),
                check,
            )
        verdict, override = started.decision
        rechecked = dataclasses.replace(
            prepared, verdict=verdict, override=override, now=started.record.started_at
        )
        return cls(subject_id, session_id, started.reconciled, journal_path), rechecked

    def attach(self, engine: SessionEngine) -> None:
        """Take the engine's progress from now on; failures raise its RECORDS alarm."""
        engine.on_progress = self.progress
        self._notify = engine.records_failed
        self._writer = threading.Thread(
            target=self._write_progress, name="stimctl-records-link", daemon=True
        )
        self._writer.start()

    def abandon(self, why: BaseException) -> None:
        """The session never started (the device could not be opened): close the row."""
        try:
            with Store.open() as store:
                abandon_session(
                    store,
                    self.session_id,
                    note=f"not started: {type(why).__name__}: {why}",
                    ended_at=dt.datetime.now(dt.UTC),
                )
        except Exception as exc:  # the original error is the one to report
            log.error("could not close session %s on record: %s", self.session_id, exc)

    def progress(self, pulses_delivered: int, chain_head: str) -> None:
        """Called by the engine thread after each train; never blocks, never raises."""
        item = (pulses_delivered, chain_head)
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()  # superseded by this newer update
                    self.dropped += 1
                except queue.Empty:
                    pass

    def _write_progress(self) -> None:
        while (item := self._queue.get()) is not None:
            pulses, head = item
            try:
                with Store.open(busy_timeout_s=PROGRESS_BUSY_TIMEOUT_S) as store:
                    update_session_progress(
                        store, self.session_id, pulses_delivered=pulses, chain_head=head
                    )
                    if self.journal_path is not None:
                        self._copy_prefix(store, pulses, head)
            except Exception as exc:  # the journal stays the record of truth
                self._failed(f"the session's row could not be updated ({pulses} pulses): {exc}")

    def _copy_prefix(self, store: Store, pulses: int, head: str) -> None:
        """The journal up to this train into the store, so another console can report
        the session while it runs or after a crash. A failure is a warning only: the
        whole journal is uploaded at the end (or by `records sync`)."""
        assert self.journal_path is not None
        try:
            copy_prefix(store, self.session_id, Path(self.journal_path), head)
        except Exception as exc:
            self._failed(f"the journal up to {pulses} pulses was not copied to the store: {exc}")

    def _failed(self, message: str) -> None:
        log.error("session %s: %s", self.session_id, message)
        self.warnings.append(message)
        notify = self._notify
        if notify is not None:
            try:
                notify(message)
            except Exception:  # telling the operator must not kill the writer
                log.exception("records notice failed")

    def flush(self, timeout_s: float = FLUSH_TIMEOUT_S) -> None:
        """Write what waits and stop the writer (at the end of the session)."""
        writer = self._writer
        if writer is None:
            return
        self._writer = None
        try:
            self._queue.put(None, timeout=timeout_s)
        except queue.Full:
            self._failed("the records link did not drain its queue; progress updates lost")
            return
        writer.join(timeout_s)
        if writer.is_alive():
            self._failed(f"the records link did not finish within {timeout_s:g} s")

    def end(self, summary: Summary, chain_head: str) -> None:
        self.flush()
        with Store.open() as store:
            end_session(
                store,
                self.session_id,
                status=summary.status,
                pulses_delivered=summary.pulses_delivered,
                chain_head=chain_head,
                ended_at=dt.datetime.now(dt.UTC),
                # a bounded count (pulled cable, cut train): the rules count the plan
                pulses_exact=summary.count_exact,
            )
