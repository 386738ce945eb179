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

    _refuse_a_file_that_is_not_a_journal(session)
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


def _refuse_a_file_that_is_not_a_journal(target: str) -> None:
    """A path to something that was never a journal is bad input, not tampering: exit 8
    stays the verdict on a real journal. A file in the journals folder or on record is a
    journal whatever is left of it (truncated to nothing is tampering)."""
    from stimctl.errors import ConfigError
    from stimctl.journal import journals_dir
    from stimctl.journal.writer import JOURNAL_SUFFIX
    from stimctl.records.journal_check import find_row, open_existing_store

    path = Path(target)
    if not path.is_file() or _has_a_journal_record(path):
        return
    if path.resolve().parent == journals_dir().resolve():
        return
    store = open_existing_store()
    if store is not None:
        try:
            if find_row(store, path.name.removesuffix(JOURNAL_SUFFIX)) is not None:
                return
        finally:
            store.close()
    raise ConfigError(
        f"{target} is not a stimctl journal (no line of it is a journal record); "
        "give a session id or a journal file (.jsonl)"
    )


def _has_a_journal_record(path: Path) -> bool:
    import json

    from stimctl.journal.record import schema_problem

    with path.open("rb") as file:
        for line in file:
            try:
                obj = json.loads(line)
            except ValueError:  # also UnicodeDecodeError
                continue
            if schema_problem(obj) is None:
                return True
    return False
