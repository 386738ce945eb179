"""The session journal against its row and the keys on record (`stimctl.journal.attest`),
crash recovery that asks the store first, and the closing of a row from its journal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stimctl.clock import Clock
from stimctl.errors import ConfigError, ExitCode, StateError, StimctlError
from stimctl.journal import close_interrupted, count_pulses, events, find_unfinished, read, verify
from stimctl.journal.attest import Attestation, Outcome, PublicKey, RowFacts, attest
from stimctl.journal.paths import journals_dir
from stimctl.journal.record import GENESIS
from stimctl.journal.verify import read_bytes
from stimctl.journal.writer import JOURNAL_SUFFIX
from stimctl.records.models import SESSION_RUNNING, SessionRecord
from stimctl.records.sessions import end_session, get_session
from stimctl.records.store import Store, default_db_path
from stimctl.records.values import from_utc_text


@dataclass(frozen=True)
class JournalCheck:
    """``ok`` False: the journal is missing, tampered, unfinished, or disagrees with the
    row. ``outcome`` and ``finding`` are the verdict's (`stimctl.journal.attest`)."""

    session_id: str
    ok: bool
    reason: str
    journal_pulses: int | None = None
    recorded_pulses: int = 0
    outcome: str = "intact"
    finding: str = "ok"

    @property
    def exit_code(self) -> int:
        """0 intact or unsigned, 6 unfinished, 8 tampered."""
        if self.outcome == Outcome.TAMPERED:
            return ExitCode.TAMPERED
        return ExitCode.STATE if self.outcome == Outcome.UNFINISHED else ExitCode.OK


def row_facts(session: SessionRecord) -> RowFacts:
    return RowFacts(session.id, session.status, session.chain_head, session.pulses_delivered)


def public_keys(store: Store) -> dict[str, PublicKey]:
    from stimctl.keys.registry import keys_on_record

    return {
        k.key_id: PublicKey(k.key_id, k.public_key, k.created_at, k.retired_at)
        for k in keys_on_record(store).values()
    }


def find_row(store: Store, session_id: str) -> SessionRecord | None:
    try:
        return get_session(store, session_id)
    except ConfigError:
        return None


def attest_session(store: Store, session_id: str) -> Attestation:
    """Verify the journal of a session on record."""
    session = get_session(store, session_id)
    if session.journal_path is None:
        return Attestation(
            Outcome.TAMPERED,
            "no-journal",
            f"session {session_id} has no journal on record",
            session_id=session_id,
        )
    path = Path(session.journal_path)
    if not path.exists():
        from stimctl.records.journal_store import stored_journal

        stored = stored_journal(store, session_id)  # another console's session (issue 17)
        if stored is None:
            from stimctl.records.journal_prefix import stored_prefix

            stored = stored_prefix(store, session_id)  # up to its last train: running/crashed
        if stored is not None:
            named = Path(f"{session_id}{JOURNAL_SUFFIX}")
            return _attest(stored, named, session, public_keys(store))
        return Attestation(
            Outcome.TAMPERED,
            "journal-missing",
            f"the journal of session {session_id} is missing: no file {path} (the store"
            f" says it {_said(session)})",
            session_id=session_id,
        )
    return _attest(read_bytes(path), path, session, public_keys(store))


def attest_path(path: Path, store: Store | None) -> Attestation:
    """Verify a journal file; its row (by the file's session id) and the keys come from
    `store` when there is one."""
    sid = path.name.removesuffix(JOURNAL_SUFFIX)
    session = None if store is None else find_row(store, sid)
    keys = {} if store is None else public_keys(store)
    return _attest(read_bytes(path), path, session, keys)


def _attest(
    data: bytes, path: Path, session: SessionRecord | None, keys: Mapping[str, PublicKey]
) -> Attestation:
    sid = path.name.removesuffix(JOURNAL_SUFFIX)
    row = None if session is None else row_facts(session)
    return attest(data, file_session_id=sid, row=row, keys=keys)


def open_existing_store() -> Store | None:
    """The configured store: the clinic's PostgreSQL server, else the default file if it
    exists (verification never creates one)."""
    from stimctl.records.backend import database_url

    if database_url() is not None:
        return Store.open()
    path = default_db_path()
    return Store.open(path) if path.exists() else None


def verify_session_journal(store: Store, session_id: str) -> JournalCheck:
    """Verify the session's journal with everything on record."""
    session = get_session(store, session_id)
    result = attest_session(store, session_id)
    ok = result.outcome in (Outcome.INTACT, Outcome.UNSIGNED)
    return JournalCheck(
        session_id,
        ok,
        result.message,
        result.pulses,
        session.pulses_delivered,
        str(result.outcome),
        result.finding,
    )


def recover_journals(clock: Clock, directory: Path | None = None) -> list[str]:
    """Close journals left open by a crash, one line per journal; a journal whose row
    says the session ended, or which fails verification, is reported and left as it is
    (recovery must never turn a cut journal into an "interrupted" one)."""
    lines = []
    store = open_existing_store()
    try:
        for path in find_unfinished(directory or journals_dir()):
            try:
                verdict = attest_path(path, store)
                if verdict.outcome is not Outcome.UNFINISHED:
                    lines.append(f"{path.name}: not recovered: TAMPERED: {verdict.message}")
                    continue
                summary = close_interrupted(path, clock=clock)
            except StimctlError as exc:
                lines.append(f"{path.name}: could not close: {exc}")
                continue
            if summary.resealed:
                lines.append(f"{path.name}: sealed after a crash between session_end and seal")
            else:
                lines.append(
                    f"{path.name}: closed as interrupted,"
                    f" {summary.pulses_delivered} pulses delivered"
                )
    finally:
        if store is not None:
            store.close()
    return lines


def reconcile_session(store: Store, session_id: str) -> SessionRecord:
    """End a ``running`` row from its closed journal (after crash recovery wrote the
    ``interrupted`` session_end): status, pulses and head come from the journal, which
    must still contain the head stored in the row."""
    session = get_session(store, session_id)
    if session.status != SESSION_RUNNING:
        raise StateError(f"session {session_id!r} already ended ({session.status})")
    if session.journal_path is None:
        raise ConfigError(f"session {session_id!r} has no journal to reconcile with")
    head = session.chain_head if session.chain_head != GENESIS else None
    records = read(session.journal_path, expected_head=head)  # tampered: RecordsError
    result = verify(session.journal_path, expected_head=head)
    closing = next((r for r in reversed(records) if r["event"] == events.SESSION_END), None)
    if closing is None:
        raise StateError(
            f"session {session_id!r}: the journal is not closed; run crash recovery first"
        )
    return end_session(
        store,
        session_id,
        status=str(closing["payload"]["status"]),
        pulses_delivered=count_pulses(records).pulses,
        chain_head=result.head,
        ended_at=from_utc_text(closing["utc"]),
    )


def _said(session: SessionRecord) -> str:
    if session.status == SESSION_RUNNING:
        return "is running"
    return f"ended {session.status} with {session.pulses_delivered} pulses"
