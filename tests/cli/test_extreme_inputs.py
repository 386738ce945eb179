"""Extreme numbers, future dates, deep nesting and huge fields are refused (issue 12 item 10).

Each row is an input that today's code took (ALLOW, a row in the store) or crashed on (exit
70, a stalled compile with the device connected, a 10 MB error line). Every one must now be
a bad-input refusal: exit 2, one line on stderr, short, no traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.configs import configs_dir
from stimctl.errors import ExitCode
from stimctl.safety.tables import screening_table

MAX_LINE = 300
BASE = "np-m1-10hz-90"


def base_text() -> str:
    return (configs_dir() / "protocols" / f"{BASE}.toml").read_text(encoding="utf-8")


def edited(tmp_path: Path, name: str, old: str, new: str) -> str:
    text = base_text()
    assert old in text, old
    path = tmp_path / f"{name}.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_clean_line(code: int, err: str) -> None:
    assert code == ExitCode.BAD_INPUT, err[:500]
    lines = err.splitlines()
    assert len(lines) == 1, lines[:3]
    assert len(lines[0]) <= MAX_LINE, len(lines[0])
    assert "Traceback" not in err and "internal error" not in err


# (case id, old text in the shipped protocol, replacement)
PROTOCOL_EDITS = [
    ("train-1e-300", "pulses_per_train = 50", "train_duration_s = 1e-300"),
    ("iti-1e300", "inter_train_interval_s = 25.0", "inter_train_interval_s = 1e300"),
    ("trains-1e23-int", "trains = 40", "trains = 100000000000000000000000"),
    ("pulses-per-train-huge", "pulses_per_train = 50", "pulses_per_train = 99999999999"),
    ("frequency-nan", "frequency_hz = 10.0", "frequency_hz = nan"),
    ("frequency-inf", "frequency_hz = 10.0", "frequency_hz = inf"),
    ("frequency-subnormal", "frequency_hz = 10.0", "frequency_hz = 5e-324"),
    ("percent-rmt-1e-300", "percent_rmt = 90", "percent_rmt = 1e-300"),
    ("iti-nan", "inter_train_interval_s = 25.0", "inter_train_interval_s = nan"),
    ("course-huge", "course_sessions = 15", "course_sessions = 9999999999999"),
    (
        "total-over-ceiling",
        "pulses_per_train = 50",
        "pulses_per_train = 5000",  # 40 x 5000 = 200 000 pulses in one session
    ),
    ("nested-5000", 'notes = "', "deep = " + "[" * 5000 + "]" * 5000 + '\nnotes = "'),
    ("field-10mb", 'notes = "', 'notes = "' + "x" * 10_000_000),
]


@pytest.mark.parametrize(
    ("old", "new"), [(o, n) for _, o, n in PROTOCOL_EDITS], ids=[i for i, _, _ in PROTOCOL_EDITS]
)
def test_check_refuses_absurd_protocols(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, old: str, new: str
) -> None:
    path = edited(tmp_path, "absurd", old, new)
    code, out, err = run(capsys, "check", path, "--rmt", "50", "--json")
    assert out == ""
    assert_one_clean_line(code, err)


def _subject(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "subject", "add", "S-01")[0] == 0


def _answers(tmp_path: Path, answered_on: str, extra: str = "") -> str:
    table = screening_table()
    lines = [f'questionnaire = "{table.questionnaire}"', f"answered_on = {answered_on}", extra]
    lines.append("[answers]")
    lines += [f"{item} = false" for item in table.items]
    path = tmp_path / "answers.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


RECORD = ["rmt", "record", "S-01", "--value", "50", "--method", "emg"]
AE = ["ae", "record", "S-01", "--kind", "headache", "--severity", "mild"]
HUNT = ["rmt", "hunt", "S-01", "--method", "rr", "--virtual-rmt", "50", "--speed", "max"]
DEEP = "deep = " + "[" * 5000 + "]" * 5000
HUGE = "99999999999999999999999"
SCREEN = ["screen", "S-01", "--answers"]
PROBE = [
    "devices",
    "probe",
    "--port",
    "stimsim://magstim-200",
    "--driver",
    "magstim-200",
    "--driver-option",
]

# (case id, argv builder given tmp_path)
OPTION_CASES: list[tuple[str, Callable[[Path], list[str]]]] = [
    ("check-rmt-1e-300", lambda _: ["check", BASE, "--rmt", "1e-300"]),
    ("check-rmt-nan", lambda _: ["check", BASE, "--rmt", "nan"]),
    ("check-rmt-date-2099", lambda _: ["check", BASE, "--rmt", "50", "--rmt-date", "2099-01-01"]),
    ("rmt-record-2099", lambda _: [*RECORD, "--date", "2099-01-01"]),
    ("rmt-record-pulses-huge", lambda _: [*RECORD, "--pulses", HUGE]),
    ("rmt-record-value-1e-300", lambda _: [*RECORD[:4], "1e-300", *RECORD[5:]]),
    (
        "screen-date-2099",
        lambda p: [
            "screen",
            "S-01",
            "--answers",
            _answers(p, "2026-11-24"),
            "--date",
            "2099-01-01",
        ],
    ),
    ("screen-file-2099", lambda p: ["screen", "S-01", "--answers", _answers(p, "2099-01-01")]),
    (
        "screen-file-nested",
        lambda p: ["screen", "S-01", "--answers", _answers(p, "2026-11-24", DEEP)],
    ),
    ("ae-2099", lambda _: [*AE, "--at", "2099-01-01T00:00:00Z"]),
    ("ae-pulse-index-huge", lambda _: [*AE, "--pulse-index", HUGE]),
    ("course-sessions-huge", lambda _: ["course", "start", "S-01", BASE, "--sessions", HUGE]),
    (
        "course-start-2099",
        lambda _: ["course", "start", "S-01", BASE, "--sessions", "10", "--start", "2099-01-01"],
    ),
    ("sessions-last-huge", lambda _: ["sessions", "list", "--last", HUGE]),
    ("hunt-max-pulses-huge", lambda _: [*HUNT, "--max-pulses", HUGE]),
    ("hunt-interval-1e300", lambda _: [*HUNT, "--interval", "1e300"]),
    ("probe-option-superscript-digit", lambda _: [*PROBE, "rapid_type=\u00b2"]),
    ("probe-option-20-digits", lambda _: [*PROBE, f"rapid_type={HUGE}"]),
]


@pytest.mark.parametrize(
    "argv", [build for _, build in OPTION_CASES], ids=[i for i, _ in OPTION_CASES]
)
def test_cli_refuses_absurd_options(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: Callable[[Path], list[str]]
) -> None:
    _subject(capsys)
    code, _, err = run(capsys, *argv(tmp_path))
    assert_one_clean_line(code, err)
    # nothing was stored by a refused command
    _, shown, _ = run(capsys, "subject", "show", "S-01", "--json")
    assert '"threshold": null' in shown and '"screening": null' in shown
    assert '"adverse_events": []' in shown and '"course": null' in shown


def dry_run_process(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A dry run in its own process: the old code could stall or spin, so never in-process."""
    env = {**os.environ, "STIMCTL_HOME": str(tmp_path / "home")}
    argv = [sys.executable, "-m", "stimctl", "dry-run", *args]
    started = time.monotonic()
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"dry-run {args} still running after 30 s")
    assert time.monotonic() - started < 30
    return done


