"""`dry-run --console` runs in real time unless --speed says otherwise (issue 16 item 6):
a rehearsal on the console used to be over 3 s after F5."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from stimctl.cli import cli
from stimctl.cli.session_cmd import session_speed
from stimctl.clock import MonotonicClock, ScaledClock, SimulatedClock
from stimctl.session.simulation import parse_speed


@pytest.mark.parametrize(
    ("given", "console", "expected"),
    [
        (None, True, "realtime"),
        (None, False, "max"),
        ("max", True, "max"),
        ("10", True, "10"),
        ("realtime", False, "realtime"),
    ],
)
def test_the_console_defaults_to_real_time_and_speed_wins(
    given: str | None, console: bool, expected: str
) -> None:
    assert session_speed(given, console=console) == expected


def test_the_default_clocks() -> None:
    assert isinstance(parse_speed(session_speed(None, console=True)), MonotonicClock)
    assert isinstance(parse_speed(session_speed(None, console=False)), SimulatedClock)
    assert isinstance(parse_speed(session_speed("10", console=True)), ScaledClock)


def test_the_help_says_so() -> None:
    result = CliRunner().invoke(cli, ["dry-run", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "realtime with --console" in result.output
