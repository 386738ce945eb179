"""Engineer approvals of locally modified safety tables and site files (issue 13 item 5).

An approval names exactly one file content (its SHA-256), who approved it and why. It is
kept simple on purpose (approver id + reason): the identity work adds authentication and
signatures in `stimctl.session.config_approval.require_approvals`, the one place that
decides whether a modified config may run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import sqlite3
from collections.abc import Callable
from typing import Any

from stimctl.errors import ConfigError
from stimctl.records.store import Store
from stimctl.records.values import check_person_id, from_utc_text, new_id, now_utc, utc_text

_COLUMNS = "id, file_name, sha256, approver_id, reason, approved_at"
_WORD = re.compile(r"[^\W\d_]{3,}")


@dataclasses.dataclass(frozen=True)
class SiteApproval:
    file_name: str
    sha256: str
    approver_id: str
    reason: str
    approved_at: dt.datetime
    id: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "file_name": self.file_name,
            "sha256": self.sha256,
            "approver_id": self.approver_id,
            "reason": self.reason,
            "approved_at": utc_text(self.approved_at),
        }


def check_reason(reason: str) -> None:
    """An approval's reason has words (not "." or invisible characters), at most 1000
    characters; `ConfigError` otherwise (callers check it before asking for a password)."""
    if _WORD.search(reason) is None or len(reason) > 1000:
        raise ConfigError("an approval needs a reason in words (at most 1000 characters)")


def record_approval(
    store: Store,
    approval: SiteApproval,
    *,
    within: Callable[[sqlite3.Connection, SiteApproval], object] | None = None,
) -> SiteApproval:
    """Store an approval; a reason needs words (not "." or invisible characters).

    `within(conn, record)` runs in the same transaction (the approver's signature: both
    rows or neither)."""
    check_person_id(approval.approver_id, "approver")
    if not re.fullmatch(r"[0-9a-f]{64}", approval.sha256):
        raise ConfigError(f"approval digest {approval.sha256[:80]!r} is not a SHA-256")
    check_reason(approval.reason)
    record = dataclasses.replace(approval, id=approval.id or new_id())
    with store.write() as conn:
        conn.execute(
            f"INSERT INTO site_approvals ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.file_name,
                record.sha256,
                record.approver_id,
                record.reason,
                utc_text(record.approved_at),
            ),
        )
        if within is not None:
            within(conn, record)
    return record


def approve(store: Store, name: str, sha256: str, approver_id: str, reason: str) -> SiteApproval:
    return record_approval(store, SiteApproval(name, sha256, approver_id, reason, now_utc()))


def approval_for(store: Store, sha256: str) -> SiteApproval | None:
    """The latest approval of exactly these bytes, or None."""
    with store.read() as conn:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM site_approvals WHERE sha256 = ?"
            " ORDER BY approved_at DESC LIMIT 1",
            (sha256,),
        ).fetchone()
    return None if row is None else _approval(row)


def list_approvals(store: Store) -> list[SiteApproval]:
    with store.read() as conn:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM site_approvals ORDER BY approved_at"
        ).fetchall()
    return [_approval(r) for r in rows]


def _approval(row: sqlite3.Row | tuple[Any, ...]) -> SiteApproval:
    return SiteApproval(
        id=row[0],
        file_name=row[1],
        sha256=row[2],
        approver_id=row[3],
        reason=row[4],
        approved_at=from_utc_text(row[5]),
    )
