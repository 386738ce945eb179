"""`Journal`: the append-only, hash-chained, fsync'd session journal (ARCHITECTURE rule 7).

One JSON Lines file per session, ``<directory>/<session_id>.jsonl``. Each append builds
the record, serialises it canonically (`stimctl.journal.record`), writes the whole line
with one ``O_APPEND`` handle and fsyncs before returning, so a record that `append`
returned is on disk. The directory is fsynced when the file is created so the file
itself survives a power cut.

Appends are serialised by a lock: the engine thread and the watchdog may both write,
and ``seq``, ``mono`` and ``prev`` are taken inside the lock so they always increase in
file order. A second process cannot open the same journal (advisory ``flock``).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from stimctl.clock import Clock
from stimctl.errors import ConfigError
from stimctl.journal import events
from stimctl.journal.errors import (
    InvalidRecord,
    JournalClosed,
    JournalWriteError,
)
from stimctl.journal.fsutil import fsync_directory, lock_exclusive, write_all
from stimctl.journal.record import (
    GENESIS,
    JournalRecord,
    encode,
    format_utc,
    is_valid_actor,
    line_hash,
    utc_now,
)

JOURNAL_SUFFIX = ".jsonl"

# A session id becomes a file name: no separators, no leading dot, bounded length.
_SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

WallClock = Callable[[], datetime]


def validate_session_id(session_id: str) -> str:
    if _SESSION_ID.fullmatch(session_id) is None:
        raise ConfigError(
            f"invalid session id {session_id!r}: use 1-128 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    return session_id


class Journal:
    """An open session journal. Create one with `Journal.create`.

    `append` returns the record as written; `head` is the SHA-256 of the last line (the
    chain head the record store keeps with the session). After a record with event
    `events.SESSION_END` the journal is closed for good: later appends raise
    `JournalClosed`.
    """

    def __init__(
        self,
        path: Path,
        fd: int,
        *,
        clock: Clock,
        utc_now: WallClock | None,
        next_seq: int,
        head: str,
        ended: bool,
    ) -> None:
        # Private: use `Journal.create` (or crash recovery's reopen).
        self._path = path
        self._fd: int | None = fd
        self._clock = clock
        self._utc_now: WallClock = utc_now if utc_now is not None else _default_utc_now
        self._next_seq = next_seq
        self._head = head
        self._ended = ended
        self._broken: str | None = None
        self._lock = threading.Lock()

    @classmethod
    def create(
        cls,
        directory: Path | str,
        session_id: str,
        *,
        clock: Clock,
        utc_now: WallClock | None = None,
    ) -> Journal:
        """Create ``<directory>/<session_id>.jsonl`` (refusing to reuse an existing file).

        `clock` gives ``mono``; `utc_now` (default: the system clock in UTC) gives ``utc``
        and must return timezone-aware datetimes. The first append must be
        `events.SESSION_START`.
        """
        validate_session_id(session_id)
        directory = Path(directory)
        new_directory = not directory.is_dir()
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create journal directory {directory}: {exc}") from exc
        path = directory / f"{session_id}{JOURNAL_SUFFIX}"
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(path, flags, 0o644)
        except FileExistsError as exc:
            raise ConfigError(f"journal {path} already exists") from exc
        except OSError as exc:
            raise ConfigError(f"cannot create journal {path}: {exc}") from exc
        try:
            lock_exclusive(fd, path)
            fsync_directory(directory)
            if new_directory:
                fsync_directory(directory.parent)
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd, clock=clock, utc_now=utc_now, next_seq=0, head=GENESIS, ended=False)

    @classmethod
    def _reopen(
        cls,
        path: Path,
        fd: int,
        *,
        clock: Clock,
        utc_now: WallClock | None,
        next_seq: int,
        head: str,
    ) -> Journal:
        """Adopt `fd`, an append-mode handle on an existing, verified, unfinished journal
        whose writer's lock the caller already holds (crash recovery)."""
        return cls(
            path, fd, clock=clock, utc_now=utc_now, next_seq=next_seq, head=head, ended=False
        )

    @property
    def path(self) -> Path:
        return self._path

    @property
    def session_id(self) -> str:
        return self._path.name.removesuffix(JOURNAL_SUFFIX)

    @property
    def head(self) -> str:
        """SHA-256 hex of the last line written (`record.GENESIS` before the first)."""
        with self._lock:
            return self._head

    @property
    def records(self) -> int:
        """How many records the file holds."""
        with self._lock:
            return self._next_seq

    @property
    def ended(self) -> bool:
        """True once the closing record (`events.SESSION_END`) is written."""
        with self._lock:
            return self._ended

    def append(
        self, event: str, payload: dict[str, Any], actor: str = events.ACTOR_ENGINE
    ) -> JournalRecord:
        """Write one record and fsync it; return it as written.

        Raises `InvalidRecord` (nothing written) for an unknown event, a bad actor, a
        payload JSON cannot carry exactly, a first record that is not `session_start`
        or a `session_end` without a valid ``status``; `JournalClosed` after the closing
        record or `close()`; `JournalWriteError` if the disk refused.
        """
        if event not in events.EVENTS:
            raise InvalidRecord(f"unknown journal event {event!r} (see stimctl.journal.events)")
        if not is_valid_actor(actor):
            raise InvalidRecord(f"invalid actor {actor!r}")
        if not isinstance(payload, dict):
            raise InvalidRecord(f"payload must be a dict, got {type(payload).__name__}")
        if event == events.SESSION_END and payload.get("status") not in events.SESSION_STATUSES:
            raise InvalidRecord(
                f"session_end needs a status in {sorted(events.SESSION_STATUSES)},"
                f" got {payload.get('status')!r}"
            )
        with self._lock:
            fd = self._writable_fd()
            if self._next_seq == 0 and event != events.SESSION_START:
                raise InvalidRecord(f"the first record must be session_start, not {event!r}")
            try:
                utc = format_utc(self._utc_now())
            except ValueError as exc:
                raise ConfigError(f"journal wall clock: {exc}") from exc
            record: JournalRecord = {
                "seq": self._next_seq,
                "utc": utc,
                "mono": self._clock.now(),
                "actor": actor,
                "event": event,
                "payload": payload,
                "prev": self._head,
            }
            try:
                line = encode(record)
            except (TypeError, ValueError) as exc:
                raise InvalidRecord(f"record {event!r} is not exact JSON: {exc}") from exc
            try:
                write_all(fd, line + b"\n")
                os.fsync(fd)
            except OSError as exc:
                # After a failed write or fsync the on-disk state is unknown: refuse all
                # further appends rather than chain onto a record that may not exist.
                self._broken = f"{type(exc).__name__}: {exc}"
                raise JournalWriteError(f"journal {self._path}: write failed: {exc}") from exc
            self._next_seq += 1
            self._head = line_hash(line)
            if event == events.SESSION_END:
                self._ended = True
            # Return what is on disk (a fresh copy), not the caller's mutable payload.
            written: JournalRecord = json.loads(line)
            return written

    def close(self) -> None:
        """Close the file. Idempotent. Does not write a closing record."""
        with self._lock:
            if self._fd is not None:
                fd, self._fd = self._fd, None
                os.close(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _writable_fd(self) -> int:
        if self._broken is not None:
            raise JournalWriteError(
                f"journal {self._path} refused appends after a failed write ({self._broken})"
            )
        if self._ended:
            raise JournalClosed(f"journal {self._path} is closed by its session_end record")
        if self._fd is None:
            raise JournalClosed(f"journal {self._path} was closed")
        return self._fd


def _default_utc_now() -> datetime:
    return utc_now()
