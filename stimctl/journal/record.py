"""One journal record: its fields, its canonical bytes and its hash.

A record is one line of JSON: keys sorted, compact separators, UTF-8 (no ASCII escaping),
no NaN or infinity, then a single ``\\n``. That serialisation is the only one the journal
writes and the only one `verify` accepts, so the bytes of a line are a pure function of
its content and the hash chain is reproducible by anyone with a JSON library.

``prev`` of record *n* is the SHA-256 (lower-case hex) of the bytes of line *n - 1*
without its trailing newline; the first record's ``prev`` is `GENESIS`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import UTC, datetime
from typing import Any, Final, TypedDict

GENESIS: Final = "0" * 64
"""The ``prev`` of the first record of every journal."""

FIELDS: Final = frozenset({"seq", "utc", "mono", "actor", "event", "payload", "prev"})

_HEX64 = re.compile(r"[0-9a-f]{64}")
_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_EVENT = re.compile(r"[a-z][a-z0-9_]*")
# "engine", "watchdog", "device", "recovery" or "operator:<id>"; ids without spaces.
_ACTOR = re.compile(r"[a-z][a-z0-9_]*(:[A-Za-z0-9._@-]+)?")


class JournalRecord(TypedDict):
    """The fields of one journal line."""

    seq: int
    utc: str
    mono: float
    actor: str
    event: str
    payload: dict[str, Any]
    prev: str


def encode(record: JournalRecord | dict[str, Any]) -> bytes:
    """The canonical bytes of a record, without the trailing newline.

    Raises `TypeError` or `ValueError` for values JSON cannot carry exactly (NaN,
    infinity, sets, bytes, ...).
    """
    text = json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def line_hash(line: bytes) -> str:
    """SHA-256 hex of one line's bytes (without its trailing newline): the next ``prev``."""
    return hashlib.sha256(line).hexdigest()


def format_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds and a ``Z``: ``2026-11-24T08:45:00.000000Z``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"wall-clock time must be timezone-aware, got naive {moment!r}")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utc_now() -> datetime:
    """The default wall clock."""
    return datetime.now(UTC)


def is_valid_event_name(name: object) -> bool:
    return isinstance(name, str) and _EVENT.fullmatch(name) is not None


def is_valid_actor(actor: object) -> bool:
    return isinstance(actor, str) and _ACTOR.fullmatch(actor) is not None


def schema_problem(obj: object) -> str | None:
    """Why a parsed line is not a well-formed record, or None if it is."""
    if not isinstance(obj, dict):
        return "not a JSON object"
    keys = set(obj)
    if keys != FIELDS:
        missing = sorted(FIELDS - keys)
        extra = sorted(keys - FIELDS)
        return f"wrong fields (missing {missing}, unexpected {extra})"
    seq = obj["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        return "seq is not a non-negative integer"
    if not isinstance(obj["utc"], str) or _UTC.fullmatch(obj["utc"]) is None:
        return "utc is not an ISO 8601 UTC time with Z"
    mono = obj["mono"]
    if not isinstance(mono, int | float) or isinstance(mono, bool) or not math.isfinite(mono):
        return "mono is not a finite number"
    if not is_valid_actor(obj["actor"]):
        return "actor is not a valid actor name"
    if not is_valid_event_name(obj["event"]):
        return "event is not a valid event name"
    if not isinstance(obj["payload"], dict):
        return "payload is not a JSON object"
    if not isinstance(obj["prev"], str) or _HEX64.fullmatch(obj["prev"]) is None:
        return "prev is not a SHA-256 hex digest"
    return None
