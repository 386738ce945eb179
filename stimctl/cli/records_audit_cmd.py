"""`stimctl records audit`: journals on disk against the session rows in the store.

One line per finding on stdout (``KIND session: message``; kinds TAMPERED, MISSING,
UNKNOWN, SHARED, UNFINISHED, UNSIGNED), a summary on stderr. Exit codes: 0 no finding (or
only unsigned journals), 8 any tampered, missing, unknown, shared or disagreeing journal
(unsigned too with ``--require-signature``), 6 only unfinished sessions (running, or
crashed and awaiting recovery).
"""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def records() -> None:
    """The record store: audit journals against it, migrate it, show it."""


@records.command("audit")
@click.option(
    "--journals",
    "journals_folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Journals folder to compare (default: $STIMCTL_HOME/journals).",
)
@click.option("--require-signature", is_flag=True, help="Count unsigned journals as tampered.")
def audit_cmd(journals_folder: Path | None, require_signature: bool) -> int:
    """Compare every journal with its session row; one line per difference."""
    from stimctl.journal.paths import journals_dir
    from stimctl.records.audit import audit
    from stimctl.records.store import Store

    with Store.open() as store:
        result = audit(store, journals_folder or journals_dir())
    for finding in result.findings:
        click.echo(finding.line())
    click.echo(
        f"audit: {result.sessions} sessions, {result.journals} journals,"
        f" {len(result.findings)} findings",
        err=True,
    )
    return result.exit_code(require_signature=require_signature)


def _add_store_commands() -> None:
    from stimctl.cli.records_journal_cmd import journal_cmd, sync_cmd
    from stimctl.cli.records_store_cmd import backup_cmd, info_cmd, migrate_cmd, restore_cmd

    for command in (migrate_cmd, info_cmd, backup_cmd, restore_cmd, sync_cmd, journal_cmd):
        records.add_command(command)


_add_store_commands()
