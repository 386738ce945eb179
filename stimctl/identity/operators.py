"""Operators as people: id, printed name, role, credential, lockout (ADR 0014).

Roles and what each may do (`ALLOWED`):

- ``physician``: signs overrides, course prescriptions and adverse-event reviews; may
  run sessions and hunts; registers and disables operators.
- ``operator``: runs sessions and threshold hunts.
- ``engineer``: runs the self-test, changes site files and keys; registers and disables
  operators.

The first operator of a store with no registered operator is created without a
credential check and must be a physician or an engineer; every later one needs a
physician's or an engineer's fresh credential. Rows created by earlier versions on first
use (``ensure_operator``) have no credential: they keep old records valid but can never
authenticate.

Lockout: `LOCK_AFTER` (3) wrong credentials in a row lock the account for `LOCK_FOR`
(5 minutes); while locked every attempt is refused without looking at the secret. Every
attempt, right or wrong, is kept in ``auth_events``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final, Literal, cast

from stimctl.errors import AuthError, ConfigError
from stimctl.identity import kdf
from stimctl.identity.text import check_name, check_operator_id
from stimctl.records.store import Store
from stimctl.records.values import from_utc_text, maybe_utc, new_id, now_utc, utc_text

Role = Literal["physician", "operator", "engineer"]
ROLES: Final[tuple[Role, ...]] = ("physician", "operator", "engineer")
ADMIN_ROLES: Final[tuple[Role, ...]] = ("physician", "engineer")
SESSION_ROLES: Final[tuple[Role, ...]] = ("operator", "physician")
SIGNING_ROLES: Final[tuple[Role, ...]] = ("physician",)

ALLOWED: Final[dict[str, tuple[Role, ...]]] = {
    "run sessions": SESSION_ROLES,
    "run threshold hunts": SESSION_ROLES,
    "sign overrides": SIGNING_ROLES,
    "prescribe courses": SIGNING_ROLES,
    "review adverse events": SIGNING_ROLES,
    "run the self-test": ("engineer",),
    "change site files": ("engineer",),
    "manage keys": ("engineer",),
    "manage operators": ADMIN_ROLES,
}
"""What each role may do; `require_role` takes one of these tuples."""

LOCK_AFTER: Final = 3
LOCK_FOR: Final = dt.timedelta(minutes=5)

_COLUMNS = (
    "id, role, created_at, name, credential, disabled_at, failed_attempts, locked_until, created_by"
)


@dataclass(frozen=True)
class Operator:
    id: str
    name: str
    role: str
    created_at: dt.datetime
    registered: bool
    """True when the operator has a credential (rows created on first use have none)."""
    disabled_at: dt.datetime | None = None
    locked_until: dt.datetime | None = None
    created_by: str | None = None

    def locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


@dataclass(frozen=True)
class Authenticated:
    """Proof that `operator` entered the right credential at `at` for `purpose`."""

    operator: Operator
    at: dt.datetime
    purpose: str
    failures_before: int
    """Wrong credentials since this operator's previous successful entry (journaled)."""


@dataclass(frozen=True)
class AuthEvent:
    operator_id: str
    event: str
    purpose: str
    at: dt.datetime


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    return role


def registered_count(store: Store) -> int:
    with store.read() as conn:
        return _registered_count(conn)


def get_operator(store: Store, operator_id: str) -> Operator | None:
    with store.read() as conn:
        return _operator(conn, operator_id)


def list_operators(store: Store) -> list[Operator]:
    with store.read() as conn:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM operators ORDER BY id").fetchall()
    return [_from_row(r) for r in rows]


def add_operator(
    store: Store,
    operator_id: str,
    *,
    name: str,
    role: str,
    secret: str,
    by: Authenticated | None,
    now: dt.datetime | None = None,
) -> Operator:
    """Register an operator. With no registered operator yet, `by` may be None and the
    role must be physician or engineer; otherwise `by` must be a physician or engineer."""
    check_operator_id(operator_id)
    name = check_name(name)
    checked_role = check_role(role)
    credential = kdf.hash_secret(secret)
    moment = now or now_utc()
    with store.write() as conn:
        if _registered_count(conn) == 0:
            if checked_role not in ADMIN_ROLES:
                raise AuthError(
                    f"the first operator must be a physician or an engineer, not {role!r}"
                    " (they register everyone else)"
                )
        elif by is None:
            raise AuthError(
                "registering an operator needs a physician's or engineer's credential"
                " (give --by ID)"
            )
        elif by.operator.role not in ADMIN_ROLES:
            raise AuthError(
                f"{by.operator.id} is {_a(by.operator.role)}: only a physician or an engineer"
                " may register operators"
            )
        existing = _operator(conn, operator_id)
        if existing is not None and existing.registered:
            raise ConfigError(f"operator {operator_id!r} already exists")
        creator = by.operator.id if by is not None else None
        if existing is None:
            conn.execute(
                f"INSERT INTO operators ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL, 0, NULL, ?)",
                (operator_id, checked_role, utc_text(moment), name, credential, creator),
            )
        else:  # a row made on first use by an earlier version: it becomes a person
            conn.execute(
                "UPDATE operators SET role = ?, name = ?, credential = ?, created_by = ?,"
                " failed_attempts = 0, locked_until = NULL WHERE id = ?",
                (checked_role, name, credential, creator, operator_id),
            )
        record_event(
            conn, operator_id, "registered", f"by {creator or 'first-operator rule'}", moment
        )
        found = _operator(conn, operator_id)
    assert found is not None
    return found


