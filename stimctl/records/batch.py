"""Several reads in one round trip, and writes sent with the next statement.

On SQLite a statement is a function call into the same process; on PostgreSQL it is a
round trip to a server process that must be scheduled before it answers, which on a
busy machine is most of what a session start costs (ADR 0032). The session start's reads
do not depend on each other's results, so they go as one batch: on PostgreSQL in one
pipeline (`PgConnection.batch`), on SQLite one after another as before. The server runs
a batch's statements in order, in the caller's transaction, exactly as if sent one by one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from stimctl.records.pg_dialect import PgConnection

Query = tuple[str, tuple[object, ...]]
"""SQL in stimctl's dialect and its parameters."""

Rows = list[tuple[Any, ...]]


def fetch_batch(conn: sqlite3.Connection, queries: Sequence[Query]) -> list[Rows]:
    """Every row of each query, in order, in the caller's transaction."""
    if isinstance(conn, PgConnection):
        return [cursor.fetchall() for cursor in conn.batch(queries)]
    return [conn.execute(sql, args).fetchall() for sql, args in queries]


def execute_later(conn: sqlite3.Connection, query: Query) -> None:
    """Run `query`, whose result is not read, at the latest with the transaction's next
    statement or its COMMIT (PostgreSQL: in the same round trip; an error it raises then
    rolls the whole transaction back). SQLite runs it at once."""
    if isinstance(conn, PgConnection):
        conn.defer(*query)
    else:
        conn.execute(*query)
