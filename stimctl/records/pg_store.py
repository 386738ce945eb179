"""`PostgresStore`: the record store on a clinic's PostgreSQL server (issue 17).

The same schema and positional migrations as SQLite (`stimctl.records.schema`), run through
the dialect layer (`stimctl.records.pg_dialect`). Transactions are READ COMMITTED; the
session start's per-subject lock is ``SELECT ... FOR UPDATE`` on the subject's row, so two
consoles starting sessions for one subject queue there while other subjects go ahead. The
schema version lives in ``stimctl_schema`` (PostgreSQL has no ``user_version``); each
migration runs in one transaction with its version bump under an advisory lock, so
consoles that open a fresh database together apply each migration exactly once.

Fail closed as on SQLite: a database that holds other tables but no ``stimctl_schema`` is
someone else's and is refused, as is a schema newer than this code or a server that does
not fsync. Any psycopg failure becomes a `RecordsError` (exit 7), a constraint the database
refuses a `ConfigError` (exit 2), with one line and the URL's password left out.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

from stimctl.errors import ConfigError, RecordsError
from stimctl.records.backend import redacted
from stimctl.records.pg_dialect import PgConnection
from stimctl.records.schema import APPLICATION_ID, LATEST_VERSION, MIGRATIONS
from stimctl.records.store import DEFAULT_BUSY_TIMEOUT_S, Store

_VERSION_TABLE = """CREATE TABLE stimctl_schema (
    application_id BIGINT NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 0)
)"""


class PostgresStore(Store):
    """An open record store on PostgreSQL. Use `Store.open` (it picks the backend)."""

    backend = "postgresql"

    def __init__(self, url: str, conn: PgConnection, busy_timeout_s: float) -> None:
        self._url = url
        self._pg = conn
        self._busy_timeout_s = busy_timeout_s
        self._lock = threading.RLock()
        self.applied: list[int] = []

    @classmethod
    def open_url(
        cls,
        url: str,
        *,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
        migrate_to: int = LATEST_VERSION,
    ) -> PostgresStore:
        """Connect to `url`, check it is a stimctl store (or empty) and migrate it."""
        where = redacted(url)
        try:
            import psycopg
        except ImportError:
            raise RecordsError(
                f"the record store {where} is on PostgreSQL but psycopg is not installed:"
                " pip install 'stimctl[postgresql]'"
            ) from None
        try:
            raw = psycopg.connect(
                url,
                autocommit=True,
                connect_timeout=max(1, int(busy_timeout_s)),
                application_name="stimctl",
            )
        except psycopg.Error as exc:
            raise RecordsError(f"cannot reach the record store {where}: {_first(exc)}") from None
        conn = PgConnection(raw)
        store = cls(url, conn, busy_timeout_s)
        try:
            with store._translated():
                _configure(conn, where, busy_timeout_s)
                store.applied = _migrate(conn, where, migrate_to)
        except BaseException:
            raw.close()
            raise
        return store

    @property
    def path(self) -> Path:
        raise RecordsError(f"the record store is on a PostgreSQL server ({self.location})")

    @property
    def location(self) -> str:
        return redacted(self._url)

    @property
    def schema_version(self) -> int:
        with self.read() as conn:
            return _version(cast(PgConnection, conn))

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        with self._transaction("BEGIN ISOLATION LEVEL READ COMMITTED") as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._transaction("BEGIN ISOLATION LEVEL REPEATABLE READ") as conn:
            yield conn

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        """Committed on success, rolled back on any exception. Writes run READ COMMITTED
        (the start's row lock orders them); reads one snapshot (REPEATABLE READ)."""
        with self._lock, self._translated():
            conn = self._pg
            # BEGIN goes with the transaction's first statement: one round trip less.
            conn.defer(begin)
            try:
                # The repositories are typed against sqlite3.Connection; PgConnection is
                # the part of it they use (ADR records-postgres).
                yield cast(sqlite3.Connection, conn)
                # A deferred statement (the start's INSERT) is sent with the COMMIT and can
                # fail there: then nothing was committed and the transaction is undone.
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise

    def lock_subject(self, conn: sqlite3.Connection, subject_id: str) -> None:
        """``SELECT ... FOR UPDATE`` on the subject's row: held to the end of the write
        transaction; other subjects' starts do not wait for it."""
        super().lock_subject(conn, subject_id)

    def subject_lock_query(self, subject_id: str) -> tuple[str, tuple[object, ...]]:
        return "SELECT id FROM subjects WHERE id = ? FOR UPDATE", (subject_id,)

    def lock_running_subjects(self, conn: sqlite3.Connection) -> None:
        # In id order: two reconciles never wait on each other crosswise.
        conn.execute(
            "SELECT id FROM subjects WHERE id IN"
            " (SELECT subject_id FROM sessions WHERE status = 'running')"
            " ORDER BY id FOR UPDATE"
        ).fetchall()

    def integrity_check(self) -> str:
        """The server checks its own pages; here: reachable, ours, at a known version."""
        with self.read() as conn:
            version = _version(cast(PgConnection, conn))
        return "ok" if 0 < version <= LATEST_VERSION else f"schema version {version}"

    def close(self) -> None:
        with self._lock, self._translated():
            self._pg.close()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        import psycopg
        from psycopg import errors

        try:
            yield
        except errors.IntegrityError as exc:
            raise ConfigError(f"the record store refused the change: {_first(exc)}") from None
        except errors.LockNotAvailable:
            raise RecordsError(
                f"the record store {self.location} stayed locked by another console for"
                f" more than {self._busy_timeout_s:g} s"
            ) from None
        except psycopg.Error as exc:
            raise RecordsError(f"the record store {self.location} failed: {_first(exc)}") from None


def _rollback(conn: PgConnection) -> None:
    import psycopg
    from psycopg.pq import TransactionStatus

    conn.discard_deferred()  # never sent: nothing to undo on the server
    if conn.raw.info.transaction_status == TransactionStatus.IDLE:
        return
    # If the connection is gone, the server rolled the transaction back itself.
    with contextlib.suppress(psycopg.Error):
        conn.execute("ROLLBACK")


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _configure(conn: PgConnection, where: str, busy_timeout_s: float) -> None:
    millis = int(busy_timeout_s * 1000)
    conn.raw.execute(f"SET lock_timeout = {millis}".encode())
    # Every commit waits for the server's WAL flush: a treatment record survives a
    # power cut, as with SQLite's synchronous=FULL.
    conn.raw.execute(b"SET synchronous_commit = on")
    row = conn.raw.execute(b"SHOW fsync").fetchone()
    if row is None or str(row[0]).lower() != "on":
        raise RecordsError(
            f"the PostgreSQL server of {where} runs with fsync off: a commit could be lost"
            " in a power cut; refusing to keep treatment records there"
        )


def _has_version_table(conn: PgConnection) -> bool:
    row = conn.raw.execute(b"SELECT to_regclass('stimctl_schema') IS NOT NULL").fetchone()
    return bool(row and row[0])


def _version(conn: PgConnection) -> int:
    row = conn.raw.execute(b"SELECT application_id, version FROM stimctl_schema").fetchall()
    if len(row) != 1 or int(row[0][0]) != APPLICATION_ID:
        raise RecordsError("the table stimctl_schema is damaged (not exactly one stimctl row)")
    return int(row[0][1])


def _foreign_tables(conn: PgConnection) -> int:
    row = conn.raw.execute(
        b"SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchone()
    return int(row[0]) if row else 0


def _migrate(conn: PgConnection, where: str, target: int) -> list[int]:
    """`stimctl.records.schema.migrate` for PostgreSQL: one transaction per step."""
    applied: list[int] = []
    while True:
        conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
        try:
            # One migrator at a time across every console of the clinic.
            conn.raw.execute(b"SELECT pg_advisory_xact_lock(%s)", (APPLICATION_ID,))
            if not _has_version_table(conn):
                tables = _foreign_tables(conn)
                if tables:
                    raise RecordsError(
                        f"{where} holds {tables} tables but is not a stimctl record store"
                        " (no stimctl_schema); refusing to use it"
                    )
                conn.raw.execute(_VERSION_TABLE.encode())
                conn.raw.execute(b"INSERT INTO stimctl_schema VALUES (%s, 0)", (APPLICATION_ID,))
            current = _version(conn)
            if current > LATEST_VERSION:
                raise RecordsError(
                    f"{where} has schema version {current}, newer than this stimctl"
                    f" understands ({LATEST_VERSION}); upgrade stimctl"
                )
            if current >= target:
                conn.execute("COMMIT")
                return applied
            MIGRATIONS[current](cast(sqlite3.Connection, conn))
            conn.raw.execute(b"UPDATE stimctl_schema SET version = %s", (current + 1,))
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise
        applied.append(current + 1)


def open_postgres(url: str, busy_timeout_s: float, migrate_to: int) -> Store:
    return PostgresStore.open_url(url, busy_timeout_s=busy_timeout_s, migrate_to=migrate_to)