def authenticate(
    store: Store, operator_id: str, secret: str, *, purpose: str, now: dt.datetime | None = None
) -> Authenticated:
    """Check `secret` against the operator's credential; AuthError (exit 10) if the
    operator is unknown, disabled or locked, or the secret is wrong. Every attempt is
    recorded; the third wrong one in a row locks the account for `LOCK_FOR`."""
    check_operator_id(operator_id)
    moment = now or now_utc()
    found = get_operator(store, operator_id)
    refusal = _refusal(found, operator_id, moment)
    if refusal is not None:
        event, message = refusal
        with store.write() as conn:
            record_event(conn, operator_id, event, purpose, moment)
        raise AuthError(message)
    assert found is not None
    stored = _credential(store, operator_id)
    ok = kdf.verify_secret(stored, secret)
    locked_until: dt.datetime | None = None
    with store.write() as conn:
        if ok:
            failures = _failures_since_success(conn, operator_id)
            conn.execute(
                "UPDATE operators SET failed_attempts = 0, locked_until = NULL WHERE id = ?",
                (operator_id,),
            )
            if kdf.needs_rehash(stored):
                conn.execute(
                    "UPDATE operators SET credential = ? WHERE id = ?",
                    (kdf.hash_secret(secret), operator_id),
                )
            record_event(conn, operator_id, "authenticated", purpose, moment)
        else:
            conn.execute(
                "UPDATE operators SET failed_attempts = failed_attempts + 1 WHERE id = ?",
                (operator_id,),
            )
            record_event(conn, operator_id, "credential-rejected", purpose, moment)
            row = conn.execute(
                "SELECT failed_attempts FROM operators WHERE id = ?", (operator_id,)
            ).fetchone()
            if int(row[0]) >= LOCK_AFTER:
                locked_until = moment + LOCK_FOR
                conn.execute(
                    "UPDATE operators SET failed_attempts = 0, locked_until = ? WHERE id = ?",
                    (utc_text(locked_until), operator_id),
                )
                record_event(conn, operator_id, "locked", purpose, moment)
    if not ok:
        if locked_until is not None:
            raise AuthError(
                f"wrong credential for operator {operator_id!r}: {LOCK_AFTER} wrong entries,"
                f" the account is locked until {locked_until:%H:%M:%S} UTC"
            )
        raise AuthError(f"wrong credential for operator {operator_id!r}")
    return Authenticated(found, moment, purpose, failures)


def require_role(
    store: Store,
    operator_id: str,
    role: str | Collection[str],
    credential: str,
    *,
    purpose: str = "",
    now: dt.datetime | None = None,
) -> Authenticated:
    """Authenticate `operator_id` with `credential` (a fresh entry) and check that their
    role is `role` (or one of `role`); AuthError (exit 10) if not. The refusal of a
    wrong role is recorded too."""
    roles = (role,) if isinstance(role, str) else tuple(role)
    for r in roles:
        check_role(r)
    proof = authenticate(store, operator_id, credential, purpose=purpose or "role check", now=now)
    if proof.operator.role not in roles:
        with store.write() as conn:
            record_event(conn, operator_id, "refused-role", purpose, proof.at)
        wanted = " or ".join(roles)
        raise AuthError(
            f"operator {operator_id!r} is {_a(proof.operator.role)}; {purpose or 'this'} needs"
            f" {_a(wanted)}"
        )
    return proof


