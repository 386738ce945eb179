"""Headless `run` (issue 16 item 5): the plan and verdict, then the operator types the
subject id (`start` in research mode) before the first pulse, unless --yes; one
progress line per train and per state change."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.configs import configs_dir
from stimctl.errors import ExitCode
from tests.session.records_helpers import (
    PASSWORD,
    SIGN_IN,
    enroll,
    sessions_of,
    sign_in_ready,
    write_protocol,
)

STIMSIM = ("--device", "magpro-x100", "--port", "stimsim://magpro-x100", "--headless")
RESEARCH = ("--site", str(configs_dir() / "site" / "research.toml"), "--study", "ST-1")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("STIMCTL_HOME", str(home))
    monkeypatch.delenv("STIMCTL_SITE", raising=False)
    enroll(home)
    sign_in_ready(home)
    return home


def journals(home: Path) -> list[Path]:
    folder = home / "journals"
    return sorted(folder.glob("*.jsonl")) if folder.exists() else []


def test_without_a_terminal_and_without_yes_the_run_is_refused_in_one_line(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    protocol = str(write_protocol(tmp_path, pulses=2))
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD))
    code = main(["run", protocol, "--subject", "S-01", *STIMSIM, *SIGN_IN])
    err = capsys.readouterr().err.strip()
    assert code == ExitCode.BAD_INPUT
    assert err.splitlines() == [err] and "--yes" in err and "not a terminal" in err
    assert journals(home) == [] and sessions_of(home) == []


def test_yes_prints_the_plan_and_one_progress_line_per_train(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    protocol = str(write_protocol(tmp_path, pulses=3))  # one train, 3 s at 1 Hz
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD))
    code = main(["run", protocol, "--subject", "S-01", *STIMSIM, *SIGN_IN, "--yes"])
    err = capsys.readouterr().err
    assert code == ExitCode.OK, err
    assert "plan: slow (1 Hz, host-timed)" in err
    assert "1 train(s) x 3 pulses = 3 pulses at 1 Hz" in err
    assert "verdict: ALLOW" in err
    progress = [line for line in err.splitlines() if " trains " in line and "pulses " in line]
    # 3 s of polling at 5 a second used to print ~15 lines; now one per state and train
    states = [line.split()[0] for line in progress]
    assert len(progress) == len(set(zip(states, [p.split()[2] for p in progress], strict=True)))
    assert len(progress) <= 4, progress
    assert len(journals(home)) == 1


def run_at_a_terminal(args: list[str], typed: str, home: Path) -> tuple[int, str]:
    """`stimctl` with a pty as standard input (a terminal), `typed` entered on it."""
    master, slave = pty.openpty()
    env = {**os.environ, "STIMCTL_HOME": str(home)}
    env.pop("STIMCTL_SITE", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "stimctl", *args],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(slave)
    try:
        os.write(master, typed.encode())
        _, err = process.communicate(timeout=120)
    finally:
        os.close(master)
    return process.returncode, err.decode()


def test_typing_the_subject_id_starts_the_session(home: Path, tmp_path: Path) -> None:
    protocol = str(write_protocol(tmp_path, pulses=2))
    args = ["run", protocol, "--subject", "S-01", *STIMSIM, *SIGN_IN]
    code, err = run_at_a_terminal(args, PASSWORD + "S-01\n", home)
    assert code == ExitCode.OK, err
    assert "Type the subject id (S-01) to start" in err
    assert err.index("verdict: ALLOW") < err.index("Type the subject id")
    [row] = sessions_of(home)
    assert row.status == "completed" and row.pulses_delivered == 2


@pytest.mark.parametrize("typed", ["S-02", "", "yes", "s-01"])
def test_anything_else_fires_nothing_and_exits_not_confirmed(
    home: Path, tmp_path: Path, typed: str
) -> None:
    protocol = str(write_protocol(tmp_path, pulses=2))
    args = ["run", protocol, "--subject", "S-01", *STIMSIM, *SIGN_IN]
    started = time.monotonic()
    code, err = run_at_a_terminal(args, PASSWORD + typed + "\n", home)
    assert code == ExitCode.NOT_CONFIRMED == 13, err
    last = err.strip().splitlines()[-1]
    assert "not started" in last and "no pulse was delivered" in last and "Traceback" not in err
    assert journals(home) == [] and sessions_of(home) == []
    assert time.monotonic() - started < 60


def test_a_research_session_asks_for_start(home: Path, tmp_path: Path) -> None:
    protocol = str(write_protocol(tmp_path, pulses=2))
    args = ["run", protocol, "--subject", "S-01", *STIMSIM, *RESEARCH, *SIGN_IN]
    code, err = run_at_a_terminal(args, PASSWORD + "S-01\n", home)
    assert code == ExitCode.NOT_CONFIRMED and "not 'start'" in err
    assert sessions_of(home) == []
    code, err = run_at_a_terminal(args, PASSWORD + "start\n", home)
    assert code == ExitCode.OK, err
    assert "Type start to start" in err and "research session" in err
    [row] = sessions_of(home)
    assert row.mode == "research" and row.status == "completed"
