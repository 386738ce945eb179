"""A running session's journal up to its last train, in the store (issue 17 item 3).

After each train the records link (`stimctl.session.records_link`, its background
writer) copies the journal's bytes up to and including the train's last record (the
signed checkpoint after ``train_end`` when the journal is signed) into
``journal_prefixes``: one row per session, replaced by each longer prefix, so another
console can verify and report a running or crashed session up to its last train.

A prefix is stored only if it verifies, ends exactly at the chain head the console just
wrote on the session's row, and extends the prefix stored before it (same bytes up to
the old size): a rewritten or forged prefix never becomes the shared copy. The whole
journal's upload at the session's end (`journal_store.upload_journal`) checks that it
extends the stored prefix and then drops it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from stimctl.errors import RecordsError
from stimctl.journal.errors import JournalTampered
from stimctl.journal.record import GENESIS, line_hash
from stimctl.journal.verify import VerifyResult, verify_bytes
from stimctl.records.journal_store import digest_of, linked_digest
from stimctl.records.sessions import get_session
from stimctl.records.store import Store
from stimctl.records.values import now_utc, utc_text

Stored = Literal["stored", "already", "uploaded"]


def prefix_up_to(data: bytes, head: str) -> bytes | None:
    """`data` cut after the complete line whose hash is `head` (None if there is none:
    the file does not hold that record yet, or not any more)."""
    end = 0
    while (newline := data.find(b"\n", end)) != -1:
        if line_hash(data[end:newline]) == head:
            return data[: newline + 1]
        end = newline + 1
    return None


def _refused(session_id: str, why: str, result: VerifyResult | None = None) -> JournalTampered:
    return JournalTampered(
        f"the journal prefix of session {session_id} is refused: {why}",
        result or VerifyResult(False, 0, GENESIS, None, why),
    )


def store_prefix(store: Store, session_id: str, data: bytes, head: str) -> Stored:
    """Store `data` as the session's journal up to chain head `head`.

    Raises `JournalTampered` (nothing stored) if it does not verify, does not end at
    `head`, `head` is not the row's chain head, or it does not extend the stored prefix."""
    session = get_session(store, session_id)
    if linked_digest(store, session_id) is not None:
        return "uploaded"  # the whole journal is in the store already
    result = verify_bytes(data, expected_head=head)
    if not result.ok or result.truncated:
        raise _refused(session_id, f"line {result.first_bad_line}: {result.reason}", result)
    if result.head != head:
        raise _refused(session_id, f"it does not end at chain head {head[:16]}...", result)
    if session.chain_head != head:
        raise _refused(session_id, "its head is not the chain head on the session's row")
    digest = digest_of(data)
    with store.write() as conn:
        row = conn.execute(
            "SELECT digest, size FROM journal_prefixes WHERE session_id = ?", (session_id,)
        ).fetchone()
        if row is not None:
            old_digest, old_size = str(row[0]), int(row[1])
            if old_digest == digest:
                return "already"
            if old_size > len(data) or digest_of(data[:old_size]) != old_digest:
                raise _refused(session_id, "it does not extend the prefix stored before it")
        conn.execute(
            "INSERT INTO journal_prefixes (session_id, head, digest, size, content, stored_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET"
            " head = excluded.head, digest = excluded.digest, size = excluded.size,"
            " content = excluded.content, stored_at = excluded.stored_at",
            (session_id, head, digest, len(data), data, utc_text(now_utc())),
        )
    return "stored"


def copy_prefix(store: Store, session_id: str, journal: Path, head: str) -> Stored:
    """Read the local journal (it may have grown since) and store it up to `head`."""
    try:
        data = journal.read_bytes()
    except OSError as exc:
        raise RecordsError(f"cannot read the journal {journal}: {exc}") from None
    prefix = prefix_up_to(data, head)
    if prefix is None:
        raise _refused(session_id, f"{journal} holds no record with hash {head[:16]}...")
    return store_prefix(store, session_id, prefix, head)


def stored_prefix(store: Store, session_id: str) -> bytes | None:
    """The session's stored prefix, checked against its digest; None if there is none."""
    with store.read() as conn:
        row = conn.execute(
            "SELECT digest, content FROM journal_prefixes WHERE session_id = ?", (session_id,)
        ).fetchone()
    if row is None:
        return None
    data = bytes(row[1])
    if digest_of(data) != row[0]:
        raise RecordsError(
            f"the stored journal prefix of session {session_id} does not match its digest"
            f" {str(row[0])[:12]}: the store's copy is damaged"
        )
    return data
