"""`Journal`: the append-only, hash-chained, fsync'd session journal (ARCHITECTURE rule 7).

One JSON Lines file per session, ``<directory>/<session_id>.jsonl``. Each append builds
the record, serialises it canonically (`stimctl.journal.record`), writes the whole line
with one ``O_APPEND`` handle and fsyncs before returning, so a record that `append`
returned is on disk. The directory is fsynced when the file is created so the file
itself survives a power cut.

Appends are serialised by a lock: the engine thread and the watchdog may both write,
and ``seq``, ``mono`` and ``prev`` are taken inside the lock so they always increase in
file order. A second process cannot open the same journal (advisory ``flock``).

Listeners (`Journal.create(listeners=...)`) see each appended record after it is on disk
(not the seal or checkpoints the journal adds by itself), called outside the lock in the
appending thread: they feed live views such as the LSL marker
outlet (issue 18). They must return quickly; one that raises is reported (logged and kept
in `listener_failures`) and never breaks or undoes the append.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self

from stimctl.clock import Clock
from stimctl.errors import ConfigError
from stimctl.journal import events
from stimctl.journal.errors import (
    InvalidRecord,
    JournalClosed,
    JournalWriteError,
)
from stimctl.journal.fsutil import fsync_directory, lock_exclusive, write_all
from stimctl.journal.pulses import PulseTally
from stimctl.journal.record import (
    GENESIS,
    JournalRecord,
    encode,
    format_utc,
    is_valid_actor,
    line_hash,
    utc_now,
)

if TYPE_CHECKING:
    from stimctl.journal.signing import Signer

JOURNAL_SUFFIX = ".jsonl"

INSTALLATION_KEY: Final = "installation"
"""`Journal.create(signer=...)` default: the installation's active key (`stimctl.keys`),
or unsigned when none was ever created."""

# A session id becomes a file name: no separators, no leading dot, bounded length.
_SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

WallClock = Callable[[], datetime]
JournalListener = Callable[[JournalRecord], None]
"""Called with each record (a fresh copy) after it was written and fsynced."""

_log = logging.getLogger("stimctl.journal")
_MAX_KEPT_FAILURES = 100  # a listener failing on every pulse must not grow memory forever


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
        signer: Signer | None = None,
        tally: PulseTally | None = None,
        listeners: tuple[JournalListener, ...] = (),
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
        self._signer = signer
        self._tally = tally if tally is not None else PulseTally()
        self._sealed = False
        self._status: str | None = None
        self._listeners = tuple(listeners)
        self.listener_failures: list[str] = []
        """One line per listener call that raised (the first 100), oldest first."""

    @classmethod
    def create(
        cls,
        directory: Path | str,
        session_id: str,
        *,
        clock: Clock,
        utc_now: WallClock | None = None,
        signer: Signer | str | None = INSTALLATION_KEY,
        listeners: tuple[JournalListener, ...] = (),
    ) -> Journal:
        """Create ``<directory>/<session_id>.jsonl`` (refusing to reuse an existing file).

        `clock` gives ``mono``; `utc_now` (default: the system clock in UTC) gives ``utc``
        and must return timezone-aware datetimes. The first append must be
        `events.SESSION_START`. `signer` signs the seal and the train checkpoints: by
        default the installation's active key, unsigned (None) when there is none; a key
        file that cannot be used raises `ConfigError` before the file is created.
        `listeners` see every record once it is on disk (see the module docstring).
        """
        validate_session_id(session_id)
        if isinstance(signer, str):
            from stimctl.keys.files import load_active_signer

            signer = load_active_signer()
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
        return cls(
            path,
            fd,
            clock=clock,
            utc_now=utc_now,
            next_seq=0,
            head=GENESIS,
            ended=False,
            signer=signer,
            listeners=listeners,
        )

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
        ended: bool = False,
        status: str | None = None,
        signer: Signer | None = None,
        tally: PulseTally | None = None,
    ) -> Journal:
        """Adopt `fd`, an append-mode handle on an existing, verified, unsealed journal
        whose writer's lock the caller already holds (crash recovery)."""
        journal = cls(
            path,
            fd,
            clock=clock,
            utc_now=utc_now,
            next_seq=next_seq,
            head=head,
            ended=ended,
            signer=signer,
            tally=tally,
        )
        journal._status = status
        return journal

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

    @property
    def sealed(self) -> bool:
        """True once the seal (the record after `session_end`) is written."""
        with self._lock:
            return self._sealed

    @property
    def signed(self) -> bool:
        return self._signer is not None

    def append(
        self, event: str, payload: dict[str, Any], actor: str = events.ACTOR_ENGINE
    ) -> JournalRecord:
        """Write one record and fsync it; return it as written.

        `session_end` is written together with the seal (one write, one fsync), and, with
        a signing key, `train_end` together with a signed checkpoint of the chain head.
        The first record `session_start` gets the journal's ``session_id`` if it lacks one.

        Raises `InvalidRecord` (nothing written) for an unknown event, a bad actor, a
        payload JSON cannot carry exactly, a first record that is not `session_start`
        or a `session_end` without a valid ``status``; `JournalClosed` after the closing
        record or `close()`; `JournalWriteError` if the disk refused.
        """
        if event in events.WRITER_EVENTS:
            raise InvalidRecord(f"{event!r} records are written by the journal itself")
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
            self._writable_fd()
            if self._next_seq == 0 and event != events.SESSION_START:
                raise InvalidRecord(f"the first record must be session_start, not {event!r}")
            if event == events.SESSION_START and "session_id" not in payload:
                payload = {**payload, "session_id": self.session_id}
            record, line = self._build(event, payload, actor, self._next_seq, self._head)
            lines = [line]
            self._tally.add(record)
            if event == events.SESSION_END:
                status = str(payload["status"])
                lines.append(self._seal_line(line, actor, status, len(lines)))
            elif event == events.TRAIN_END and self._signer is not None:
                lines.append(self._checkpoint_line(line, payload.get("train"), len(lines)))
            self._write_locked(lines)
            if event == events.SESSION_END:
                self._ended = True
                self._sealed = True
                self._status = str(payload["status"])
            # Return what is on disk (a fresh copy), not the caller's mutable payload.
            written: JournalRecord = json.loads(line)
        # Outside the lock: a slow or re-entrant listener cannot hold up other writers.
        self._notify(written, line)
        return written

    def _notify(self, written: JournalRecord, line: bytes) -> None:
        for listener in self._listeners:
            try:
                # Each listener gets its own copy: one cannot change what the next sees.
                listener(json.loads(line))
            except Exception as exc:  # a listener must never break journaling
                message = (
                    f"journal listener {getattr(listener, '__qualname__', listener)!r} failed "
                    f"on record {written['seq']} ({written['event']}): "
                    f"{type(exc).__name__}: {exc}"
                )
                _log.warning("%s", message)
                if len(self.listener_failures) < _MAX_KEPT_FAILURES:
                    self.listener_failures.append(message)

    def seal(self, actor: str = events.ACTOR_RECOVERY) -> JournalRecord:
        """Write the seal after an existing `session_end` that has none (crash recovery
        after a power cut between the two). Raises `JournalClosed` if already sealed."""
        with self._lock:
            if not self._ended:
                raise JournalClosed(f"journal {self._path} has no session_end to seal")
            if self._sealed:
                raise JournalClosed(f"journal {self._path} is already sealed")
            if self._fd is None or self._broken is not None:
                raise JournalClosed(f"journal {self._path} cannot be written")
            line = self._seal_line(None, actor, self._status or "unknown", 0)
            self._write_locked([line])
            self._sealed = True
            sealed: JournalRecord = json.loads(line)
            return sealed

    def _build(
        self, event: str, payload: dict[str, Any], actor: str, seq: int, prev: str
    ) -> tuple[JournalRecord, bytes]:
        try:
            utc = format_utc(self._utc_now())
        except ValueError as exc:
            raise ConfigError(f"journal wall clock: {exc}") from exc
        record: JournalRecord = {
            "seq": seq,
            "utc": utc,
            "mono": self._clock.now(),
            "actor": actor,
            "event": event,
            "payload": payload,
            "prev": prev,
        }
        try:
            line = encode(record)
        except (TypeError, ValueError) as exc:
            raise InvalidRecord(f"record {event!r} is not exact JSON: {exc}") from exc
        return record, line

    def _signed_line(
        self, event: str, payload: dict[str, Any], actor: str, prev_line: bytes | None, pending: int
    ) -> bytes:
        prev = line_hash(prev_line) if prev_line is not None else self._head
        seq = self._next_seq + pending
        payload = {**payload, "key_id": None, "signature": None}
        if self._signer is not None:
            payload["key_id"] = self._signer.key_id
            record, _ = self._build(event, payload, actor, seq, prev)
            record["payload"]["signature"] = self._signer.sign(record)
            return encode(record)
        return self._build(event, payload, actor, seq, prev)[1]

    def _seal_line(self, prev_line: bytes | None, actor: str, status: str, pending: int) -> bytes:
        sealed_by = "recovery" if actor == events.ACTOR_RECOVERY else "session"
        payload = {
            "session_id": self.session_id,
            "records": self._next_seq + pending,
            "pulses": self._tally.count().pulses,
            "final_hash": line_hash(prev_line) if prev_line is not None else self._head,
            "status": status,
            "sealed_by": sealed_by,
        }
        return self._signed_line(events.SEAL, payload, actor, prev_line, pending)

    def _checkpoint_line(self, prev_line: bytes, train: Any, pending: int) -> bytes:
        payload = {
            "session_id": self.session_id,
            "train": train,
            "records": self._next_seq + pending,
            "pulses": self._tally.count().pulses,
            "head": line_hash(prev_line),
        }
        return self._signed_line(
            events.CHECKPOINT, payload, events.ACTOR_ENGINE, prev_line, pending
        )

    def _write_locked(self, lines: list[bytes]) -> None:
        fd = self._writable_fd() if not self._ended else self._fd
        assert fd is not None
        try:
            write_all(fd, b"".join(line + b"\n" for line in lines))
            os.fsync(fd)
        except OSError as exc:
            # After a failed write or fsync the on-disk state is unknown: refuse all
            # further appends rather than chain onto a record that may not exist.
            self._broken = f"{type(exc).__name__}: {exc}"
            raise JournalWriteError(f"journal {self._path}: write failed: {exc}") from exc
        self._next_seq += len(lines)
        self._head = line_hash(lines[-1])

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
