"""`stimctl records sync` and `stimctl records journal SESSION`: journals in the store.

Added to the `records` group of `stimctl.cli.records_audit_cmd` (issue 17 item 3). The
upload helpers for `run`/`dry-run` are here too, so that `stimctl.cli.session_cmd` only
calls them: an upload never fails a session (the local journal stays the record of
truth and waits for the next session start or `records sync`).
"""

from __future__ import annotations

from pathlib import Path

import click

PENDING_AT_START = 20
"""Journals uploaded at a session start at most (newest first); `records sync` does all."""


@click.command("sync")
def sync_cmd() -> int:
    """Upload the journals of ended sessions that are on this console and not yet in the
    store. Exit 0 all uploaded, 8 a journal did not verify (left where it is), 7 the
    store is unreachable or could not take a journal (a full disk: left where it is)."""
    from stimctl.errors import ExitCode
    from stimctl.records.journal_store import sync_journals
    from stimctl.records.store import Store

    with Store.open() as store:
        result = sync_journals(store)
    for session_id in result.uploaded:
        click.echo(f"uploaded {session_id}")
    for line in result.failed:
        click.echo(f"NOT UPLOADED {line}", err=True)
    click.echo(
        f"sync: {len(result.uploaded)} uploaded, {len(result.failed)} not uploaded,"
        f" {len(result.elsewhere)} on other consoles",
        err=True,
    )
    if result.tampered:
        return ExitCode.TAMPERED
    return ExitCode.RECORDS if result.failed else ExitCode.OK


@click.command("journal")
@click.argument("session_id")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Copy it here [the local file, or $STIMCTL_HOME/journals-from-store/<id>.jsonl].",
)
def journal_cmd(session_id: str, output: Path | None) -> int:
    """Print the path of SESSION_ID's journal: this console's file, or the store's copy
    (checked against its SHA-256; of a running or crashed session, up to its last
    train). Then `stimctl journal verify` or `stimctl report`."""
    import shutil

    from stimctl.errors import ConfigError
    from stimctl.records.journal_store import journal_file, linked_digest
    from stimctl.records.sessions import get_session
    from stimctl.records.store import Store

    with Store.open() as store:
        session = get_session(store, session_id)
        path = journal_file(store, session)
        partial = path is not None and str(path) != session.journal_path
        partial = partial and linked_digest(store, session_id) is None
    if partial:
        click.echo(
            f"note: the store holds the journal of {session_id} up to its last train only"
            " (the session runs, or its console has not uploaded the whole journal yet)",
            err=True,
        )
    if path is None:
        raise ConfigError(
            f"session {session_id}: its journal is neither on this console nor in the store"
            " (run `stimctl records sync` on the console that ran it)"
        )
    if output is not None:
        try:
            shutil.copyfile(path, output)
        except OSError as exc:
            raise ConfigError(f"cannot copy the journal to {output}: {exc}") from None
        path = output
    click.echo(str(path))
    return 0


def upload_after_session(session_id: str | None) -> None:
    """After `run`/`dry-run` closed the session's row: copy its journal into the store.
    Any failure is one line on stderr and the local file waits (never an exit code)."""
    if session_id is None:
        return
    from stimctl.errors import StimctlError
    from stimctl.records.journal_store import upload_journal
    from stimctl.records.store import Store

    try:
        with Store.open() as store:
            upload_journal(store, session_id)
    except StimctlError as exc:
        click.echo(
            f"stimctl: warning: the journal of {session_id} stays on this console only ({exc});"
            " it is uploaded at the next session start or by `stimctl records sync`",
            err=True,
        )


def upload_pending() -> None:
    """At a session start: upload what an earlier session left local (store was down)."""
    from stimctl.errors import StimctlError
    from stimctl.records.journal_store import sync_journals
    from stimctl.records.store import Store

    try:
        with Store.open() as store:
            result = sync_journals(store, limit=PENDING_AT_START)
    except StimctlError:
        return  # the start itself needs the store and says so
    if result.uploaded:
        click.echo(f"uploaded {len(result.uploaded)} pending journal(s) to the store", err=True)
    for line in result.failed:
        click.echo(f"stimctl: warning: journal not uploaded: {line}", err=True)
