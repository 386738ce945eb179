"""The SQL dialect layer: stimctl's SQLite SQL, run on PostgreSQL (ADR records-postgres).

The repositories and the positional migrations are written once, in the subset of SQL the
two databases share, with SQLite's ``?`` placeholders. `PgConnection` wraps a psycopg 3
connection so that they run unchanged on PostgreSQL:

- ``?`` becomes ``%s`` and a literal ``%`` becomes ``%%`` (outside quoted text);
- in DDL (``CREATE TABLE``, ``ALTER TABLE ... ADD COLUMN``) SQLite's types become the
  PostgreSQL types with SQLite's meaning: ``INTEGER`` is 64-bit (``BIGINT``), ``REAL`` is a
  double, ``TEXT`` compares byte-wise (``COLLATE "C"``, SQLite's BINARY: ISO timestamps and
  ids sort the same on both); ``BLOB`` is ``BYTEA`` (both give Python ``bytes``);
  ``STRICT`` goes (PostgreSQL is always strict); every table gets the ``rowid`` SQLite
  gives it (an identity column, insertion order);
- parameters get SQLite's Python adaptation (``bool`` is 0/1, dates are ISO text) and
  results come back as SQLite gives them (``sum`` of integers is an ``int``, not a
  ``Decimal``).

Anything SQLite-only (``PRAGMA``, ``INSERT OR ...``, ``executescript``) fails loudly here
rather than meaning something else on the server.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

_DDL = re.compile(r"^\s*(CREATE\s+TABLE|ALTER\s+TABLE)\b", re.IGNORECASE)
_CREATE_TABLE = re.compile(r"^(\s*CREATE\s+TABLE\s+\w+\s*\()", re.IGNORECASE)
_STRICT = re.compile(r"\)\s*STRICT\s*$", re.IGNORECASE)
_UNSUPPORTED = re.compile(r"^\s*(PRAGMA|INSERT\s+OR|REPLACE\s+INTO|VACUUM|ATTACH)\b", re.I)
_TYPES = (
    (re.compile(r"\bINTEGER\b", re.IGNORECASE), "BIGINT"),
    (re.compile(r"\bREAL\b", re.IGNORECASE), "DOUBLE PRECISION"),
    (re.compile(r"\bTEXT\b", re.IGNORECASE), 'TEXT COLLATE "C"'),
    (re.compile(r"\bBLOB\b", re.IGNORECASE), "BYTEA"),
)
_NUMERIC = 1700  # the OID of PostgreSQL's numeric type
ROWID = "rowid BIGINT GENERATED ALWAYS AS IDENTITY, "


class UnsupportedSql(RuntimeError):
    """SQL that only SQLite understands reached the PostgreSQL backend (a programming
    error: write it in the shared subset, or branch on the backend)."""


# The repositories' SQL is a few hundred fixed strings (values go in as parameters): a
# session start runs about fifteen of them, so each is translated once per process.
@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """`sql` in stimctl's SQLite dialect, as PostgreSQL SQL for psycopg's ``%s`` style."""
    if _UNSUPPORTED.match(sql):
        raise UnsupportedSql(f"SQLite-only statement on PostgreSQL: {sql.strip()[:60]!r}")
    if _DDL.match(sql):
        sql = _STRICT.sub(")", sql.rstrip())
        sql = _map_outside_quotes(sql, _ddl_types, escape_quoted=False)
        sql = _CREATE_TABLE.sub(lambda m: m.group(1) + ROWID, sql, count=1)
    return _map_outside_quotes(sql, _placeholders, escape_quoted=True)


def _ddl_types(text: str) -> str:
    for pattern, replacement in _TYPES:
        text = pattern.sub(replacement, text)
    return text


def _placeholders(text: str) -> str:
    return text.replace("%", "%%").replace("?", "%s")


def _map_outside_quotes(sql: str, change: Callable[[str], str], *, escape_quoted: bool) -> str:
    """Apply `change` to the parts of `sql` outside '...' strings and "..." names (and
    double the ``%`` inside them if `escape_quoted`)."""
    out: list[str] = []
    plain_start = 0
    index = 0
    while index < len(sql):
        quote = sql[index]
        if quote in "'\"":
            out.append(change(sql[plain_start:index]))
            end = index + 1
            while True:
                end = sql.find(quote, end)
                if end == -1:
                    raise UnsupportedSql(f"unterminated quote in {sql.strip()[:60]!r}")
                if end + 1 < len(sql) and sql[end + 1] == quote:  # doubled quote
                    end += 2
                    continue
                break
            quoted = sql[index : end + 1]
            out.append(quoted.replace("%", "%%") if escape_quoted else quoted)
            index = plain_start = end + 1
            continue
        index += 1
    out.append(change(sql[plain_start:]))
    return "".join(out)


def adapt(value: object) -> object:
    """A parameter as SQLite's default adaptation would store it."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _result(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class PgCursor:
    """The part of `sqlite3.Cursor` the repositories use."""

    def __init__(self, cursor: psycopg.Cursor[tuple[Any, ...]]) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._cursor.description is None:
            return None
        row = self._cursor.fetchone()
        return None if row is None else self._converted([row])[0]

    def fetchall(self) -> list[tuple[Any, ...]]:
        if self._cursor.description is None:
            return []
        return self._converted(self._cursor.fetchall())

    def _converted(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        # Only numeric columns (sum, avg) can hold a Decimal: leave other rows as they
        # are (history reads hundreds of rows per session start).
        description = self._cursor.description or []
        numeric = [i for i, column in enumerate(description) if column.type_code == _NUMERIC]
        if not numeric:
            return rows
        return [tuple(_result(v) if i in numeric else v for i, v in enumerate(r)) for r in rows]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())


