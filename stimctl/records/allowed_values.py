"""Adding a value to a column's ``CHECK (column IN (...))`` list, on both backends.

A migration step (`stimctl.records.schema`). SQLite cannot alter a constraint: the table
is rebuilt (its own ``CREATE TABLE`` text with the value added, the rows copied, the old
table dropped, the new one renamed, its indexes made again), inside the migration's
transaction. PostgreSQL alters the constraint in place. Either way the list the table
has now is widened, not replaced: a value another migration added stays allowed.

Only for tables that no other table references: dropping a referenced table would
break (or, with foreign keys on, refuse) the references, and the caller must not ask.
"""

from __future__ import annotations

import re
import sqlite3
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from stimctl.records.pg_dialect import PgConnection

_NAME = re.compile(r"[a-z_]+")


def allow_value(conn: sqlite3.Connection, table: str, column: str, value: str) -> None:
    """Let `table`.`column` hold `value` besides the values its CHECK allows now."""
    for name in (table, column, value):
        if _NAME.fullmatch(name) is None:  # they are written into SQL text below
            raise ValueError(f"not a plain lower-case name: {name!r}")
    if isinstance(conn, sqlite3.Connection):
        _sqlite(conn, table, column, value)
    else:
        _postgres(cast("PgConnection", conn), table, column, value)


def _sqlite(conn: sqlite3.Connection, table: str, column: str, value: str) -> None:
    row = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    if row is None:
        raise RuntimeError(f"no table {table!r} to widen")
    in_list = re.compile(rf"(\b{column}\s+IN\s*\()([^()]*)\)", re.IGNORECASE)
    widened, found = in_list.subn(
        lambda m: f"{m.group(1)}{m.group(2).rstrip()}, '{value}')", str(row[0])
    )
    if found != 1:
        raise RuntimeError(
            f"{table}.{column}: expected one CHECK ({column} IN (...)), found {found}"
        )
    rebuilt = f"{table}_rebuilt"
    create = re.compile(rf'^\s*CREATE\s+TABLE\s+"?{table}"?(?=\s*\()', re.IGNORECASE)
    widened, named = create.subn(f"CREATE TABLE {rebuilt}", widened, count=1)
    if named != 1:
        raise RuntimeError(f"cannot read the CREATE TABLE statement of {table!r}")
    indexes = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (table,),
    ).fetchall()
    conn.execute(widened)
    conn.execute(f"INSERT INTO {rebuilt} SELECT * FROM {table}")
    conn.execute(f"DROP TABLE {table}")
    conn.execute(f"ALTER TABLE {rebuilt} RENAME TO {table}")
    for (index,) in indexes:
        conn.execute(index)


def _postgres(conn: PgConnection, table: str, column: str, value: str) -> None:
    # The server's own text of the constraint (``CHECK ((column = ANY (ARRAY[...])))``),
    # run as is: not through the dialect layer, which maps SQLite's type names.
    checks = conn.raw.execute(
        b"SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        b" WHERE conrelid = %s::regclass AND contype = 'c'",
        (table,),
    ).fetchall()
    mine = [(str(n), str(d)) for n, d in checks if re.search(rf"\b{column}\b", str(d))]
    if len(mine) != 1 or not mine[0][1].startswith("CHECK "):
        raise RuntimeError(f"{table}.{column}: expected one CHECK on the column, found {mine}")
    name, definition = mine[0]
    widened = f"CHECK ({definition.removeprefix('CHECK ')} OR {column} = '{value}')"
    conn.raw.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'.encode())
    conn.raw.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {widened}'.encode())
