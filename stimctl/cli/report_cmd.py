"""`stimctl report SESSION`: a session report from its journal (html, json or tsv).

Every format carries the journal's verdict (`stimctl journal verify`): a banner in HTML,
``journal.outcome``/``journal.reason`` in JSON, a ``# journal:`` first line and a
``journal`` column in TSV. Exit codes: 0 written (also for unsigned or unfinished
journals, which the report marks), 8 written but the journal is tampered (the report
says so first), 2 no such journal, or a file that is not a journal at all (no line of it
is a journal record, and it is neither in the journals folder nor on record).
"""

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
    from stimctl.cli.journal_cmd import attest_target
    from stimctl.errors import ExitCode
    from stimctl.report import load_session, render, write_report

    journal, attestation = attest_target(session)
    if journal is None:
        click.echo(f"{session}: TAMPERED: {attestation.message}", err=True)
        return ExitCode.TAMPERED
    data = load_session(journal, attestation)
    if output is not None and str(output) == "-":
        click.echo(render(data, fmt), nl=False)  # type: ignore[arg-type]
    else:
        path = write_report(journal, fmt, output, data=data)  # type: ignore[arg-type]
        click.echo(str(path))
    for name in data.start.get("locally_modified", []):
        click.secho(f"locally modified: {name}", fg="red", err=True)
    if attestation.tampered:
        click.echo(f"warning: journal tampered: {attestation.message}", err=True)
        return ExitCode.TAMPERED
    return ExitCode.OK
