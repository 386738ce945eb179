"""Fixtures for the record-store tests: real database files and real journals in tmp."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from stimctl.clock import VirtualClock
from stimctl.journal import Journal, events
from stimctl.records import Store, ThresholdRecord, add_subject, record_threshold

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
DIGEST = "d" * 64


@pytest.fixture(autouse=True)
def _shipped_site_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped site rules unless a test sets its own (not the caller's $STIMCTL_SITE)."""
    monkeypatch.delenv("STIMCTL_SITE", raising=False)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "stimctl.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store.open(db_path) as opened:
        yield opened


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(
    request: pytest.FixtureRequest, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Store]:
    """The store on each backend: the SQLite file, then a fresh PostgreSQL schema (a
    module opts in by defining ``store`` as this fixture)."""
    if request.param == "sqlite":
        with Store.open(db_path) as opened:
            yield opened
        return
    url = request.getfixturevalue("pg_url")
    monkeypatch.setenv("STIMCTL_DATABASE_URL", url)
    with Store.open() as opened:
        assert opened.backend == "postgresql"
        yield opened


@pytest.fixture
def subject(store: Store) -> str:
    """Subject S-01 with an EMG threshold of 50% MSO measured today."""
    add_subject(store, "S-01")
    record_threshold(
        store,
        ThresholdRecord("S-01", 50.0, "emg", TODAY, criterion="50 uV in 5 of 10", algorithm="5/10"),
    )
    return "S-01"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$STIMCTL_HOME for CLI tests."""
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


class Wall:
    """A wall clock that moves with the virtual clock, from `start`."""

    def __init__(self, start: dt.datetime, clock: VirtualClock) -> None:
        self.start = start
        self.clock = clock
        self.origin = clock.now()

    def __call__(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.clock.now() - self.origin)


def write_journal(
    directory: Path,
    session_id: str,
    *,
    start: dt.datetime = NOW,
    trains: tuple[tuple[int, float], ...] = ((10, 45.0), (10, 45.0)),
    frequency_hz: float = 10.0,
    iti_s: float = 26.0,
    status: str | None = "completed",
) -> tuple[Path, str, int]:
    """A session journal with `trains` (pulses, intensity % MSO): path, head, pulses."""
    clock = VirtualClock(start=1000.0)
    delivered = 0
    with Journal.create(directory, session_id, clock=clock, utc_now=Wall(start, clock)) as journal:
        journal.append(events.SESSION_START, {"session_id": session_id, "subject_id": "S-01"})
        for index, (pulses, mso) in enumerate(trains):
            journal.append(
                events.TRAIN_START,
                {
                    "train": index,
                    "pulses_planned": pulses,
                    "frequency_hz": frequency_hz,
                    "intensity_pct_mso": mso,
                },
            )
            for _ in range(pulses):
                journal.append(events.PULSE, {"train": index, "index": delivered})
                delivered += 1
                clock.advance(1.0 / frequency_hz)
            journal.append(events.TRAIN_END, {"train": index, "pulses": pulses})
            clock.advance(iti_s)
        if status is not None:
            journal.append(events.SESSION_END, {"status": status, "pulses_delivered": delivered})
        return journal.path, journal.head, delivered
