"""docs/exit-codes.md has one table of every exit code and the commands that return it,
and it agrees with `stimctl.errors.ExitCode` and the command line (issue 16 item 1).

A code added to `ExitCode` without a row, a row for a code that does not exist, a name
that differs, or a command in the table that the CLI does not have fails here. A code
reserved for another branch by a comment in `ExitCode` (``# 12 is EMG_STREAM``) needs its
row too, and may not be taken by another name.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import click
import pytest

from stimctl.cli import cli
from stimctl.errors import ExitCode

DOC = Path(__file__).resolve().parents[1] / "docs" / "exit-codes.md"
TABLE_HEADING = "## Every code, every command"
EVERY_COMMAND = "every command"
ROW = re.compile(r"^\| (\d+) \| `([A-Z_]+)` \| ([^|]+) \| (.+) \|$")


def _rows() -> dict[int, tuple[str, str]]:
    """code -> (name, returned by) of the one table."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split(TABLE_HEADING, 1)[1].split("\n## ", 1)[0]
    rows: dict[int, tuple[str, str]] = {}
    for line in section.splitlines():
        match = ROW.match(line)
        if match is None:
            continue
        code = int(match.group(1))
        assert code not in rows, f"two rows for exit code {code}"
        rows[code] = (match.group(2), match.group(3).strip())
    return rows


def _members() -> dict[int, str]:
    members = {
        value: name
        for name, value in vars(ExitCode).items()
        if not name.startswith("_") and isinstance(value, int)
    }
    assert len(members) == len(set(members)), "two ExitCode names share a value"
    return members


def _reserved() -> dict[int, str]:
    """Codes another branch owns, reserved by a comment so that a merge keeps them apart."""
    source = inspect.getsource(ExitCode)
    return {int(code): name for code, name in re.findall(r"#\s*(\d+) is ([A-Z_]+)\b", source)}


def _commands() -> set[str]:
    """Every command path of the CLI, groups included ("course", "course start")."""
    found: set[str] = set()

    def walk(group: click.Group, prefix: str, ctx: click.Context) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None
            path = f"{prefix}{name}"
            found.add(path)
            if isinstance(command, click.Group):
                walk(command, f"{path} ", click.Context(command, parent=ctx))

    walk(cli, "", click.Context(cli))
    return found


def test_every_exit_code_has_exactly_one_row_with_its_name() -> None:
    expected = dict(_members())
    for code, name in _reserved().items():
        taken = expected.setdefault(code, name)
        assert taken == name, f"exit code {code} is reserved for {name} but ExitCode has {taken}"
    documented = {code: name for code, (name, _) in _rows().items()}
    assert documented == expected


def test_every_command_named_in_the_table_exists() -> None:
    commands = _commands()
    for code, (_, returned_by) in _rows().items():
        named = re.findall(r"`([^`]+)`", returned_by)
        assert named or returned_by == EVERY_COMMAND, f"row {code} names no command"
        unknown = [name for name in named if name not in commands]
        assert not unknown, f"row {code} names commands the CLI does not have: {unknown}"


@pytest.mark.parametrize(
    "code",
    [ExitCode.OK, ExitCode.BAD_INPUT, ExitCode.INTERNAL, ExitCode.INTERRUPTED],
)
def test_codes_the_cli_itself_returns_are_documented_for_every_command(code: int) -> None:
    # stimctl.cli.main maps usage errors, bugs and Ctrl-C to these for any command
    assert _rows()[code][1] == EVERY_COMMAND
