"""`Store`: the one SQLite database of subjects, courses and sessions.

``$STIMCTL_HOME/stimctl.db``. WAL mode with ``synchronous=FULL`` (every commit is fsynced:
a treatment record must survive a power cut), foreign keys on, a busy timeout so that
two processes (the console and a CLI command) queue for the write lock instead of
failing. Writes take the lock up front (``BEGIN IMMEDIATE``) so a read-then-write never
deadlocks on lock upgrade. Any SQLite failure becomes a `RecordsError` (exit 7) with one
line; a constraint the database refuses becomes a `ConfigError` (bad input, exit 2).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

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
    """

    def __init__(self, path: Path, conn: sqlite3.Connection, busy_timeout_s: float) -> None:
        self._path = path
        self._conn = conn
        self._busy_timeout_s = busy_timeout_s
        self._lock = threading.RLock()

    @classmethod
    def open(
        cls,
        path: Path | str | None = None,
        *,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
        migrate_to: int = LATEST_VERSION,
    ) -> Store:
        """Open (creating if needed) the database at `path` [default_db_path()] and
        migrate it to `migrate_to`. A file that is not a stimctl database, is corrupted,
        or has a newer schema than this code knows raises `RecordsError`."""
        path = Path(path) if path is not None else default_db_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecordsError(f"cannot create the directory of {path}: {exc}") from None
        try:
            conn = sqlite3.connect(
                path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise RecordsError(f"cannot open the record store {path}: {exc}") from None
        try:
            _retry_while_busy(lambda: _configure(conn, path, busy_timeout_s), busy_timeout_s)
            migrate(conn, migrate_to)
        except sqlite3.Error as exc:
            conn.close()
            raise _records_error(path, exc, busy_timeout_s) from None
        except BaseException:
            conn.close()
            raise
        return cls(path, conn, busy_timeout_s)

    @property
    def path(self) -> Path:
        return self._path

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
            conn.execute("BEGIN IMMEDIATE")
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
        row = conn.execute("SELECT id FROM subjects WHERE id = ?", (subject_id,)).fetchone()
        if row is None:
            raise ConfigError(f"unknown subject {subject_id!r}")

    def integrity_check(self) -> str:
        """SQLite's full ``integrity_check``: "ok" or the first problems found."""
        with self.read() as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        return "; ".join(str(row[0]) for row in rows)

    def close(self) -> None:
        with self._lock:
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


def _configure(conn: sqlite3.Connection, path: Path, busy_timeout_s: float) -> None:
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
    if app_id not in (0, APPLICATION_ID) or (app_id == 0 and tables and version == 0):
        raise RecordsError(f"{path} is an SQLite file but not a stimctl record store")
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
