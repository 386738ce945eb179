"""Electronic signatures in the sense of 21 CFR 11.50 and 11.70 (ADR 0014).

A signature row holds the signer's id and printed name, their role, the time, the
meaning ("approved override of WASS1998_T4", "prescribed course ...", "reviewed adverse
event ..."), and the record it signs (type and id) with a SHA-256 digest of the signed
content, so an edit of the record after signing shows (11.70: the signature is linked to
its record and cannot be moved to another one without the digest disagreeing).

A signature needs a fresh credential entry (11.200(a)(1)): `SigningGrant` comes only
from `authorize_signature`, which always checks the secret (there is no cached login),
is good for one signature, and expires after `MAX_SIGNING_DELAY`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from stimctl.errors import AuthError
from stimctl.identity.operators import SIGNING_ROLES, Authenticated, Role, require_role
from stimctl.records.store import Store
from stimctl.records.values import new_id, now_utc, record_from_row, utc_text

RecordType = Literal[
    "override", "course", "adverse_event_review", "site_approval", "other", "course_change"
]
MAX_SIGNING_DELAY: Final = dt.timedelta(minutes=2)
"""From the credential entry to the signature row: long enough to write the record,
too short to count as a session-long login."""

_COLUMNS = (
    "id, signer_id, signer_name, signer_role, meaning, record_type, record_id,"
    " content_digest, signed_at"
)


@dataclass(frozen=True)
class Signature:
    id: str
    signer_id: str
    signer_name: str
    signer_role: str
    meaning: str
    record_type: str
    record_id: str
    content_digest: str
    signed_at: dt.datetime

    def line(self) -> str:
        """One line for reports: who, when, what it means."""
        return (
            f"{self.signer_name} ({self.signer_id}, {self.signer_role}),"
            f" {self.signed_at:%Y-%m-%d %H:%M:%S} UTC: {self.meaning}"
        )

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "signer_id": self.signer_id,
            "signer_name": self.signer_name,
            "signer_role": self.signer_role,
            "meaning": self.meaning,
            "record_type": self.record_type,
            "record_id": self.record_id,
            "content_digest": self.content_digest,
            "signed_at": utc_text(self.signed_at),
        }


@dataclass
class SigningGrant:
    """One fresh credential entry by a signer, good for one signature."""

    proof: Authenticated
    used: bool = field(default=False)


def authorize_signature(
    store: Store,
    signer_id: str,
    credential: str,
    *,
    meaning: str,
    roles: tuple[Role, ...] = SIGNING_ROLES,
) -> SigningGrant:
    """Check the signer's credential now and their role; AuthError (exit 10) if either
    fails. An id that is not a registered physician (e.g. ``engine``) is refused."""
    return SigningGrant(
        require_role(store, signer_id, roles, credential, purpose=f"sign: {meaning}")
    )


def content_digest(content: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of `content` (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def signed_content(
    record_type: str, record_id: str, meaning: str, signer: str, content: Mapping[str, Any]
) -> dict[str, Any]:
    """What the digest covers: the record's content and the signature's own manifestation."""
    return {
        "record_type": record_type,
        "record_id": record_id,
        "meaning": meaning,
        "signer_id": signer,
        "content": dict(content),
    }


def insert_signature(
    conn: sqlite3.Connection,
    grant: SigningGrant,
    *,
    meaning: str,
    record_type: RecordType,
    record_id: str,
    content: Mapping[str, Any],
    now: dt.datetime | None = None,
) -> Signature:
    """Write the signature inside the caller's transaction (the same one that writes
    the signed record: both or neither). Uses up `grant`."""
    moment = now or now_utc()
    if grant.used:
        raise AuthError("a credential entry signs one record only; enter it again")
    if moment - grant.proof.at > MAX_SIGNING_DELAY:
        raise AuthError(
            "the credential entry is older than"
            f" {int(MAX_SIGNING_DELAY.total_seconds())} s; enter it again to sign"
        )
    grant.used = True
    signer = grant.proof.operator
    digest = content_digest(signed_content(record_type, record_id, meaning, signer.id, content))
    signature = Signature(
        id=new_id(),
        signer_id=signer.id,
        signer_name=signer.name,
        signer_role=signer.role,
        meaning=meaning,
        record_type=record_type,
        record_id=record_id,
        content_digest=digest,
        signed_at=moment,
    )
    conn.execute(
        f"INSERT INTO signatures ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            signature.id,
            signature.signer_id,
            signature.signer_name,
            signature.signer_role,
            signature.meaning,
            signature.record_type,
            signature.record_id,
            signature.content_digest,
            utc_text(signature.signed_at),
        ),
    )
    return signature


def signatures_of(
    store: Store, record_type: str | None = None, record_id: str | None = None
) -> list[Signature]:
    """Signatures, oldest first; of one record type, or of one record."""
    sql = f"SELECT {_COLUMNS} FROM signatures"
    args: tuple[str, ...] = ()
    if record_type is not None and record_id is not None:
        sql += " WHERE record_type = ? AND record_id = ?"
        args = (record_type, record_id)
    elif record_type is not None:
        sql += " WHERE record_type = ?"
        args = (record_type,)
    with store.read() as conn:
        rows = conn.execute(sql + " ORDER BY signed_at, id", args).fetchall()
    return [_signature(r) for r in rows]


def matches(signature: Signature, content: Mapping[str, Any]) -> bool:
    """True if `content` is what `signature` signed (the record was not changed since)."""
    expected = signed_content(
        signature.record_type,
        signature.record_id,
        signature.meaning,
        signature.signer_id,
        content,
    )
    return content_digest(expected) == signature.content_digest


def _signature(row: tuple[Any, ...]) -> Signature:
    return record_from_row(Signature, _COLUMNS, row, times=("signed_at",))
