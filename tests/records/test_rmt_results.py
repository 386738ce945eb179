"""Paired-pulse and hotspot results in the record store, on SQLite and PostgreSQL
(issue 19 items 3-4): stored with their subject and journal, listed oldest first, refused
for an unknown subject, and checked by the database's own constraints."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from stimctl.clock import VirtualClock
from stimctl.errors import ConfigError
from stimctl.journal import verify
from stimctl.records import Store, add_subject
from stimctl.rmt.hotspot import HotspotPlan, HotspotResult, run_hotspot, square_grid
from stimctl.rmt.journaling import HuntJournal
from stimctl.rmt.paired import PairedPlan, PairedResult, run_paired
from stimctl.rmt.readings import MepReading
from stimctl.rmt.results_store import (
    JournalLink,
    list_hotspots,
    list_paired,
    record_hotspot,
    record_paired,
)


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store


class _Sici:
    """Test pulse alone 400 µV; conditioned 120 µV (a known inhibition, ratio 0.3)."""

    def response(self, intensity_percent_mso: int) -> MepReading:
        return MepReading(amplitude_uv=400.0)

    def paired_response(
        self, conditioning_percent_mso: int, test_percent_mso: int, interval_ms: float
    ) -> MepReading:
        return MepReading(amplitude_uv=120.0)


class _Amplitudes:
    """These amplitudes in delivery order."""

    def __init__(self, amplitudes: list[float]) -> None:
        self.left = list(amplitudes)

    def response(self, intensity_percent_mso: int) -> MepReading:
        return MepReading(amplitude_uv=self.left.pop(0))


def paired_result() -> PairedResult:
    plan = PairedPlan("sici", 50.0, 80.0, trials=4)
    return run_paired(plan, _Sici(), clock=VirtualClock(), rng=random.Random(1))


def hotspot_result() -> HotspotResult:
    # grid order A1, A2, B1, B2, two pulses each: A2 has the largest median (950 µV)
    plan = HotspotPlan(square_grid(2, 2, 10.0), 60, per_position=2)
    source = _Amplitudes([100.0, 110.0, 900.0, 1000.0, 300.0, 320.0, 50.0, 60.0])
    return run_hotspot(plan, source, clock=VirtualClock(), move=lambda _p: None)


def finished_journal(tmp_path: Path) -> tuple[Path, JournalLink]:
    journal = HuntJournal.start(clock=VirtualClock(), start={}, directory=tmp_path, kind="x")
    journal.fired(40)
    journal.finish(None, summary={"ratio": 0.3})
    return journal.journal.path, JournalLink(journal.journal.session_id, journal.journal.head)


def test_a_paired_result_is_stored_with_its_subject_and_journal(
    store: Store, tmp_path: Path
) -> None:
    add_subject(store, "S-01")
    path, link = finished_journal(tmp_path)
    result = paired_result()
    stored = record_paired(store, "S-01", result, source="operator", journal=link)
    (listed,) = list_paired(store, "S-01")
    assert listed == stored
    assert listed.ratio == pytest.approx(0.3) and listed.paradigm == "sici"
    assert (listed.conditioning, listed.test, listed.trials) == (40, 60, 8)
    assert listed.interval_ms == 3.0 and listed.source == "operator"
    assert listed.journal == link
    # the stored head pins the journal: it verifies against it
    assert verify(path, expected_head=listed.journal.head).ok


def test_a_hotspot_search_is_stored_and_listed_oldest_first(store: Store) -> None:
    add_subject(store, "S-01")
    first = record_hotspot(store, "S-01", hotspot_result(), source="replay")
    second = record_hotspot(store, "S-01", hotspot_result(), source="operator")
    listed = list_hotspots(store, "S-01")
    assert [h.id for h in listed] == [first.id, second.id]
    assert listed[0].proposed == "A2" and listed[0].proposed_median_uv == 950.0
    assert (listed[0].positions, listed[0].per_position, listed[0].intensity) == (4, 2, 60)
    assert listed[0].journal is None and listed[0].source == "replay"


def test_results_of_another_subject_are_not_listed(store: Store) -> None:
    add_subject(store, "S-01")
    add_subject(store, "S-02")
    record_paired(store, "S-01", paired_result(), source="operator")
    record_hotspot(store, "S-01", hotspot_result(), source="operator")
    assert list_paired(store, "S-02") == [] and list_hotspots(store, "S-02") == []


def test_an_unknown_subject_is_refused_and_nothing_is_stored(store: Store) -> None:
    with pytest.raises(ConfigError):
        record_paired(store, "nobody", paired_result(), source="operator")
    with pytest.raises(ConfigError):
        record_hotspot(store, "nobody", hotspot_result(), source="operator")
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM paired_pulse_results").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM hotspot_results").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("paired_pulse_results", "source", "virtual"),
        ("paired_pulse_results", "paradigm", "lici"),
        ("paired_pulse_results", "journal_head", "short"),
        ("hotspot_results", "intensity_percent_mso", 101),
        ("hotspot_results", "journal_session_id", "rmt-x"),  # a session without its head
    ],
)
def test_the_database_refuses_rows_against_its_constraints(
    store: Store, table: str, column: str, value: object
) -> None:
    add_subject(store, "S-01")
    stored = (
        record_paired(store, "S-01", paired_result(), source="operator")
        if table == "paired_pulse_results"
        else record_hotspot(store, "S-01", hotspot_result(), source="operator")
    )
    with pytest.raises(ConfigError, match="refused"), store.write() as conn:
        conn.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", (value, stored.id))