def disable_operator(
    store: Store, operator_id: str, *, by: Authenticated, now: dt.datetime | None = None
) -> Operator:
    """Disable an operator (the row stays: old records name them). The last enabled
    physician or engineer cannot be disabled: nobody could register anyone again."""
    if by.operator.role not in ADMIN_ROLES:
        raise AuthError(f"{by.operator.id} is {_a(by.operator.role)}: cannot disable operators")
    moment = now or now_utc()
    with store.write() as conn:
        target = _operator(conn, operator_id)
        if target is None or not target.registered:
            raise AuthError(f"unknown operator {operator_id!r}")
        if target.disabled_at is not None:
            raise ConfigError(f"operator {operator_id!r} is already disabled")
        admins = conn.execute(
            "SELECT count(*) FROM operators WHERE credential IS NOT NULL AND disabled_at IS NULL"
            " AND role IN ('physician', 'engineer') AND id != ?",
            (operator_id,),
        ).fetchone()
        if target.role in ADMIN_ROLES and int(admins[0]) == 0:
            raise ConfigError(
                f"{operator_id!r} is the last enabled physician or engineer; register another first"
            )
        conn.execute(
            "UPDATE operators SET disabled_at = ?, disabled_by = ? WHERE id = ?",
            (utc_text(moment), by.operator.id, operator_id),
        )
        record_event(conn, operator_id, "disabled", f"by {by.operator.id}", moment)
        found = _operator(conn, operator_id)
    assert found is not None
    return found


def change_secret(
    store: Store,
    operator_id: str,
    new_secret: str,
    *,
    by: Authenticated,
    now: dt.datetime | None = None,
) -> None:
    """Set a new credential: the operator themself (`by` is their own fresh entry) or a
    physician or engineer resetting someone else's. Clears a lock."""
    if by.operator.id != operator_id and by.operator.role not in ADMIN_ROLES:
        raise AuthError(
            f"{by.operator.id} is {_a(by.operator.role)}: cannot change {operator_id}'s credential"
        )
    credential = kdf.hash_secret(new_secret)
    moment = now or now_utc()
    with store.write() as conn:
        target = _operator(conn, operator_id)
        if target is None or not target.registered:
            raise AuthError(f"unknown operator {operator_id!r}")
        conn.execute(
            "UPDATE operators SET credential = ?, failed_attempts = 0, locked_until = NULL"
            " WHERE id = ?",
            (credential, operator_id),
        )
        record_event(conn, operator_id, "credential-changed", f"by {by.operator.id}", moment)


def auth_events(store: Store, operator_id: str | None = None) -> list[AuthEvent]:
    """Authentication events in the order they were recorded."""
    with store.read() as conn:
        if operator_id is None:
            rows = conn.execute(
                "SELECT operator_id, event, purpose, at FROM auth_events ORDER BY rowid"
            ).fetchall()
        else:
            rows = conn.execute(
                "SELECT operator_id, event, purpose, at FROM auth_events WHERE operator_id = ?"
                " ORDER BY rowid",
                (operator_id,),
            ).fetchall()
    return [AuthEvent(r[0], r[1], r[2], from_utc_text(r[3])) for r in rows]


def record_event(
    conn: sqlite3.Connection, operator_id: str, event: str, purpose: str, at: dt.datetime
) -> None:
    conn.execute(
        "INSERT INTO auth_events (id, operator_id, event, purpose, at) VALUES (?, ?, ?, ?, ?)",
        (new_id(), operator_id, event, purpose, utc_text(at)),
    )


def _refusal(found: Operator | None, operator_id: str, now: dt.datetime) -> tuple[str, str] | None:
    if found is None or not found.registered:
        return (
            "refused-unknown",
            f"unknown operator {operator_id!r} (register with `stimctl operator add`)",
        )
    if found.disabled_at is not None:
        return "refused-disabled", f"operator {operator_id!r} is disabled"
    if found.locked(now):
        assert found.locked_until is not None
        return (
            "refused-locked",
            f"operator {operator_id!r} is locked after {LOCK_AFTER} wrong entries until"
            f" {found.locked_until:%H:%M:%S} UTC",
        )
    return None


def _credential(store: Store, operator_id: str) -> str:
    with store.read() as conn:
        row = conn.execute(
            "SELECT credential FROM operators WHERE id = ?", (operator_id,)
        ).fetchone()
    return str(row[0]) if row is not None and row[0] is not None else ""


def _failures_since_success(conn: sqlite3.Connection, operator_id: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM auth_events WHERE operator_id = ? AND event = 'credential-rejected'"
        " AND rowid > coalesce((SELECT max(rowid) FROM auth_events WHERE operator_id = ?"
        " AND event = 'authenticated'), 0)",
        (operator_id, operator_id),
    ).fetchone()
    return int(row[0])


def _registered_count(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT count(*) FROM operators WHERE credential IS NOT NULL").fetchone()
    return int(row[0])


def _operator(conn: sqlite3.Connection, operator_id: str) -> Operator | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM operators WHERE id = ?", (operator_id,)).fetchone()
    return None if row is None else _from_row(row)


def _from_row(row: tuple[object, ...]) -> Operator:
    return Operator(
        id=str(row[0]),
        role=str(row[1]),
        created_at=from_utc_text(str(row[2])),
        name=str(row[3] or ""),
        registered=row[4] is not None,
        disabled_at=maybe_utc(cast("str | None", row[5])),
        locked_until=maybe_utc(cast("str | None", row[7])),
        created_by=cast("str | None", row[8]),
    )


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"
