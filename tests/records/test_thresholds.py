"""Thresholds by type and muscle in the records (issue 15 item 1): stored, read back,
migrated, chosen per protocol, and given on the command line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ConfigError, ExitCode
from stimctl.records import Store, ThresholdRecord, add_subject, list_thresholds, record_threshold
from stimctl.records.history import subject_for
from stimctl.records.schema import migrate
from tests.records.conftest import TODAY


def test_kind_and_muscle_are_stored_and_read_back(store: Store) -> None:
    add_subject(store, "S-02")
    record_threshold(store, ThresholdRecord("S-02", 44.0, "emg", TODAY, kind="amt", muscle="FDI"))
    record_threshold(store, ThresholdRecord("S-02", 66.0, "emg", TODAY, kind="rmt", muscle="TA"))
    got = {(t.kind, t.muscle, t.percent_mso) for t in list_thresholds(store, "S-02")}
    assert got == {("amt", "FDI", 44.0), ("rmt", "TA", 66.0)}


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [("kind", "mt", "rmt or amt"), ("muscle", "biceps", "not one of")],
)
def test_unknown_kind_or_muscle_is_refused(
    store: Store, field: str, value: str, words: str
) -> None:
    add_subject(store, "S-02")
    record = ThresholdRecord("S-02", 44.0, "emg", TODAY)
    with pytest.raises(ConfigError, match=words):
        record_threshold(store, ThresholdRecord(**{**record.__dict__, field: value}))


def test_the_database_refuses_an_unknown_kind(store: Store) -> None:
    add_subject(store, "S-02")
    with store.write() as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO motor_thresholds (id, subject_id, percent_mso, method, measured_on,"
            " recorded_at, kind) VALUES ('x', 'S-02', 50, 'emg', '2026-11-24', 'now', 'xmt')"
        )


def test_rows_from_before_the_migration_are_hand_rmts(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    migrate(conn, 3)
    conn.execute("INSERT INTO subjects (id, created_at) VALUES ('S-01', '2026-01-01T00:00:00Z')")
    conn.execute(
        "INSERT INTO motor_thresholds (id, subject_id, percent_mso, method, measured_on,"
        " recorded_at) VALUES ('t1', 'S-01', 50, 'emg', '2026-11-24', '2026-11-24T09:00:00Z')"
    )
    migrate(conn)
    conn.close()
    with Store.open(tmp_path / "x.db") as store:
        (old,) = list_thresholds(store, "S-01")
    assert (old.kind, old.muscle) == ("rmt", "hand")


def test_subject_carries_every_kind_and_muscle(store: Store, subject: str) -> None:
    record_threshold(store, ThresholdRecord(subject, 40.0, "emg", TODAY, kind="amt", muscle="FDI"))
    record_threshold(store, ThresholdRecord(subject, 70.0, "emg", TODAY, kind="rmt", muscle="TA"))
    got = subject_for(store, subject)
    assert got.rmt.kind == "rmt" and got.rmt.percent_mso == 50.0  # the hand RMT is primary
    amt = got.threshold("amt", "hand")
    leg = got.threshold("rmt", "leg")
    assert amt is not None and amt.percent_mso == 40.0 and amt.record_id
    assert leg is not None and leg.percent_mso == 70.0


def test_rmt_record_and_show_with_type_and_muscle(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["subject", "add", "S-01"]) == ExitCode.OK
    argv = ["rmt", "record", "S-01", "--value", "42", "--method", "emg"]
    assert main([*argv, "--type", "amt", "--muscle", "APB"]) == ExitCode.OK
    assert "recorded AMT 42% MSO (APB" in capsys.readouterr().out
    assert main(["subject", "show", "S-01"]) == ExitCode.OK
    assert "AMT: 42% MSO, emg, APB" in capsys.readouterr().out


def test_rmt_record_refuses_an_unknown_muscle(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["subject", "add", "S-01"])
    argv = ["rmt", "record", "S-01", "--value", "42", "--method", "emg", "--muscle", "biceps"]
    assert main(argv) == ExitCode.BAD_INPUT
    assert "biceps" in capsys.readouterr().err


def test_a_depth_adjusted_threshold_on_record_serves_saint(store: Store, subject: str) -> None:
    from stimctl.protocol import load_protocol
    from stimctl.safety import SiteRules
    from stimctl.safety.engine import evaluate
    from tests.records.conftest import NOW

    record_threshold(
        store, ThresholdRecord(subject, 64.0, "emg", TODAY, muscle="FDI", adjusted_for="L-DLPFC")
    )
    got = subject_for(store, subject)
    assert got.rmt.percent_mso == 50.0  # the measured hand RMT stays the primary one
    adjusted = got.adjusted_threshold("rmt", "L-DLPFC")
    assert adjusted is not None and adjusted.percent_mso == 64.0
    verdict = evaluate(
        load_protocol("dep-saint"), got, now=NOW, site=SiteRules(accelerated_allowed=True)
    )
    assert verdict.verdict.value == "allow", verdict.deciding()
    assert verdict.derived["dose_percent_mso"] == pytest.approx(57.6)  # 90% of 64


def test_an_unknown_adjusted_for_site_is_refused(store: Store, subject: str) -> None:
    with pytest.raises(ConfigError, match="adjusted-for site"):
        record_threshold(store, ThresholdRecord(subject, 64.0, "emg", TODAY, adjusted_for="moon"))


def test_rmt_record_takes_adjusted_for(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["subject", "add", "S-01"])
    argv = [
        "rmt",
        "record",
        "S-01",
        "--value",
        "61",
        "--method",
        "emg",
        "--adjusted-for",
        "L-DLPFC",
    ]
    assert main(argv) == ExitCode.OK
    assert "adjusted for the depth of L-DLPFC" in capsys.readouterr().out
