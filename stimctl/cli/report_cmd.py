"""`stimctl report SESSION`: a session report from its journal (html, json or tsv)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("report")
@click.argument("session")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "json", "tsv"]),
    default="html",
    show_default=True,
    help="html for people, json with everything, tsv with one row per train.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write (default: $STIMCTL_HOME/reports/<session>.<format>; '-' for stdout).",
)
def report(session: str, fmt: str, output: Path | None) -> int:
    """Write the report of SESSION (a journal path or a session id)."""
    from stimctl.errors import ExitCode
    from stimctl.journal import resolve_journal
    from stimctl.report import load_session, render, write_report

    journal = resolve_journal(session)
    if output is not None and str(output) == "-":
        click.echo(render(load_session(journal), fmt), nl=False)  # type: ignore[arg-type]
        return ExitCode.OK
    path = write_report(journal, fmt, output)  # type: ignore[arg-type]
    data = load_session(journal)
    verified = data.verification
    click.echo(str(path))
    for name in data.start.get("locally_modified", []):
        click.secho(f"locally modified: {name}", fg="red", err=True)
    if not verified.ok:
        click.echo(f"warning: journal tampered: {verified.reason}", err=True)
        return ExitCode.OVERRIDE_REQUIRED
    return ExitCode.OK
