"""`stimctl site approve|approvals|status`: locally modified configs and their approvals.

A safety table or site file that differs from the shipped one runs in clinical mode only
with an engineer's approval of exactly its bytes on record (issue 13 item 5).
"""

from __future__ import annotations

from pathlib import Path

import click


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
@click.option("--by", "approver", required=True, help="Engineer id approving the change.")
@click.option("--reason", required=True, help="Why this change is right (words).")
def approve(file: str, approver: str, reason: str) -> None:
    """Approve FILE (a safety table or site file) as it is now, for clinical sessions."""
    from stimctl.cli.records_cmd import open_store
    from stimctl.config_state import Kind, state_of
    from stimctl.records.site_approvals import approve as store_approval

    path = _file(file)
    kind: Kind = "safety table" if path.resolve().parent.name == "safety" else "site file"
    state = state_of(kind, path)
    with open_store() as store:
        record = store_approval(store, state.name, state.sha256, approver, reason)
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
