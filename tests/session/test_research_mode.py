"""Research mode is a site setting, not a per-command escape (issue 12 item 4)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.configs import configs_dir
from stimctl.errors import ConfigError, ExitCode
from stimctl.site import load_site
from tests.session.records_helpers import (
    OPERATOR,
    PASSWORD,
    SIGN_IN,
    enroll,
    sessions_of,
    sign_in_ready,
    write_protocol,
)

RESEARCH_SITE = configs_dir() / "site" / "research.toml"
STIMSIM = ("--device", "magpro-x100", "--port", "stimsim://magpro-x100", "--headless", "--yes")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STIMCTL_SITE", raising=False)
    return tmp_path / "home"


@pytest.fixture
def protocol(tmp_path: Path) -> str:
    return str(write_protocol(tmp_path, pulses=2))


def test_the_shipped_site_forbids_research_sessions(
    home: Path, protocol: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load_site().research_allowed is False
    enroll(home)
    research = ("--mode", "research", "--study", "ST-1", "--operator", "ra-1")
    for command in (
        ("dry-run", protocol, "--rmt", "52"),
        ("dry-run", protocol, "--subject", "S-01"),
        ("run", protocol, *STIMSIM, "--subject", "S-01"),
    ):
        code, _, err = run(capsys, *command, *research)
        assert code == ExitCode.BAD_INPUT
        assert "research sessions are not allowed at this site" in err
        assert len(err.strip().splitlines()) == 1
    assert sessions_of(home) == []


def test_a_site_file_cannot_be_research_without_allowing_it(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text('schema_version = 1\nmode = "research"\n')
    with pytest.raises(ConfigError, match="research_allowed"):
        load_site(str(site))


def test_a_blocked_subject_is_not_run_in_research_mode(
    home: Path, protocol: str, capsys: pytest.CaptureFixture[str]
) -> None:
    enroll(home)
    run(capsys, "ae", "record", "S-01", "--kind", "seizure", "--severity", "severe")
    site = ("--site", str(RESEARCH_SITE), "--mode", "research", "--study", "ST-1")
    # without --subject: refused (a session on a stimulator is on record)
    code, _, err = run(capsys, "run", protocol, *STIMSIM, *site, "--rmt", "52")
    assert code == ExitCode.BAD_INPUT and "needs --subject" in err
    # with it: the subject's own block applies, research mode or not
    code, _, err = run(capsys, "run", protocol, *STIMSIM, *site, "--subject", "S-01")
    assert code == ExitCode.BLOCKED and "SES-4" in err
    code, _, err = run(capsys, "run", protocol, *STIMSIM, *site, "--subject", "S-01", "--rmt", "40")
    assert code == ExitCode.BLOCKED and "SES-4" in err
    assert sessions_of(home) == []


@pytest.mark.parametrize(
    ("given", "code", "text"),
    [
        # no study: refused before anyone signs in
        (("--study", "", *SIGN_IN), ExitCode.BAD_INPUT, "needs --study"),
        # a blank operator id is bad input
        (("--study", "ST-1", "--operator", " ", "--password-stdin"), ExitCode.BAD_INPUT,
         "is not an operator id"),
        # no operator: this site does not allow unauthenticated research runs
        (("--study", "ST-1"), ExitCode.AUTH, "research session on a stimulator at this site"),
    ],
)  # fmt: skip
def test_a_research_run_needs_a_study_and_an_operator(
    home: Path,
    protocol: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    given: tuple[str, ...],
    code: int,
    text: str,
) -> None:
    enroll(home)
    sign_in_ready(home)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD))
    got, _, err = run(
        capsys, "run", protocol, *STIMSIM, "--site", str(RESEARCH_SITE), "--subject", "S-01",
        *given,
    )  # fmt: skip
    assert got == code and text in err, err
    assert len(err.strip().splitlines()) == 1
    assert sessions_of(home) == []
    assert not (home / "journals").exists() or not any((home / "journals").iterdir())


def test_a_research_run_is_recorded_with_its_study(
    home: Path,
    protocol: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    enroll(home)
    sign_in_ready(home)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD))
    code, _, err = run(
        capsys, "run", protocol, *STIMSIM, "--site", str(RESEARCH_SITE), "--subject", "S-01",
        "--study", "ST-1", *SIGN_IN,
    )  # fmt: skip
    assert code == 0, err
    [row] = sessions_of(home)
    assert row.mode == "research" and row.study_id == "ST-1" and row.operator_id == OPERATOR
    assert not row.simulated and row.status == "completed"
    assert "[research ST-1]" in run(capsys, "sessions", "list")[1]


def test_a_dry_run_with_a_bare_rmt_stays_allowed(
    home: Path, protocol: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "dry-run", protocol, "--rmt", "52")
    assert code == 0, err
    code, _, err = run(
        capsys, "dry-run", protocol, "--rmt", "52", "--site", str(RESEARCH_SITE), "--mode",
        "research",
    )  # fmt: skip
    assert code == 0, err


def test_a_study_id_is_a_plain_id(
    home: Path, protocol: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "dry-run", protocol, "--rmt", "52", "--study", "x\ny")
    assert code == ExitCode.BAD_INPUT and "invalid study id" in err
    assert len(err.strip().splitlines()) == 1