class PgConnection:
    """The part of `sqlite3.Connection` the repositories and migrations use, on psycopg.

    The psycopg connection is in autocommit mode: transactions are the explicit ``BEGIN``
    / ``COMMIT`` of `stimctl.records.pg_store.PostgresStore`, as on SQLite.

    Round trips, not rows, are what a session start pays for on a busy server: each one
    waits for a server process to be scheduled (ADR 0032). So statements whose result
    nobody reads (``BEGIN``, the start's ``INSERT``) can be *deferred*: they go to the
    server in one pipeline with the next statement, and `batch` sends several reads in one.
    The server runs them in order, exactly as if sent one by one; an error in any of them
    is raised at the statement that sent them, inside the caller's transaction."""

    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]]) -> None:
        self._raw = conn
        self._deferred: list[tuple[bytes, tuple[object, ...]]] = []

    @property
    def raw(self) -> psycopg.Connection[tuple[Any, ...]]:
        """The psycopg connection, with anything deferred sent first (so SQL run on it
        directly runs inside the transaction a deferred BEGIN opened)."""
        if self._deferred:
            self._pipelined([])
        return self._raw

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        if self._deferred:  # a deferred BEGIN is a transaction the server will open
            return True
        return self._raw.info.transaction_status != TransactionStatus.IDLE

    def defer(self, sql: str, parameters: Sequence[object] = ()) -> None:
        """Send `sql` with the next statement (its result, if any, is not read)."""
        self._deferred.append(_prepared(sql, parameters))

    def discard_deferred(self) -> bool:
        """Drop what was deferred and not sent; whether there was anything."""
        had = bool(self._deferred)
        self._deferred.clear()
        return had

    def execute(self, sql: str, parameters: Sequence[object] = ()) -> PgCursor:
        if not self._deferred:
            query, args = _prepared(sql, parameters)
            return PgCursor(self._raw.execute(query, args))
        return self._pipelined([_prepared(sql, parameters)])[0]

    def batch(self, statements: Sequence[tuple[str, Sequence[object]]]) -> list[PgCursor]:
        """Run `statements` in order in one round trip; their cursors, results fetched."""
        return self._pipelined([_prepared(sql, args) for sql, args in statements])

    def _pipelined(self, statements: list[tuple[bytes, tuple[object, ...]]]) -> list[PgCursor]:
        sending, self._deferred = [*self._deferred, *statements], []
        cursors = []
        with self._raw.pipeline():
            for query, args in sending:
                cursors.append(self._raw.cursor())
                cursors[-1].execute(query, args)
        # Leaving the pipeline block synchronised it: every result is in its cursor.
        return [PgCursor(cursor) for cursor in cursors[len(sending) - len(statements) :]]

    def close(self) -> None:
        self._deferred.clear()
        self._raw.close()


def _prepared(sql: str, parameters: Sequence[object]) -> tuple[bytes, tuple[object, ...]]:
    return translate(sql).encode(), tuple(adapt(v) for v in parameters)
