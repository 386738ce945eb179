"""Overrides of a verdict: the rules overridden, the operator who signed, the reason.

Stored here and journaled in the session journal (`journal_override` does both, in that
order: a journaled override always has its row).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stimctl.errors import ConfigError
from stimctl.journal import events
from stimctl.records.adverse import require_session_of
from stimctl.records.models import OverrideRecord
from stimctl.records.store import Store
from stimctl.records.subjects import ensure_operator, require_subject, rows_of_subject
from stimctl.records.values import from_utc_text, new_id, utc_text

if TYPE_CHECKING:
    from stimctl.journal import Journal, JournalRecord


def record_override(
    store: Store,
    override: OverrideRecord,
    *,
    within: Callable[[sqlite3.Connection, OverrideRecord], object] | None = None,
) -> OverrideRecord:
    """Store an override of a verdict. An operator id and a reason made of words are
    required (`stimctl.identity.text.check_reason`); the engine also journals it
    (`override_payload`). `within` runs in the same transaction after the insert (the
    signer's electronic signature: both rows or neither)."""
    from stimctl.identity.text import check_reason  # identity imports records: no cycle

    if not override.reason.strip():
        raise ConfigError("an override needs a reason")
    check_reason(override.reason, "override reason")
    if not override.rules:
        raise ConfigError("an override names the rules it overrides")
    record = dataclasses.replace(override, id=override.id or new_id())
    with store.write() as conn:
        require_subject(conn, record.subject_id)
        ensure_operator(conn, record.operator_id)
        if record.session_id is not None:
            require_session_of(conn, record.session_id, record.subject_id)
        conn.execute(
            "INSERT INTO overrides (id, subject_id, session_id, rules, operator_id, reason, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.subject_id,
                record.session_id,
                json.dumps(list(record.rules)),
                record.operator_id,
                record.reason,
                utc_text(record.at),
            ),
        )
        if within is not None:
            within(conn, record)
    return record


def attach_override(store: Store, override_id: str, session_id: str) -> None:
    """Link an override signed before its session existed to that session's row."""
    with store.write() as conn:
        conn.execute(
            "UPDATE overrides SET session_id = ? WHERE id = ? AND session_id IS NULL",
            (session_id, override_id),
        )


def overrides_of(store: Store, subject_id: str) -> list[OverrideRecord]:
    rows = rows_of_subject(
        store,
        subject_id,
        "SELECT id, subject_id, session_id, rules, operator_id, reason, at FROM overrides"
        " WHERE subject_id = ? ORDER BY at",
    )
    return [
        OverrideRecord(
            id=r[0],
            subject_id=r[1],
            session_id=r[2],
            rules=tuple(json.loads(r[3])),
            operator_id=r[4],
            reason=r[5],
            at=from_utc_text(r[6]),
        )
        for r in rows
    ]


def override_payload(override: OverrideRecord) -> dict[str, Any]:
    """The payload of the journal's `override` event for this stored override."""
    return {
        "override_id": override.id,
        "signer": override.operator_id,
        "meaning": "approved override",
        "rules": list(override.rules),
        "reason": override.reason,
    }


def journal_override(store: Store, journal: Journal, override: OverrideRecord) -> JournalRecord:
    """Store `override`, then append it to the session journal as an `override` event
    signed by its operator (actor ``operator:<id>``); returns the journal record."""
    stored = record_override(store, override)
    return journal.append(
        events.OVERRIDE, override_payload(stored), actor=events.operator_actor(stored.operator_id)
    )
