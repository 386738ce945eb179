"""The README works as written for a newcomer (issue 16 item 1).

The quick start says how to reach `stimctl` after `make demo`, and the simulator example
(`sim serve`, then `devices probe` on the printed pty) runs verbatim in real processes.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stimctl.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"
MAKEFILE = README.parent / "Makefile"


def _readme_line(prefix: str) -> list[str]:
    """The README command starting with `prefix`, split as a shell would, comment dropped."""
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith(prefix):
            return shlex.split(line, comments=True)
    raise AssertionError(f"README has no line starting with {prefix!r}")


def test_quick_start_says_how_to_put_stimctl_on_the_path() -> None:
    text = README.read_text(encoding="utf-8")
    quick_start = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "source .venv/bin/activate" in quick_start
    assert ".venv/bin/stimctl" in quick_start
    # ...and that is where the Makefile puts it.
    assert re.search(r"^VENV := \.venv$", MAKEFILE.read_text(encoding="utf-8"), re.M)


def test_readme_simulator_example_runs_as_written(tmp_path: Path) -> None:
    serve = _readme_line("stimctl sim serve")
    probe = _readme_line("stimctl devices probe")
    env = {**os.environ, "STIMCTL_HOME": str(tmp_path)}
    stimctl = [sys.executable, "-m", "stimctl"]
    server = subprocess.Popen(
        [*stimctl, *serve[1:]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline().split()
        assert first[:1] == ["PTY"], first
        argv = [first[1] if arg == "/dev/pts/N" else arg for arg in probe[1:]]
        assert first[1] in argv, "the README's probe line must use the printed pty"
        done = subprocess.run(
            [*stimctl, *argv], capture_output=True, text=True, env=env, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert "Magstim Rapid²" in done.stdout
        assert re.search(r"^software\s+10\.0$", done.stdout, re.M)
        assert re.search(r"^remote control\s+yes$", done.stdout, re.M)
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=20)


def test_probe_says_driver_option_like_run_hunt_and_selftest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for command in (["devices", "probe"], ["run"], ["rmt", "hunt"], ["selftest"]):
        assert main([*command, "--help"]) == 0
        out = capsys.readouterr().out
        assert "--driver-option" in out, command
        assert not re.search(r"--option\b", out), command


def test_probe_keeps_option_as_a_deprecated_alias(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["devices", "probe", "--port", "stimsim://magstim-rapid2?version=10"]
    code = "unlock_code=abcd-0123abcd-5e"
    assert main([*argv, "--driver", "magstim-rapid2", "--option", code]) == 0
    captured = capsys.readouterr()
    assert "--option is deprecated; use --driver-option" in captured.err
    assert "software          10.0" in captured.out
    assert main([*argv, "--driver", "magstim-rapid2", "--driver-option", code]) == 0
    assert "deprecated" not in capsys.readouterr().err
