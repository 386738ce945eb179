"""Signed sessions end to end through the console script: a subject's dry run is signed,
verifies by id against its row, and a clinical session on a stimulator refuses to start
without a key (before the device is opened)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ExitCode
from stimctl.journal import read
from stimctl.safety.tables import screening_table
from tests.identity.people import as_engineer


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STIMCTL_KEYS_DIR", raising=False)
    monkeypatch.delenv("STIMCTL_SITE", raising=False)
    return tmp_path / "home"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _subject(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    answers = tmp_path / "answers.toml"
    items = "\n".join(f"{item} = false" for item in screening_table().items)
    today = dt.date.today().isoformat()
    answers.write_text(f'questionnaire = "rossi-2011"\nanswered_on = {today}\n[answers]\n{items}\n')
    assert run(capsys, "subject", "add", "S-01")[0] == 0
    assert run(capsys, "screen", "S-01", "--answers", str(answers))[0] == 0
    assert run(capsys, "rmt", "record", "S-01", "--value", "52", "--method", "emg")[0] == 0


def test_a_subjects_dry_run_is_signed_and_verifies_against_its_row(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "keys", "init")
    assert code == 0 and "(mode 0600)" in out
    (key,) = (home / "keys").glob("*.key")
    assert key.stat().st_mode & 0o777 == 0o600
    assert (home / "keys").stat().st_mode & 0o777 == 0o700
    _subject(capsys, tmp_path)
    code, out, _ = run(capsys, "dry-run", "np-m1-10hz-90", "--subject", "S-01", "--json")
    assert code == 0
    summary = json.loads(out)
    records = read(summary["journal"])
    checkpoints = [r for r in records if r["event"] == "checkpoint"]
    assert len(checkpoints) == summary["trains_delivered"]
    assert records[-1]["event"] == "seal" and records[-1]["payload"]["signature"]
    code, out, _ = run(capsys, "journal", "verify", summary["session_id"])
    assert code == 0
    assert f"completed, {summary['pulses_delivered']} pulses, signed by key {key.stem}" in out
    assert "no row on record" not in out
    assert run(capsys, "records", "audit")[0] == 0
    code, out, _ = run(capsys, "report", summary["session_id"], "--format", "json", "-o", "-")
    assert code == 0
    assert json.loads(out)["journal"]["outcome"] == "intact"


def test_a_clinical_session_on_a_stimulator_needs_a_key_before_the_port_is_opened(
    home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _subject(capsys, tmp_path)
    from stimctl.records import Store
    from tests.identity.people import register

    with Store.open() as store:
        register(store, "dr-lee")  # an authenticated operator: the key rule is what refuses
    monkeypatch.setattr("sys.stdin", io.StringIO("lee-pass-1\n"))
    port = tmp_path / "no-such-port"
    code, _, err = run(
        capsys,
        "run", "np-m1-10hz-90", "--subject", "S-01", "--device",
        "magstim-rapid2-super-plus-240v", "--port", str(port), "--headless", "--yes",
        "--operator", "dr-lee", "--password-stdin",
    )  # fmt: skip
    assert code == ExitCode.BAD_INPUT
    assert "clinical mode needs a journal signing key: run `stimctl keys init`" in err
    assert not list((home / "journals").glob("*.jsonl"))  # no journal was even created


def test_keys_live_outside_the_journals_folder(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STIMCTL_KEYS_DIR", str(home / "journals" / "keys"))
    code, _, err = run(capsys, "keys", "init")
    assert code == ExitCode.BAD_INPUT
    assert "is inside the journals folder" in err


def test_rotation_keeps_old_journals_verifiable_and_lists_both_keys(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, "keys", "init")[0] == 0
    code, out, _ = run(capsys, "dry-run", "np-m1-10hz-90", "--rmt", "52", "--json")
    old_journal = json.loads(out)["journal"]
    (old_key,) = (home / "keys").glob("*.key")
    assert run(capsys, "keys", "rotate", *as_engineer(monkeypatch))[0] == 0
    assert not old_key.exists()  # the retired private key is gone...
    code, out, _ = run(capsys, "journal", "verify", old_journal)
    assert code == 0 and f"signed by key {old_key.stem}" in out  # ...its journals verify
    code, out, _ = run(capsys, "keys", "list")
    lines = out.splitlines()
    assert len(lines) == 2
    assert any(old_key.stem in line and "retired" in line for line in lines)
    assert any(line.startswith("* ") and "active" in line for line in lines)
    assert os.access(home / "keys" / "active", os.R_OK)


def test_a_threshold_hunt_on_a_device_is_sealed_signed_and_verifies(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "keys", "init")[0] == 0
    hunt = ("rmt", "hunt", "S1", "--method", "ml-pest", "--device", "magpro-x100")
    code, out, _ = run(
        capsys, *hunt, "--virtual-rmt", "52", "--seed", "1", "--speed", "max", "--json"
    )
    assert code == 0
    (journal,) = (home / "journals").glob("rmt-*.jsonl")
    records = read(journal)
    assert [r["event"] for r in records[-2:]] == ["session_end", "seal"]
    assert records[-1]["payload"]["pulses"] == json.loads(out)["pulses"]
    assert sum(r["event"] == "checkpoint" for r in records) == 1  # its one train
    code, out, _ = run(capsys, "journal", "verify", str(journal))
    assert code == 0 and "signed by key" in out


def test_rotation_is_refused_while_a_session_writes_its_journal(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from stimctl.clock import VirtualClock
    from stimctl.journal import Journal, events, journals_dir

    assert run(capsys, "keys", "init")[0] == 0
    with Journal.create(journals_dir(), "live", clock=VirtualClock()) as journal:
        journal.append(events.SESSION_START, {})
        code, _, err = run(capsys, "keys", "rotate", *as_engineer(monkeypatch))
    assert code == ExitCode.STATE
    assert "a session is running (journal live.jsonl is open)" in err


def test_a_key_on_record_whose_file_is_gone_stops_sessions_instead_of_running_unsigned(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "keys", "init")
    key_id = out.split()[2]
    (home / "keys" / "active").unlink()
    code, _, err = run(capsys, "dry-run", "np-m1-10hz-90", "--rmt", "52")
    assert code == ExitCode.BAD_INPUT
    assert f"signing key {key_id} is active on record but" in err
