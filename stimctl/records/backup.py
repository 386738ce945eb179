"""Backups of the SQLite store: `backup_store` and `restore_store` (issue 17 item 6).

A backup uses SQLite's online backup API in one step, which reads one snapshot of the
database: consoles keep writing (WAL), the copy is what was committed when it began. The
copy is written aside, switched to a single self-contained file (rollback journal),
checked (``integrity_check``), fsynced and linked into place, so a backup file is either
complete or absent.

A restore replaces the store's content through the same API, inside the store's own
locking, so a console that opens it afterwards sees the restored records whole. It is
refused while a session is running, and over a store that is newer than the backup
(a later record, or a later schema) unless forced; the content it replaces is first
kept beside the store (``stimctl.db.before-restore-<time>``).

PostgreSQL stores are backed up with ``pg_dump`` (docs/clinic-setup.md).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

from stimctl.errors import ConfigError, RecordsError
from stimctl.records.schema import APPLICATION_ID, LATEST_VERSION
from stimctl.records.store import Store

_STAMPED = (
    ("subjects", "created_at"),
    ("sessions", "started_at"),
    ("sessions", "ended_at"),
    ("courses", "created_at"),
    ("motor_thresholds", "recorded_at"),
    ("screenings", "recorded_at"),
    ("adverse_events", "recorded_at"),
    ("overrides", "at"),
)
"""Where a store's last record shows (ISO UTC text, comparable as text)."""


@dataclass(frozen=True)
class StoreState:
    schema_version: int
    last_record_at: str | None
    running: int


def backup_store(store: Store, destination: Path) -> StoreState:
    """Copy `store` (SQLite) to the new file `destination`; its state as copied."""
    if store.backend != "sqlite":
        raise RecordsError(
            f"the record store is on a PostgreSQL server ({store.location}): back it up"
            " with pg_dump (docs/clinic-setup.md)"
        )
    if destination.exists() or destination.is_symlink():
        raise ConfigError(f"{destination} exists: a backup never overwrites a file")
    aside = destination.with_name(f".{destination.name}.{uuid.uuid4().hex[:8]}.new")
    try:
        target = sqlite3.connect(aside, isolation_level=None)
        try:
            with store.raw_connection() as source:
                source.backup(target)  # pages=-1: one step, one snapshot
            target.execute("PRAGMA journal_mode = DELETE")
            state = _state(target, aside)
            check = target.execute("PRAGMA integrity_check").fetchone()
            if check is None or check[0] != "ok":
                raise RecordsError(f"the backup copy failed its integrity check: {check}")
        finally:
            target.close()
        _fsync(aside)
        os.link(aside, destination)
        _fsync(destination.parent)
    except sqlite3.Error as exc:
        raise RecordsError(f"cannot back up the record store to {destination}: {exc}") from None
    except FileExistsError:
        raise ConfigError(f"{destination} exists: a backup never overwrites a file") from None
    except OSError as exc:
        raise RecordsError(f"cannot write the backup {destination}: {exc}") from None
    finally:
        aside.unlink(missing_ok=True)
    return state


def read_backup(path: Path) -> StoreState:
    """The state of the backup file `path`, refusing anything but a sound stimctl store."""
    if not path.is_file():
        raise ConfigError(f"no backup file at {path}")
    try:
        conn = sqlite3.connect(f"file:{path.absolute()}?mode=ro", uri=True)
        try:
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            if app_id != APPLICATION_ID:
                raise ConfigError(f"{path} is not a stimctl record store backup")
            check = conn.execute("PRAGMA integrity_check").fetchone()
            if check is None or check[0] != "ok":
                raise RecordsError(f"the backup {path} is damaged: {check}")
            return _state(conn, path)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{path} is not a readable SQLite backup: {exc}") from None


def restore_store(store: Store, backup: Path, *, force: bool = False) -> Path:
    """Replace the content of `store` (SQLite) by `backup`; returns where the replaced
    content was kept."""
    if store.backend != "sqlite":
        raise RecordsError(
            f"the record store is on a PostgreSQL server ({store.location}): restore it"
            " with pg_restore (docs/clinic-setup.md)"
        )
    incoming = read_backup(backup)
    if incoming.schema_version > LATEST_VERSION:
        raise RecordsError(
            f"the backup {backup} has schema version {incoming.schema_version}, newer than"
            f" this stimctl understands ({LATEST_VERSION}); upgrade stimctl"
        )
    with store.raw_connection() as live:
        current = _state(live, store.path)
    if current.running:
        raise RecordsError(
            f"{current.running} sessions are running on {store.path}: finish or reconcile"
            " them before restoring"
        )
    newer = current.schema_version > incoming.schema_version or (
        current.last_record_at is not None
        and (incoming.last_record_at is None or current.last_record_at > incoming.last_record_at)
    )
    if newer and not force:
        raise ConfigError(
            f"the record store {store.path} is newer than the backup (last record"
            f" {current.last_record_at}, schema {current.schema_version}; backup:"
            f" {incoming.last_record_at}, schema {incoming.schema_version}); give --force"
            " to replace it anyway"
        )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = store.path.with_name(f"{store.path.name}.before-restore-{stamp}")
    backup_store(store, kept)
    try:
        source = sqlite3.connect(f"file:{backup.absolute()}?mode=ro", uri=True)
        try:
            with store.raw_connection() as live:
                source.backup(live)
        finally:
            source.close()
    except sqlite3.Error as exc:
        raise RecordsError(f"cannot restore {backup} into {store.path}: {exc}") from None
    return kept


def _state(conn: sqlite3.Connection, where: Path) -> StoreState:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version < 1:
        return StoreState(version, None, 0)
    stamps = [
        conn.execute(f"SELECT max({column}) FROM {table}").fetchone()[0]
        for table, column in _STAMPED
    ]
    known = [str(s) for s in stamps if s is not None]
    running = conn.execute("SELECT count(*) FROM sessions WHERE status = 'running'").fetchone()
    return StoreState(version, max(known) if known else None, int(running[0]))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
