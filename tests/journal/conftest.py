"""Shared helpers for the journal tests: a virtual clock, a stepping wall clock, and a
writer of small, valid journals on real files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stimctl.clock import VirtualClock
from stimctl.journal import Journal, events


class SteppingWallClock:
    """A wall clock that moves one millisecond per reading (deterministic ``utc``)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 8, 45, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=100.0)


@pytest.fixture
def wall() -> SteppingWallClock:
    return SteppingWallClock()


def write_session(
    directory: Path, session_id: str = "s1", *, pulses: int = 5, close: bool = True
) -> tuple[Path, str]:
    """A valid journal: session_start, one train of `pulses` pulses, optional session_end.

    Returns the path and the chain head.
    """
    clock = VirtualClock(start=100.0)
    with Journal.create(directory, session_id, clock=clock, utc_now=SteppingWallClock()) as journal:
        journal.append(events.SESSION_START, {"session_id": session_id, "subject": "S-01"})
        journal.append(events.TRAIN_START, {"train": 0, "pulses_planned": pulses})
        for index in range(pulses):
            journal.append(events.PULSE, {"train": 0, "index": index})
            clock.advance(0.1)
        journal.append(events.TRAIN_END, {"train": 0, "pulses": pulses})
        if close:
            journal.append(events.SESSION_END, {"status": "completed", "pulses_delivered": pulses})
        return journal.path, journal.head


@pytest.fixture
def session_file(tmp_path: Path) -> Callable[..., tuple[Path, str]]:
    def make(**kwargs: object) -> tuple[Path, str]:
        return write_session(tmp_path, **kwargs)  # type: ignore[arg-type]

    return make


def lines_of(path: Path) -> list[bytes]:
    """The complete lines of a file, each with its newline."""
    return [line + b"\n" for line in path.read_bytes().split(b"\n")[:-1]]


def power_cut(lines: list[bytes]) -> list[bytes]:
    """`lines` with the last one as a power cut can leave it: zeros from where it starts
    (the old end of file) up to the next 512-byte block boundary, whose block never
    reached the disk, then the rest of its bytes (a later block that did)."""
    start = sum(len(line) for line in lines[:-1])
    cut = (start // 512 + 1) * 512 - start
    last = lines[-1]
    assert 0 < cut < len(last) - 1, "choose a session whose last line crosses a block boundary"
    return [*lines[:-1], b"\x00" * cut + last[cut:]]


CROSSING_PULSES = 5
"""`write_session(..., pulses=CROSSING_PULSES, close=False)` ends with a line that crosses
a 512-byte boundary, so `power_cut` can wreck it."""
