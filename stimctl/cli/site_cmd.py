"""`stimctl site approve|approvals|status`: locally modified configs and their approvals.

A safety table or site file that differs from the shipped one runs in clinical mode only
with an engineer's approval of exactly its bytes on record (issue 13 item 5). The
approval is the engineer's electronic signature: `approve` authenticates the approver
and checks the role ("change site files"), exit 10 with nothing stored otherwise.
"""

from __future__ import annotations

from pathlib import Path

import click

from stimctl.cli.admin_auth import password_stdin_option, require_action


@click.group()
def site() -> None:
    """Approve locally modified safety tables and site files; show what is modified."""


def _file(text: str) -> Path:
    from stimctl.configs import configs_dir
    from stimctl.errors import ConfigError

    path = Path(text)
    if path.is_file():
        return path
    inside = configs_dir() / text
    if inside.is_file():
        return inside
    raise ConfigError(f"{text}: no such file (a path, or a name such as safety/limits.toml)")


@site.command("approve")
@click.argument("file")
@click.option(
    "--by", "approver", required=True, help="The engineer approving the change (signs it)."
)
@click.option("--reason", required=True, help="Why this change is right (words).")
@password_stdin_option
def approve(file: str, approver: str, reason: str, password_stdin: bool) -> None:
    """Approve FILE (a safety table or site file) as it is now, for clinical sessions.

    The approver signs it: an engineer's password or PIN, asked on the terminal or read
    from standard input with --password-stdin (exit 10 for a wrong one or another role).
    """
    from stimctl.cli.records_cmd import open_store
    from stimctl.config_state import Kind, state_of
    from stimctl.identity.signatures import SigningGrant, insert_signature
    from stimctl.records.site_approvals import SiteApproval, check_reason, record_approval
    from stimctl.records.values import now_utc

    check_reason(reason)  # bad input before the password is asked
    path = _file(file)
    kind: Kind = "safety table" if path.resolve().parent.name == "safety" else "site file"
    state = state_of(kind, path)
    meaning = f"approved {state.name} sha256 {state.sha256} for clinical sessions"
    with open_store() as store:
        proof = require_action(
            store, "change site files", approver, from_stdin=password_stdin, purpose=meaning
        )
        grant = SigningGrant(proof)
        approval = SiteApproval(state.name, state.sha256, proof.operator.id, reason, now_utc())
        record = record_approval(
            store,
            approval,
            within=lambda conn, stored: insert_signature(
                conn,
                grant,
                meaning=meaning,
                record_type="site_approval",
                record_id=stored.id,
                content=stored.as_dict(),
            ),
        )
    status = "unchanged from the shipped file" if state.shipped else state.status
    click.echo(
        f"approved {record.file_name} ({status}) sha256 {record.sha256[:16]}... "
        f"by {record.approver_id} [{record.id}]"
    )


@site.command("approvals")
def approvals() -> None:
    """Every approval on record, oldest first."""
    from stimctl.cli.records_cmd import open_store
    from stimctl.records.site_approvals import list_approvals

    with open_store() as store:
        rows = list_approvals(store)
    if not rows:
        click.echo("no approvals on record")
    for a in rows:
        click.echo(
            f"{a.id}  {a.approved_at:%Y-%m-%d %H:%M}Z  {a.file_name}  {a.sha256[:16]}...  "
            f"{a.approver_id}: {a.reason}"
        )


@site.command("status")
@click.option("--site", "site_file", default=None, help="Site rules file [STIMCTL_SITE].")
def status(site_file: str | None) -> int:
    """Which safety tables and which site file are in use, and which are modified."""
    import os

    from stimctl.config_state import safety_tables
    from stimctl.config_state import site_file as site_state

    files = [*safety_tables(), site_state(site_file or os.environ.get("STIMCTL_SITE"))]
    for file in files:
        if file.shipped:
            click.echo(f"shipped: {file.name}")
        else:
            click.secho(file.line(), fg="red")
    return 0
