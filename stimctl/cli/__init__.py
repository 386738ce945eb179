"""The `stimctl` command line.

Sub-commands are registered by dotted path in `COMMANDS` and imported only when they
run, so `stimctl check` does not pay for the session engine, Textual or matplotlib.
Every `StimctlError` becomes one line on stderr and its exit code; no traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from stimctl import __version__
from stimctl.errors import ExitCode, StimctlError

MAX_ERROR_LINE = 300
"""Characters in one error line: a 10 MB field or a pasted file never floods the terminal."""

# name -> ("module:attribute" of a click command or group, one-line help). One line per
# command; each command lives in its own module under stimctl/cli/. The help text is
# here so that `stimctl --help` imports nothing.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("stimctl.cli.check_cmd:check", "Check a protocol against the safety tables."),
    "dry-run": ("stimctl.cli.session_cmd:dry_run", "Run a whole session on the simulator."),
    "run": ("stimctl.cli.session_cmd:run", "Run a session on a stimulator."),
    "protocols": ("stimctl.cli.library_cmd:protocols", "List and show shipped protocols."),
    "devices": ("stimctl.cli.devices_cmd:devices", "Device profiles, probing and ports."),
    "sim": ("stimctl.cli.sim_cmd:sim", "Serve a byte-level stimulator simulator."),
    "journal": ("stimctl.cli.journal_cmd:journal", "Verify and inspect session journals."),
    "subject": ("stimctl.cli.records_cmd:subject", "Add, list and show subjects."),
    "screen": ("stimctl.cli.records_cmd:screen", "Record a screening questionnaire."),
    "rmt": ("stimctl.cli.rmt_cmd:rmt", "Record or hunt a resting motor threshold."),
    "course": ("stimctl.cli.records_cmd:course", "Start, change, show and report courses."),
    "outcome": ("stimctl.cli.course_cmd:outcome", "Record outcome scores (NRS, PHQ-9, ...)."),
    "sessions": ("stimctl.cli.records_cmd:sessions", "List and show recorded sessions."),
    "ae": ("stimctl.cli.records_cmd:ae", "Record and review adverse events."),
    "export": (
        "stimctl.cli.export_cmd:export",
        "Export a subject's course (csv, json, bids, fhir).",
    ),
    "report": ("stimctl.cli.report_cmd:report", "Write a session report (html, json, tsv)."),
    "operator": ("stimctl.cli.operator_cmd:operator", "Register and disable operators."),
    "selftest": ("stimctl.cli.selftest_cmd:selftest", "Run the safety self-test battery."),
    "keys": ("stimctl.cli.keys_cmd:keys", "Create, list and rotate the journal signing key."),
    "records": (
        "stimctl.cli.records_audit_cmd:records",
        "The record store: audit, migrate, info, backup, restore.",
    ),
    "site": ("stimctl.cli.site_cmd:site", "Approve locally modified tables and site files."),
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            target = self._lazy[cmd_name][0]
            module_name, attr = target.split(":")
            command = getattr(importlib.import_module(module_name), attr)
            if not isinstance(command, click.Command):
                raise TypeError(f"{target} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self._lazy[name][1]) for name in self._lazy]
        for name in super().list_commands(ctx):
            command = super().get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str()))
        rows.sort()
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="stimctl")
@click.option("-v", "--verbose", count=True, help="Log to stderr (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """Session control for repetitive TMS, checked against published safety tables."""
    import logging

    # Without -v the log stays quiet: the outcome is in the one-line error, the summary
    # and the journal, which is the record of truth.
    level = {0: logging.CRITICAL + 1, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger().setLevel(level)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the CLI and map errors to exit codes."""
    try:
        result = cli.main(args=argv, prog_name="stimctl", standalone_mode=False)
    except StimctlError as exc:
        _error(f"stimctl: error: {exc}")
        for detail in getattr(exc, "details", ()):  # every problem of a file, one a line
            click.echo(f"  {one_line(detail)}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        _error("stimctl: interrupted")
        return ExitCode.INTERRUPTED
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "stimctl"
        _error(f"{command}: error: {exc.format_message()}", " (see --help)")
        return ExitCode.BAD_INPUT
    except click.ClickException as exc:
        _error(f"stimctl: error: {exc.format_message()}")
        return ExitCode.BAD_INPUT
    except KeyboardInterrupt:
        _error("stimctl: interrupted")
        return ExitCode.INTERRUPTED
    except Exception as exc:  # a bug: still one line, the traceback only on request
        if os.environ.get("STIMCTL_DEBUG"):
            raise
        _error(
            f"stimctl: internal error: {type(exc).__name__}: {exc}",
            " (set STIMCTL_DEBUG=1 for the traceback)",
        )
        return ExitCode.INTERNAL
    return result if isinstance(result, int) else ExitCode.OK


def one_line(text: str, limit: int = MAX_ERROR_LINE) -> str:
    """`text` as one line of at most `limit` characters, cut with an ellipsis.

    Line breaks, tabs and other control characters become spaces: an error names what
    and where on one line, whatever the offending input held.
    """
    head = text[: limit * 4]  # never walk a 10 MB message character by character
    flat = " ".join("".join(c if c.isprintable() else " " for c in head).split())
    if len(flat) <= limit and len(head) == len(text):
        return flat
    return flat[: limit - 1] + "\u2026"


def _error(message: str, tail: str = "") -> None:
    """Print an error line; `tail` (a hint) is kept whole, the message is cut to fit."""
    click.echo(one_line(message, MAX_ERROR_LINE - len(tail)) + tail, err=True)


def run() -> None:
    sys.exit(main())
