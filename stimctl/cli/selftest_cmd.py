"""`stimctl selftest`: the installation's safety self-test battery.

Exit 0 when every check passes; `ExitCode.BLOCKED` (3) when any check fails, so a script
or CI job can tell a failed battery from bad input (2).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from stimctl.cli.admin_auth import by_option, password_stdin_option
from stimctl.errors import ConfigError, ExitCode

GROUP_CHOICES = ("protocols", "configs", "journal", "device")


def _key_values(option: str, pairs: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{option} {pair!r}: expected KEY=VALUE")
        values[key.strip()] = value.strip()
    return values


@click.command()
@click.option(
    "--driver",
    default=None,
    help="A driver (magpro, magstim-rapid2...) or device profile name [every simulated model].",
)
@click.option(
    "--port", default=None, help="Test the device connected here (a pyserial URL); needs --driver."
)
@click.option(
    "--driver-option",
    "driver_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Driver option for --port (e.g. unlock_code=... for a Rapid² v9+).",
)
@click.option(
    "--only",
    "groups",
    multiple=True,
    type=click.Choice(GROUP_CHOICES),
    help="Run only these groups of checks (repeatable) [all].",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of lines.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a Markdown record to sign and file.",
)
@click.option(
    "--sim-option",
    "sim_options",
    multiple=True,
    metavar="KEY=VALUE",
    hidden=True,
    help="Simulator spec key for fault injection (tests), e.g. ignore_disarm=1.",
)
@by_option("Engineer who tests a connected device (--port) [$STIMCTL_OPERATOR].")
@password_stdin_option
def selftest(
    driver: str | None,
    port: str | None,
    driver_options: tuple[str, ...],
    groups: tuple[str, ...],
    as_json: bool,
    report_path: Path | None,
    sim_options: tuple[str, ...],
    by_id: str | None,
    password_stdin: bool,
) -> int:
    """Prove this installation refuses unsafe protocols and its device behaves.

    Runs against the simulator of every device model by default, one model with
    --driver, or a connected device with --port and --driver (never fires it: the device
    is armed at 10% MSO and disarmed). One line per check, then a summary. A connected
    device is tested only by an authenticated engineer (--by, exit 10 for anyone else);
    the simulators by anyone.

    Exit 0 all checks passed, 3 a check failed, 2 bad input, 10 not an engineer.
    """
    from stimctl.testing.results import CheckResult
    from stimctl.testing.selftest import GROUPS, SelftestOptions, run_selftest

    options = SelftestOptions(
        driver=driver,
        port=port,
        driver_options=_key_values("--driver-option", driver_options),
        sim_options=_key_values("--sim-option", sim_options),
        groups=tuple(groups) or GROUPS,
    )

    if port is not None and driver is not None:
        _engineer_tests(port, driver, options.driver_options, by_id, password_stdin)

    def show(result: CheckResult) -> None:
        if not as_json:
            click.echo(result.line())

    battery = run_selftest(options, on_result=show)
    if report_path is not None:
        from stimctl.testing.report import render_markdown

        try:
            report_path.write_text(render_markdown(battery), encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--report {report_path}: {exc}") from None
    if as_json:
        click.echo(json.dumps(battery.as_dict(), indent=2))
    else:
        click.echo(battery.summary())
        if report_path is not None:
            click.echo(f"record written to {report_path}")
    return ExitCode.OK if battery.ok else ExitCode.BLOCKED


def _engineer_tests(
    port: str, driver: str, driver_options: dict[str, str], by_id: str | None, stdin: bool
) -> None:
    """A real device is armed by the battery: only an engineer may (the roles table's
    "run the self-test"), asked after the driver is known and allowed (exit 2 first) and
    before the port opens; the attempt is recorded in ``auth_events`` either way."""
    from stimctl.cli.admin_auth import record_action, require_action
    from stimctl.cli.records_cmd import open_store
    from stimctl.testing.target import Target

    Target.hardware(port, driver, **driver_options)  # unknown or outside drivers: exit 2
    with open_store() as store:
        person = require_action(
            store, "run the self-test", by_id, from_stdin=stdin, purpose=f"self-test on {port}"
        )
        record_action(store, person.operator.id, "selftest-device", f"{driver} on {port}")
