"""Session journals in the record store, content-addressed (issue 17 item 3).

A console writes its journal to a local file (the record of truth while it runs and while
the store is unreachable). Once the session has ended, the file's bytes go into
``journal_blobs`` under their SHA-256 and the session row links to that digest, so any
console of the clinic can verify and report the session. A journal is uploaded only if it
verifies and ends at the chain head on the row: a rewritten file never becomes the shared
copy. A copy read back is checked against its digest before it is used.

While the session runs, the journal up to each train's end is kept in
``journal_prefixes`` (`stimctl.records.journal_prefix`); `journal_file` falls back to it.
Uploads of the whole journal happen after the session returns (`stimctl run` /
`dry-run`), at the next session start and with `stimctl records sync`; none of them
ever fails a session: the local file waits for the next one.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from stimctl.errors import ConfigError, RecordsError
from stimctl.journal.errors import JournalTampered
from stimctl.journal.record import GENESIS
from stimctl.journal.verify import VerifyResult, read_bytes, verify_bytes
from stimctl.journal.writer import JOURNAL_SUFFIX
from stimctl.records.models import SESSION_RUNNING, SessionRecord
from stimctl.records.sessions import get_session
from stimctl.records.store import Store
from stimctl.records.values import now_utc, utc_text

Uploaded = Literal["uploaded", "already", "running", "no-journal"]


@dataclass
class SyncResult:
    uploaded: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)
    """Sessions not in the store whose journal is not on this console (another console's
    to upload)."""
    failed: list[str] = field(default_factory=list)
    """One line per journal that could not be uploaded (tampered, unreadable, no room)."""
    tampered: list[str] = field(default_factory=list)
    """The sessions among `failed` whose journal did not verify (the others failed for
    the store: a full disk is not a tampered journal)."""


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload_journal(store: Store, session_id: str) -> Uploaded:
    """Copy the ended session's local journal into the store and link it from the row.

    Refused (`JournalTampered`, exit 8) if the file does not verify or does not end at the
    row's chain head; a missing local file is a `ConfigError`; a row already linked to a
    different copy is a `JournalTampered` (the file changed after it was uploaded)."""
    session = get_session(store, session_id)
    if session.status == SESSION_RUNNING:
        return "running"  # the file still grows; the session's end uploads it
    if session.journal_path is None:
        return "no-journal"
    linked = linked_digest(store, session_id)
    data = read_bytes(session.journal_path)
    digest = digest_of(data)
    if linked == digest:
        return "already"
    _check(session, data)
    with store.write() as conn:
        _extends_stored_prefix(conn, session_id, data)
        conn.execute(
            "INSERT INTO journal_blobs (digest, size, content, stored_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (digest) DO NOTHING",
            (digest, len(data), data, utc_text(now_utc())),
        )
        row = conn.execute(
            "SELECT journal_digest FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        current = None if row is None else row[0]
        if current is not None and current != digest:
            raise _changed(session_id, current, digest)
        conn.execute("UPDATE sessions SET journal_digest = ? WHERE id = ?", (digest, session_id))
        # the whole journal supersedes the copy up to its last train
        conn.execute("DELETE FROM journal_prefixes WHERE session_id = ?", (session_id,))
    return "uploaded"


def _extends_stored_prefix(conn: sqlite3.Connection, session_id: str, data: bytes) -> None:
    """The whole journal must start with the prefix stored at its last train (else the
    file was rewritten after that train went to the store)."""
    row = conn.execute(
        "SELECT digest, size FROM journal_prefixes WHERE session_id = ?", (session_id,)
    ).fetchone()
    if row is not None and digest_of(data[: int(row[1])]) != row[0]:
        raise JournalTampered(
            f"the journal of session {session_id} does not extend the copy stored at its"
            f" last train (stored prefix {str(row[0])[:12]}); not uploaded",
            _mismatch("does not extend the stored prefix"),
        )


def _check(session: SessionRecord, data: bytes) -> None:
    head = session.chain_head if session.chain_head not in (None, GENESIS) else None
    result = verify_bytes(data, expected_head=head)
    if not result.ok:
        raise JournalTampered(
            f"the journal of session {session.id} ({session.journal_path}) does not verify"
            f" (line {result.first_bad_line}: {result.reason}); not uploaded",
            result,
        )


def _mismatch(reason: str) -> VerifyResult:
    return VerifyResult(False, 0, GENESIS, None, reason)


def _changed(session_id: str, stored: str, local: str) -> JournalTampered:
    return JournalTampered(
        f"the journal of session {session_id} differs from its copy in the store"
        f" (stored {stored[:12]}, local file {local[:12]})",
        _mismatch("differs from the stored copy"),
    )


def linked_digest(store: Store, session_id: str) -> str | None:
    with store.read() as conn:
        row = conn.execute(
            "SELECT journal_digest FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
    if row is None:
        raise ConfigError(f"unknown session {session_id!r}")
    return None if row[0] is None else str(row[0])


def stored_journal(store: Store, session_id: str) -> bytes | None:
    """The session's journal as stored, checked against its digest; None if not uploaded."""
    with store.read() as conn:
        row = conn.execute(
            "SELECT b.digest, b.content FROM sessions s JOIN journal_blobs b"
            " ON b.digest = s.journal_digest WHERE s.id = ?",
            (session_id,),
        ).fetchone()
    if row is None:
        return None
    data = bytes(row[1])
    if digest_of(data) != row[0]:
        raise RecordsError(
            f"the stored journal of session {session_id} does not match its digest"
            f" {str(row[0])[:12]}: the store's copy is damaged"
        )
    return data


def journal_file(store: Store, session: SessionRecord) -> Path | None:
    """A file holding the session's journal: the local one if this console has it, else
    the store's copy (the whole journal, or the prefix up to its last train) written to
    ``$STIMCTL_HOME/journals-from-store/`` (None if neither)."""
    if session.journal_path is not None and Path(session.journal_path).exists():
        return Path(session.journal_path)
    data = stored_journal(store, session.id)
    if data is None:
        from stimctl.records.journal_prefix import stored_prefix

        data = stored_prefix(store, session.id)  # a running or crashed session's trains
    if data is None:
        return None
    from stimctl.journal.paths import stimctl_home

    folder = stimctl_home() / "journals-from-store"
    target = folder / f"{session.id}{JOURNAL_SUFFIX}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if target.exists() and target.read_bytes() == data:
            return target
        aside = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        aside.write_bytes(data)
        os.replace(aside, target)
    except OSError as exc:
        raise RecordsError(f"cannot write the stored journal to {target}: {exc}") from None
    return target


def sync_journals(store: Store, *, limit: int | None = None) -> SyncResult:
    """Upload every ended session's journal that is on this console and not yet in the
    store, newest first (at most `limit` uploads: a session start does not wait for a
    whole history; `records sync` has no limit). Problems are collected, not raised: one
    bad journal does not hold back the others."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT id, journal_path FROM sessions WHERE journal_digest IS NULL"
            " AND journal_path IS NOT NULL AND status != ? ORDER BY started_at DESC, id",
            (SESSION_RUNNING,),
        ).fetchall()
    result = SyncResult()
    for session_id, path in rows:
        if limit is not None and len(result.uploaded) + len(result.failed) >= limit:
            break
        if not Path(path).exists():
            result.elsewhere.append(session_id)
            continue
        try:
            if upload_journal(store, session_id) == "uploaded":
                result.uploaded.append(session_id)
        except (ConfigError, RecordsError) as exc:
            result.failed.append(f"{session_id}: {exc}")
            if isinstance(exc, JournalTampered):
                result.tampered.append(session_id)
    return result
