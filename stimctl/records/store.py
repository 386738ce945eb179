"""`Store`: the one SQLite database of subjects, courses and sessions.

``$STIMCTL_HOME/stimctl.db``. WAL mode with ``synchronous=FULL`` (every commit is fsynced:
a treatment record must survive a power cut), foreign keys on, a busy timeout so that
two processes (the console and a CLI command) queue for the write lock instead of
failing. Writes take the lock up front (``BEGIN IMMEDIATE``) so a read-then-write never
deadlocks on lock upgrade. Any SQLite failure becomes a `RecordsError` (exit 7) with one
line; a constraint the database refuses becomes a `ConfigError` (bad input, exit 2).
"""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

from stimctl.errors import ConfigError, RecordsError
from stimctl.records.schema import APPLICATION_ID, LATEST_VERSION, migrate, schema_version

DB_NAME = "stimctl.db"
DEFAULT_BUSY_TIMEOUT_S = 10.0


def default_db_path() -> Path:
    """``$STIMCTL_HOME/stimctl.db`` (see `stimctl.journal.paths.stimctl_home`)."""
    from stimctl.journal.paths import stimctl_home

    return stimctl_home() / DB_NAME


class Store:
    """An open record store. Use `Store.open`; use as a context manager or `close()`.

    One connection, shared by threads under a lock (the engine thread and the console
    may both record); other processes coordinate through SQLite's own locking.
    `Store.open()` without a path opens the clinic's PostgreSQL store instead when one is
    configured (`stimctl.records.backend`; `stimctl.records.pg_store.PostgresStore`).
    """

    backend = "sqlite"
    applied: list[int]
    """The migrations `open` applied (versions), for `stimctl records migrate`."""

    def __init__(self, path: Path, conn: sqlite3.Connection, busy_timeout_s: float) -> None:
        self._path = path
        self._conn = conn
        self._busy_timeout_s = busy_timeout_s
        self._lock = threading.RLock()
        self.applied = []

    @classmethod
    def open(
        cls,
        path: Path | str | None = None,
        *,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
        migrate_to: int = LATEST_VERSION,
    ) -> Store:
        """Open the database at `path` [default_db_path()] and migrate it to `migrate_to`.

        Only a path that does not exist is created (atomically: built aside, then linked
        into place, so no other process ever sees a half-made file). An existing file
        that is empty, not SQLite, another application's SQLite, corrupted, or of a
        newer schema than this code knows raises `RecordsError`: the store never starts
        afresh over a file that held records (issue 12 item 9).

        Without `path`, a configured PostgreSQL URL (``STIMCTL_DATABASE_URL`` or the site
        file's ``database_url``) wins over the default file."""
        if path is None:
            from stimctl.records.backend import database_url

            url = database_url()
            if url is not None:
                from stimctl.records.pg_store import open_postgres

                return open_postgres(url, busy_timeout_s, migrate_to)
        path = Path(path) if path is not None else default_db_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecordsError(f"cannot create the directory of {path}: {exc}") from None
        if not path.exists() and not path.is_symlink():
            _create(path, busy_timeout_s, migrate_to)
        _refuse_empty(path)
        try:
            # mode=rw: SQLite must never create the file here (it would start empty).
            conn = sqlite3.connect(
                f"file:{quote(str(path.absolute()))}?mode=rw",
                uri=True,
                timeout=busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise RecordsError(f"cannot open the record store {path}: {exc}") from None
        try:
            _retry_while_busy(lambda: _configure(conn, path, busy_timeout_s), busy_timeout_s)
            applied = migrate(conn, migrate_to)
        except sqlite3.Error as exc:
            conn.close()
            raise _records_error(path, exc, busy_timeout_s) from None
        except BaseException:
            conn.close()
            raise
        store = cls(path, conn, busy_timeout_s)
        store.applied = applied
        return store

    @property
    def path(self) -> Path:
        return self._path

    @property
    def location(self) -> str:
        """Where the records are: the file, or the server's URL without its password."""
        return str(self._path)

    @property
    def schema_version(self) -> int:
        with self.read() as conn:
            return schema_version(conn)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: the write lock is taken at once, committed on success,
        rolled back on any exception."""
        with self._lock, self._translated():
            conn = self._conn
            _begin_immediate(conn, self._busy_timeout_s)
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: one consistent snapshot for several queries."""
        with self._lock, self._translated():
            conn = self._conn
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def lock_subject(self, conn: sqlite3.Connection, subject_id: str) -> None:
        """Hold the subject's session-start lock until the transaction `conn` ends.

        Called first inside `write()` by `stimctl.records.start.start_session`, which then
        reads history and inserts the running row. On SQLite the ``BEGIN IMMEDIATE`` of
        `write()` already holds the one write lock of the database, which covers every
        subject; a PostgreSQL backend takes ``SELECT id FROM subjects WHERE id = %s FOR
        UPDATE`` here instead (issue 17). An unknown subject is a `ConfigError`.
        """
        if not conn.in_transaction:
            raise RuntimeError("lock_subject needs the write transaction of Store.write()")
        if not conn.execute(*self.subject_lock_query(subject_id)).fetchall():
            raise ConfigError(f"unknown subject {subject_id!r}")

    def subject_lock_query(self, subject_id: str) -> tuple[str, tuple[object, ...]]:
        """The statement `lock_subject` runs (no row: an unknown subject), for a caller
        that sends it in one batch with its reads (`stimctl.records.start`)."""
        return "SELECT id FROM subjects WHERE id = ?", (subject_id,)

    @contextmanager
    def raw_connection(self) -> Iterator[sqlite3.Connection]:
        """The connection outside any transaction, held for this thread (for SQLite's
        backup API, `stimctl.records.backup`)."""
        with self._lock, self._translated():
            yield self._conn

    def lock_running_subjects(self, conn: sqlite3.Connection) -> None:
        """Hold the start lock of every subject with a running row (for a reconcile of
        all subjects). SQLite: ``BEGIN IMMEDIATE`` already holds them all."""
        if not conn.in_transaction:
            raise RuntimeError("lock_running_subjects needs the transaction of Store.write()")

    def integrity_check(self) -> str:
        """SQLite's full ``integrity_check``: "ok" or the first problems found."""
        with self.read() as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        return "; ".join(str(row[0]) for row in rows)

    def close(self) -> None:
        with self._lock, self._translated():
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.IntegrityError as exc:
            raise ConfigError(f"the record store refused the change: {exc}") from None
        except sqlite3.Error as exc:
            raise _records_error(self._path, exc, self._busy_timeout_s) from None


def _refuse_empty(path: Path) -> None:
    try:
        info = path.stat()
    except OSError as exc:
        raise RecordsError(f"cannot open the record store {path}: {exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise RecordsError(f"the record store {path} is not a regular file")
    if info.st_size == 0:
        raise RecordsError(
            f"the record store {path} is empty (0 bytes): it was truncated or replaced;"
            " restore it from a backup (stimctl does not start a new store over it)"
        )


def _create(path: Path, busy_timeout_s: float, migrate_to: int) -> None:
    """Make a new, migrated store at `path` unless another process makes it first."""
    aside = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.new")
    try:
        conn = sqlite3.connect(aside, isolation_level=None)
        try:
            _configure(conn, aside, busy_timeout_s, new=True)
            migrate(conn, max(1, migrate_to))  # version 1 sets the application_id
        finally:
            conn.close()  # checkpoints the WAL into the file and removes it
        fd = os.open(aside, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        # Atomic, and fails if the path exists by now: another process created it
        # first, and its store is the one to use.
        with contextlib.suppress(FileExistsError):
            os.link(aside, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except sqlite3.Error as exc:
        raise _records_error(path, exc, busy_timeout_s) from None
    except OSError as exc:
        raise RecordsError(f"cannot create the record store {path}: {exc}") from None
    finally:
        for leftover in (aside, Path(f"{aside}-wal"), Path(f"{aside}-shm")):
            leftover.unlink(missing_ok=True)


def _retry_while_busy(step: Callable[[], None], busy_timeout_s: float) -> None:
    """Run `step`, retrying while the file is busy. Switching a new file to WAL needs an
    exclusive lock and SQLite reports SQLITE_BUSY for it at once, without waiting in the
    busy handler: two processes opening a fresh database together would otherwise fail."""
    deadline = time.monotonic() + busy_timeout_s
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() >= deadline:
                raise
        time.sleep(0.01)


def _begin_immediate(conn: sqlite3.Connection, busy_timeout_s: float) -> None:
    """``BEGIN IMMEDIATE``, retried here about every millisecond until the busy timeout.

    Not in SQLite's busy handler: it sleeps longer and longer between tries (up to 100 ms
    each), so with several writers one that missed its first chances keeps missing them
    to writers that came later (bench/bench_records.py, 8 consoles on one file: a start
    waited 1-4 s at p99). Retrying at a short, jittered interval gives every waiter the
    same chance at each release. Other statements keep the busy handler."""
    deadline = time.monotonic() + busy_timeout_s
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() >= deadline:
                    raise
            time.sleep(random.uniform(0.0005, 0.0015))
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")


def _configure(
    conn: sqlite3.Connection, path: Path, busy_timeout_s: float, *, new: bool = False
) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
    # The first read of the header: a file that is not SQLite fails here. One snapshot:
    # another process may be committing migration 1 between these reads.
    conn.execute("BEGIN")
    try:
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        version = schema_version(conn)
        tables = int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
    finally:
        conn.execute("COMMIT")
    if app_id != APPLICATION_ID and not (new and app_id == 0 and tables == 0):
        # Every stimctl store gets its application_id with its first migration, in the
        # same transaction, and new stores are made aside (`_create`): an existing file
        # without it is someone else's (even an empty SQLite file).
        what = f"{tables} tables" if tables else "no tables"
        raise RecordsError(
            f"{path} is an SQLite file but not a stimctl record store (application_id"
            f" {app_id:#x}, {what}); refusing to use it"
        )
    if version > LATEST_VERSION:
        raise RecordsError(
            f"{path} has schema version {version}, newer than this stimctl understands"
            f" ({LATEST_VERSION}); upgrade stimctl"
        )
    mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
    if mode.lower() != "wal":
        raise RecordsError(f"{path}: cannot switch to WAL mode (got {mode!r})")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def _records_error(path: Path, exc: sqlite3.Error, busy_timeout_s: float) -> RecordsError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return RecordsError(
            f"the record store {path} stayed locked by another process for more than"
            f" {busy_timeout_s:g} s"
        )
    if isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text or "corrupt" in text
    ):
        return RecordsError(
            f"the record store {path} is corrupted ({text}); restore it from a backup"
        )
    return RecordsError(f"the record store {path} failed: {text}")
