"""How values are stored: text ids, UTC timestamps and dates as ISO 8601 text.

Timestamps are kept as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (the journal's format): text sorts
in time order, reads the same in any SQLite tool and ports to PostgreSQL unchanged.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

from stimctl.errors import ConfigError, RecordsError

# Pseudonymous ids chosen by people (subjects, operators): no spaces, no separators, so
# they can appear in file names (journals, BIDS folders) and on a command line.
_PERSON_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_UTC_TEXT = "%Y-%m-%dT%H:%M:%S.%fZ"
T = TypeVar("T")


def new_id() -> str:
    """A 26-character, time-ordered, random text id (12 hex of ms since 1970 + 14 random)."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(7)}"


def check_person_id(value: str, what: str) -> str:
    """`value` if it is a valid subject or operator id; a ConfigError naming `what` if not."""
    if _PERSON_ID.fullmatch(value) is None:
        raise ConfigError(
            f"invalid {what} id {value!r}: use 1-64 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit (a pseudonym, not a name)"
        )
    return value


def utc_text(moment: dt.datetime) -> str:
    """A timezone-aware datetime as stored text; a naive one is a bug, refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"timestamps must be timezone-aware, got naive {moment!r}")
    return moment.astimezone(dt.UTC).strftime(_UTC_TEXT)


def from_utc_text(text: str) -> dt.datetime:
    # fromisoformat (C) rather than strptime: history reads hundreds of rows per check.
    try:
        moment = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        moment = None
    if moment is not None and moment.tzinfo is dt.UTC:
        return moment  # the stored form ("...Z"): already UTC, nothing to replace
    if moment is None or moment.utcoffset() != dt.timedelta(0):
        raise RecordsError(f"the record store holds a malformed timestamp {text!r}")
    return moment.replace(tzinfo=dt.UTC)


def maybe_utc(text: str | None) -> dt.datetime | None:
    return None if text is None else from_utc_text(text)


def date_text(day: dt.date) -> str:
    return day.isoformat()


def from_date_text(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise RecordsError(f"the record store holds a malformed date {text!r}") from None


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def record_from_row(
    make: Callable[..., T],
    columns: str,
    row: Sequence[Any],
    *,
    times: Collection[str] = (),
    maybe_times: Collection[str] = (),
) -> T:
    """The record `make` builds from `row`, selected as `columns` (a column list whose
    names are the record's fields), with the timestamps of `times` parsed and those of
    `maybe_times` parsed unless NULL."""
    values = dict(zip(_names(columns), row, strict=True))
    for name in times:
        values[name] = from_utc_text(values[name])
    for name in maybe_times:
        values[name] = maybe_utc(values[name])
    return make(**values)


@functools.cache
def _names(columns: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in columns.split(","))
