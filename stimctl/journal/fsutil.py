"""Durable file operations: exclusive append handles, fsync of a directory, locks.

POSIX only for directory fsync and advisory locks (`fcntl.flock`); on Windows both are
skipped, since NTFS metadata is journaled and Windows has no directory handles to fsync.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from stimctl.journal.errors import JournalBusy

if sys.platform != "win32":
    import fcntl


def fsync_directory(directory: Path) -> None:
    """Make a new directory entry (a created file) durable."""
    if sys.platform == "win32":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def lock_exclusive(fd: int, path: Path) -> None:
    """Take the writer's lock, or raise `JournalBusy` if a live process holds it.

    The kernel drops the lock when its holder dies (even by SIGKILL), so a crashed
    session's journal is free for recovery while a running one is protected from it.
    """
    if sys.platform == "win32":
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        raise JournalBusy(f"journal {path} is open for writing by another process") from exc


def is_locked(path: Path) -> bool:
    """True if a live process holds the writer's lock on `path`."""
    if sys.platform == "win32":
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    """`os.write` until every byte is written (a regular file may take fewer at once)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
