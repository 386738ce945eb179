"""A stored recruitment curve says whether its intensities were fixed levels or placed
adaptively (`rmt curve --adaptive N`), on SQLite and PostgreSQL; curves stored before the
store recorded it read as unknown, never as a guess."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

from simulators.virtual_subject import VirtualSubject
from stimctl.clock import VirtualClock
from stimctl.errors import ConfigError, ExitCode
from stimctl.records import Store, add_subject
from stimctl.records import schema as records_schema
from stimctl.records.schema import MIGRATIONS, migrate
from stimctl.rmt.curve import CurvePlan, CurveResult, run_curve
from stimctl.rmt.curve_store import list_curves, record_curve


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store


def curve(adaptive_pulses: int | None) -> CurveResult:
    plan = CurvePlan(50.0, (90, 110, 130, 150), per_level=3, adaptive_pulses=adaptive_pulses)
    return run_curve(plan, VirtualSubject(50.0, 7), clock=VirtualClock(), rng=random.Random(2))


def test_fixed_and_adaptive_curves_are_stored_as_such(store: Store) -> None:
    add_subject(store, "S-01")
    fixed = record_curve(store, "S-01", curve(None), source="operator")
    adaptive = record_curve(store, "S-01", curve(9), source="operator")
    assert (fixed.placement, adaptive.placement) == ("fixed", "adaptive")
    listed = {c.id: c.placement for c in list_curves(store, "S-01")}
    assert listed == {fixed.id: "fixed", adaptive.id: "adaptive"}


def test_the_database_refuses_another_placement(store: Store) -> None:
    add_subject(store, "S-01")
    stored = record_curve(store, "S-01", curve(None), source="operator")
    with pytest.raises(ConfigError, match="refused"), store.write() as conn:
        conn.execute(
            "UPDATE recruitment_curves SET placement = ? WHERE id = ?", ("guessed", stored.id)
        )


def test_a_curve_stored_before_the_migration_reads_as_unknown(tmp_path: Path) -> None:
    """A file one migration short of the placement column, with a curve in it: after the
    migration the curve is listed with placement None (it could have been either)."""
    path = tmp_path / "old.db"
    before = MIGRATIONS.index(records_schema._recruitment_curve_placement)
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, before)
    conn.execute("INSERT INTO subjects (id, created_at) VALUES ('S-01', '2026-11-01T09:00:00Z')")
    conn.execute(
        "INSERT INTO recruitment_curves (id, subject_id, recorded_at, rmt_percent_mso,"
        " levels_percent_rmt, per_level, max_intensity, source, s50_percent_mso,"
        " k_percent_mso, plateau_uv, pulses) VALUES ('c1', 'S-01', '2026-11-01T09:00:00Z',"
        " 50, '[90, 110]', 2, 100, 'operator', 55, 3, 2000, '[[45, 20.0, 0.0]]')"
    )
    conn.close()
    with Store.open(path) as store:
        (old,) = list_curves(store, "S-01")
    assert old.id == "c1" and old.placement is None


def test_cli_stores_and_lists_an_adaptive_curve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from stimctl.cli.rmt_cmd import rmt as rmt_group

    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "home"))
    with Store.open() as opened:
        add_subject(opened, "S07")
    path = tmp_path / "amps.txt"
    path.write_text("\n".join(str(20.0 + 60 * i) for i in range(12)) + "\n")
    args = ["curve", "S07", "--rmt", "50", "--levels", "90,110,130", "--adaptive", "12",
            "--amplitudes", str(path), "--speed", "max", "--store", "--json"]  # fmt: skip
    assert rmt_group.main(args=args, prog_name="rmt", standalone_mode=False) == ExitCode.OK
    stored_id = json.loads(capsys.readouterr().out)["stored"]
    with Store.open() as opened:
        (stored,) = list_curves(opened, "S07")
    assert stored.id == stored_id and stored.placement == "adaptive"
    assert rmt_group.main(args=["results", "S07"], prog_name="rmt", standalone_mode=False) == 0
    assert "12 pulses adaptive (replay)" in capsys.readouterr().out
