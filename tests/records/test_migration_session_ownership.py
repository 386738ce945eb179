"""The session-ownership migration on a store that already holds sessions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from stimctl.records import Store, begin_session, get_session, history_for
from stimctl.records.reconcile import reconcile
from stimctl.records.schema import MIGRATIONS, _session_ownership_and_simulation

BEFORE = MIGRATIONS.index(_session_ownership_and_simulation)
"""The schema version just before this migration (the lead may reorder migrations)."""
AFTER = BEFORE + 1
"""The version this migration brings the file to (not necessarily the latest)."""


def test_existing_rows_become_real_exact_clinical_sessions(tmp_path: Path) -> None:
    db = tmp_path / "stimctl.db"
    start = dt.datetime(2026, 11, 24, 8, tzinfo=dt.UTC)
    with Store.open(db, migrate_to=BEFORE) as store:
        assert store.schema_version == BEFORE
        with store.write() as conn:
            # the subject as a file of that version holds it: `add_subject` writes the
            # columns of later migrations (age, risk factors)
            conn.execute(
                "INSERT INTO subjects (id, created_at) VALUES ('S-01', ?)",
                (start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),),
            )
            conn.execute(
                "INSERT INTO sessions (id, subject_id, protocol_name, protocol_digest, status,"
                " pulses_planned, pulses_delivered, started_at, protocol_class, journal_path)"
                " VALUES ('old', 'S-01', 'p', 'd', 'running', 2000, 300, ?, 'hf-rtms', ?)",
                (start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), str(tmp_path / "old.jsonl")),
            )
    # this migration alone, on the version it produces: the old row's new columns
    with Store.open(db, migrate_to=AFTER) as store:
        assert store.schema_version == AFTER
        with store.read() as conn:
            cols = conn.execute(
                "SELECT simulated, pulses_exact, mode, owner_host, owner_pid, owner_token,"
                " close_note, study_id FROM sessions WHERE id = 'old'"
            ).fetchone()
        assert tuple(cols) == (0, 1, "clinical", None, None, None, None, None)
    # and on the latest schema, through the store's own API
    with Store.open(db) as store:
        row = get_session(store, "old")
        assert not row.simulated and row.pulses_exact and row.mode == "clinical"
        assert row.owner_pid is None and row.study_id is None
        # a pre-migration running row counts its plan until reconciled...
        [past] = history_for(store, "S-01", start + dt.timedelta(hours=1)).sessions
        assert past.pulses_delivered == 2000
        # ...and, with no owner and its journal gone, reconcile closes it as a full session
        [result] = reconcile(store)
        assert result.closed and not result.pulses_exact
        dry = begin_session(
            store, subject_id="S-01", protocol_name="p", protocol_digest="d", pulses_planned=1,
            started_at=start, simulated=True,
        )  # fmt: skip
        assert get_session(store, dry.id).simulated
        assert store.integrity_check() == "ok"