TRAINS_1E23 = ("trains = 40", "trains = 100000000000000000000000")
OVERRIDE = ["--override-operator", "dr-a", "--override-reason", "a huge count"]

DRY_RUN_CASES: list[tuple[str, Callable[[Path], list[str]]]] = [
    ("trains-1e23", lambda p: [edited(p, "trains", *TRAINS_1E23), "--rmt", "50", *OVERRIDE]),
    ("rmt-1e-300", lambda _: [BASE, "--rmt", "1e-300"]),
    ("rmt-date-2099", lambda _: [BASE, "--rmt", "50", "--rmt-date", "2099-01-01"]),
    ("speed-inf", lambda _: [BASE, "--rmt", "50", "--speed", "inf"]),
    ("speed-subnormal", lambda _: [BASE, "--rmt", "50", "--speed", "5e-324"]),
    ("fault-nan", lambda _: [BASE, "--rmt", "50", "--fault", "overheat@nan"]),
]


@pytest.mark.parametrize(
    "argv", [build for _, build in DRY_RUN_CASES], ids=[i for i, _ in DRY_RUN_CASES]
)
def test_dry_run_refuses_before_the_device_is_opened(
    tmp_path: Path, argv: Callable[[Path], list[str]]
) -> None:
    """trains = 1e23 used to pass as OVERRIDE and then stall compile_plan, device connected."""
    done = dry_run_process(tmp_path, *argv(tmp_path))
    assert_one_clean_line(done.returncode, done.stderr)
    journals = tmp_path / "home" / "journals"
    assert not journals.exists() or not any(journals.iterdir())
