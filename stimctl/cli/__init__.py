"""The `stimctl` command line.

Sub-commands are registered by dotted path in `COMMANDS` and imported only when they
run, so `stimctl check` does not pay for the session engine, Textual or matplotlib.
Every `StimctlError` becomes one line on stderr and its exit code; no traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from stimctl import __version__
from stimctl.errors import ExitCode, StimctlError

# name -> "module:attribute" of a click command or group. One line per command; each
# command lives in its own module under stimctl/cli/.
COMMANDS: dict[str, str] = {
    "check": "stimctl.cli.check_cmd:check",
    "protocols": "stimctl.cli.library_cmd:protocols",
    "devices": "stimctl.cli.library_cmd:devices",
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            module_name, attr = self._lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attr)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self._lazy[cmd_name]} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="stimctl")
def cli() -> None:
    """Session control for repetitive TMS, checked against published safety tables."""


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the CLI and map errors to exit codes."""
    try:
        result = cli.main(args=argv, prog_name="stimctl", standalone_mode=False)
    except StimctlError as exc:
        click.echo(f"stimctl: error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("stimctl: interrupted", err=True)
        return ExitCode.INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return ExitCode.BAD_INPUT
    except KeyboardInterrupt:
        click.echo("stimctl: interrupted", err=True)
        return ExitCode.INTERRUPTED
    return result if isinstance(result, int) else ExitCode.OK


def run() -> None:
    sys.exit(main())
