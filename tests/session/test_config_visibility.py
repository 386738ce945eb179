"""Visible configuration (issue 13 item 5): modified tables and site files are never silent.

`STIMCTL_CONFIGS` pointing at a copy of the tables with a cap raised used to turn a
verdict around with no warning, and a site file widening the screening validity was
journaled as only mode and time zone. Now every session journals each config file's
digest and whether it is the shipped one, `check` says "locally modified", and a
clinical run needs an engineer's approval of the modified bytes on record.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stimctl.cli import main
from stimctl.configs import file_digest, shipped_configs_dir
from stimctl.errors import ExitCode
from stimctl.journal import journals_dir, read
from stimctl.safety.tables import limits, screening_table
from stimctl.testing import manifest
from tests.identity.people import SECRETS, as_engineer, register

SHORT = """schema_version = 1
name = "short"
title = "short test"
indication = "research"
source = "test"
[target]
site = "M1-hand"
hemisphere = "left"
[coil]
family = "figure-8"
[intensity]
percent_rmt = 90
[pattern]
kind = "train"
frequency_hz = 10.0
pulses_per_train = 10
trains = 1
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def edited_configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the shipped configs with the 10 Hz session pulse cap raised to 9999."""
    configs = tmp_path / "configs"
    shutil.copytree(shipped_configs_dir(), configs)
    table = configs / "safety" / "limits.toml"
    text = table.read_text(encoding="utf-8")
    assert "hf_session = { value = 3000" in text
    table.write_text(text.replace("hf_session = { value = 3000", "hf_session = { value = 9999"))
    monkeypatch.setenv("STIMCTL_CONFIGS", str(configs))
    limits.cache_clear()
    yield configs
    limits.cache_clear()


@pytest.fixture
def subject(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> str:
    """S-01 with a threshold measured on the MagPro X100 and a clean screening; dr-lee
    registered to run sessions."""
    from stimctl.records import Store

    with Store.open() as store:
        register(store, "dr-lee")
    assert run(capsys, "subject", "add", "S-01")[0] == 0
    rmt = ("rmt", "record", "S-01", "--value", "50", "--method", "emg", "--device", "magpro-x100")
    assert run(capsys, *rmt)[0] == 0
    table = screening_table()
    answers = tmp_path / "answers.toml"
    lines = [f'questionnaire = "{table.questionnaire}"', "answered_on = 2026-12-01", "[answers]"]
    answers.write_text("\n".join(lines + [f"{k} = false" for k in table.items]) + "\n")
    assert run(capsys, "screen", "S-01", "--answers", str(answers), "--reviewer", "dr-a")[0] == 0
    return "S-01"


APPROVE_LIMITS = ("site", "approve", "safety/limits.toml")


def _run_short(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> tuple[int, str, str]:
    protocol = tmp_path / "short.toml"
    protocol.write_text(SHORT)
    args = ("run", str(protocol), "--subject", "S-01", "--device", "magpro-x100")
    signed_in = ("--operator", "dr-lee", "--password-stdin")  # a clinical run (issue 13)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.StringIO(SECRETS["dr-lee"] + "\n"))
        return run(
            capsys,
            *args,
            "--port",
            "stimsim://magpro-x100",
            "--headless",
            "--yes",
            "--json",
            *signed_in,
        )


def _session_start(journal: str) -> dict[str, Any]:
    first = read(Path(journal))[0]
    assert first["event"] == "session_start"
    return first["payload"]


def test_check_says_locally_modified(
    edited_configs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "check", "np-m1-10hz-90", "--rmt", "50")
    assert code == 0
    assert "locally modified: safety/limits.toml" in out
    code, out, _ = run(capsys, "check", "np-m1-10hz-90", "--rmt", "50", "--json")
    data = json.loads(out)
    assert data["locally_modified"] == ["safety/limits.toml"]
    limits_entry = next(c for c in data["configs"] if c["name"] == "safety/limits.toml")
    assert limits_entry["matches_shipped"] is False
    assert limits_entry["sha256"] == file_digest(edited_configs / "safety" / "limits.toml")


def test_shipped_configs_are_not_flagged(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "np-m1-10hz-90", "--rmt", "50", "--json")
    data = json.loads(out)
    assert code == 0 and data["locally_modified"] == []
    kinds = {c["kind"] for c in data["configs"]}
    assert kinds == {"protocol", "safety table", "site file"}


def test_a_site_file_of_its_own_is_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "clinic-site.toml"
    shipped = (shipped_configs_dir() / "site" / "default.toml").read_text()
    site.write_text(
        shipped.replace("screening_validity_days = 30", "screening_validity_days = 365")
    )
    code, out, _ = run(capsys, "check", "np-m1-10hz-90", "--rmt", "50", "--site", str(site))
    assert code == 0
    assert f"locally modified: {site} (not a shipped file)" in " ".join(out.split())


def test_clinical_run_refuses_an_unapproved_modified_table(
    edited_configs: Path,
    subject: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run_short(capsys, tmp_path)
    assert code == ExitCode.BLOCKED, err
    assert "CFG-1" in err and "safety/limits.toml" in err and "stimctl site approve" in err
    assert "locally modified: safety/limits.toml" in err
    assert out == ""
    journals = journals_dir()
    assert not journals.exists() or not list(journals.glob("*.jsonl"))


def test_an_approved_table_runs_and_the_journal_names_the_approval(
    edited_configs: Path,
    subject: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reason = "raised the cap for the HD-10 study"
    code, out, _ = run(
        capsys,
        "site",
        "approve",
        "safety/limits.toml",
        *as_engineer(monkeypatch),
        "--reason",
        reason,
    )
    assert code == 0 and "approved safety/limits.toml (locally modified)" in out
    code, out, err = _run_short(capsys, tmp_path)
    assert code == 0, err
    start = _session_start(json.loads(out)["journal"])
    digest = file_digest(edited_configs / "safety" / "limits.toml")
    [approval] = start["config_approvals"]
    assert approval["approver_id"] == "eng-kim" and approval["reason"] == reason
    assert approval["sha256"] == digest and approval["file_name"] == "safety/limits.toml"
    assert "safety/limits.toml" in start["locally_modified"]
    journal = json.loads(out)["journal"]
    code, html, _ = run(capsys, "report", journal, "--format", "html", "-o", "-")
    assert code == 0
    assert "locally modified: safety/limits.toml" in html
    assert "approved by eng-kim" in html and reason in html
    code, _, err = run(capsys, "report", journal, "--format", "json")
    assert code == 0 and "locally modified: safety/limits.toml" in err


def test_an_approval_does_not_cover_a_later_edit(
    edited_configs: Path,
    subject: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engineer = as_engineer(monkeypatch)
    approve = ("site", "approve", "safety/limits.toml", *engineer, "--reason", "study cap")
    assert run(capsys, *approve)[0] == 0
    table = edited_configs / "safety" / "limits.toml"
    table.write_text(table.read_text().replace("value = 9999", "value = 99999"))
    code, _, err = _run_short(capsys, tmp_path)
    assert code == ExitCode.BLOCKED and "CFG-1" in err


@pytest.mark.parametrize("reason", [".", "\u200b", "   ", "ok"])
def test_an_approval_needs_a_reason_in_words(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, reason: str
) -> None:
    code, _, err = run(
        capsys,
        "site",
        "approve",
        "safety/limits.toml",
        *as_engineer(monkeypatch),
        "--reason",
        reason,
    )
    assert code == ExitCode.BAD_INPUT and "reason in words" in err


def test_every_session_journals_every_config_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "dry-run", "np-m1-10hz-90", "--rmt", "52", "--json")
    assert code == 0
    start = _session_start(json.loads(out)["journal"])
    configs = start["configs"]
    assert isinstance(configs, list)
    names = {c["name"] for c in configs}
    assert {
        "protocols/np-m1-10hz-90.toml",
        "devices/magstim-rapid2-super-plus-240v.toml",
        "devices/tables/rapid2-joules.toml",
        "safety/limits.toml",
        "safety/wass1998_t4.csv",
        "site/default.toml",
    } <= names
    assert all(c["matches_shipped"] for c in configs)
    assert start["locally_modified"] == [] and start["config_approvals"] == []


def test_selftest_reports_a_modified_table_after_the_manifest_was_regenerated(
    edited_configs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    regenerated = manifest.digests_of(edited_configs)  # what `manifest --write` gave before
    monkeypatch.setattr(manifest, "load_manifest", lambda *_: regenerated)
    lines = [r.line() for r in manifest.run_config_checks(edited_configs)]
    failures = [line for line in lines if line.startswith("FAIL")]
    assert any("locally modified: safety/limits.toml" in line for line in failures), lines
    assert any("configs_manifest.json matches the digests built into" in f for f in failures)


def test_manifest_write_never_reads_stimctl_configs(
    edited_configs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert manifest.main(["--write", "--configs", str(edited_configs)]) == 2
    assert "reads only the shipped configs" in capsys.readouterr().err


def test_the_built_in_digests_match_the_shipped_configs() -> None:
    repo_configs = Path(__file__).resolve().parents[2] / "configs"
    assert manifest.digests_of(repo_configs) == manifest.builtin_digests(), (
        "configs/ changed: run `.venv/bin/python -m stimctl.testing.manifest --write "
        "--write-builtin` and commit both files"
    )
