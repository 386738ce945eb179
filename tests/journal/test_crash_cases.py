"""The legitimate crash cases next to the tamper suite: a crash leaves an "unfinished"
journal (exit 6, not 8) that the next session's recovery closes as "interrupted" (or
seals, after a power cut between session_end and the seal), and that then verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.clock import VirtualClock
from stimctl.errors import ExitCode
from stimctl.journal import journals_dir, read
from stimctl.journal.record import GENESIS
from stimctl.records import Store, reconcile_session, update_session_progress
from stimctl.records.journal_check import recover_journals

from .tamper_world import World, build, lines_of, record, write_journal

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    home = tmp_path / "home"
    monkeypatch.setenv("STIMCTL_HOME", str(home))
    monkeypatch.delenv("STIMCTL_KEYS_DIR", raising=False)
    return build(home)


def _running(session_id: str, *, close: bool, trains: int = 2) -> Path:
    """A session that crashed: row `running` with the head after its last train."""
    journal = write_journal(session_id, close=close, trains=trains)
    with Store.open() as store:
        record(store, journal, ended=False)
        if trains:
            head = journal.head if not close else read(journal.path)[-3]["prev"]
            update_session_progress(store, session_id, pulses_delivered=5, chain_head=head)
    return journal.path


def torn_last_line(w: World) -> tuple[Path, str]:
    path = _running("sess-C", close=False)
    path.write_bytes(path.read_bytes() + b'{"actor":"device","event":"pu')
    return path, "sess-C"


def power_cut_between_trains(w: World) -> tuple[Path, str]:
    return _running("sess-C", close=False), "sess-C"


def power_cut_before_the_seal(w: World) -> tuple[Path, str]:
    path = _running("sess-C", close=True)
    path.write_bytes(b"".join(lines_of(path)[:-1]))
    return path, "sess-C"


def torn_seal(w: World) -> tuple[Path, str]:
    path = _running("sess-C", close=True)
    lines = lines_of(path)
    path.write_bytes(b"".join(lines[:-1]) + lines[-1][:40])
    return path, "sess-C"


def crash_before_the_first_record(w: World) -> tuple[Path, str]:
    path = journals_dir() / "sess-C.jsonl"
    path.write_bytes(b"")
    journal = type("J", (), {"session_id": "sess-C", "path": path, "head": GENESIS})
    with Store.open() as store:
        record(store, journal, ended=False)  # type: ignore[arg-type]
    return path, "sess-C"


def crash_of_a_session_without_a_row(w: World) -> tuple[Path, str]:
    path = write_journal("dry-C", close=False).path
    path.write_bytes(path.read_bytes() + b'{"act')
    return path, "dry-C"


@dataclass(frozen=True)
class Crash:
    make: Callable[[World], tuple[Path, str]]
    before: str
    recovered: str
    status: str


CRASHES: dict[str, Crash] = {
    "torn last line": Crash(
        torn_last_line,
        "unfinished: ends at record 17 (checkpoint) without session_end",
        "sess-C.jsonl: closed as interrupted, 10 pulses delivered",
        "interrupted",
    ),
    "power cut between trains": Crash(
        power_cut_between_trains,
        "unfinished: ends at record 17 (checkpoint) without session_end",
        "sess-C.jsonl: closed as interrupted, 10 pulses delivered",
        "interrupted",
    ),
    "power cut before the seal": Crash(
        power_cut_before_the_seal,
        "unfinished: session_end without its seal (a power cut between the two writes)",
        "sess-C.jsonl: sealed after a crash between session_end and seal",
        "completed",
    ),
    "torn seal": Crash(
        torn_seal,
        "unfinished: session_end without its seal (a power cut between the two writes)",
        "sess-C.jsonl: sealed after a crash between session_end and seal",
        "completed",
    ),
    "crash before the first record": Crash(
        crash_before_the_first_record,
        "unfinished: the journal is empty; the session crashed before its first record",
        "sess-C.jsonl: closed as interrupted, 0 pulses delivered",
        "interrupted",
    ),
    "crash of a dry run without a row": Crash(
        crash_of_a_session_without_a_row,
        "unfinished: ends at record 25 (checkpoint) without session_end",
        "dry-C.jsonl: closed as interrupted, 15 pulses delivered",
        "interrupted",
    ),
}


@pytest.mark.parametrize("name", list(CRASHES))
def test_a_crash_is_unfinished_then_recovered_not_tampered(
    name: str, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    crash = CRASHES[name]
    path, sid = crash.make(world)
    capsys.readouterr()
    assert main(["journal", "verify", str(path)]) == ExitCode.STATE
    assert crash.before in capsys.readouterr().out
    assert recover_journals(VirtualClock()) == [crash.recovered]
    assert read(path)[-1]["event"] == "seal"
    assert main(["journal", "verify", str(path)]) == ExitCode.OK
    out = capsys.readouterr().out
    assert f", {crash.status}, " in out and "signed by key" in out
    if not sid.startswith("dry"):
        with Store.open() as store:
            row = reconcile_session(store, sid)
        assert row.status == crash.status
        assert main(["journal", "verify", sid]) == ExitCode.OK


DRY_RUN_KILLED = """
import sys
from stimctl.cli import main
sys.exit(main(["dry-run", "dep-fda-10hz", "--rmt", "52", "--speed", "20"]))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_signed_dry_run_killed_mid_session_is_recovered_as_interrupted(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", DRY_RUN_KILLED],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env=env,
    )
    try:
        assert proc.stderr is not None
        for raw in proc.stderr:  # progress lines: "train  trains 2/75 ..."
            if b"trains 2/" in raw:
                break
        else:
            pytest.fail("the dry run ended before its second train")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    (path,) = [p for p in journals_dir().glob("*.jsonl") if not p.name.startswith("sess-")]
    capsys.readouterr()
    assert main(["journal", "verify", str(path)]) == ExitCode.STATE
    (line,) = recover_journals(VirtualClock())
    assert line.startswith(f"{path.name}: closed as interrupted, ")
    assert main(["journal", "verify", str(path)]) == ExitCode.OK
    assert ", interrupted, " in capsys.readouterr().out
