"""`stimctl operator add|list|disable|passwd|events`: the people who may use stimctl.

Roles (see `stimctl.identity.operators`): physician, operator, engineer. The first
operator of an empty store is created without a credential check and must be a
physician or an engineer; afterwards ``--by ID`` (or ``$STIMCTL_OPERATOR``) names the
physician or engineer whose credential authorises the change.

Secrets are asked with hidden input, or read from standard input with
``--password-stdin``: line 1 the authorising person's (``--by``, when needed), line 2
the new operator's (for ``add``) or the new one (for ``passwd``). Exit codes: 0 done,
2 bad input (an invalid id, name or role), 7 records unreadable, 10 an unknown, disabled
or locked operator, a wrong credential or a role that may not do this.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from stimctl.cli.credentials import PASSWORD_STDIN_HELP, read_new_secret, read_secret

if TYPE_CHECKING:
    from stimctl.identity import Authenticated
    from stimctl.records import Store

_BY = click.option(
    "--by",
    "by_id",
    envvar="STIMCTL_OPERATOR",
    default=None,
    help="Physician or engineer authorising this [$STIMCTL_OPERATOR].",
)
_STDIN = click.option("--password-stdin", is_flag=True, help=PASSWORD_STDIN_HELP)


def _store() -> Store:
    from stimctl.records import Store

    return Store.open()


def _admin(store: Store, by_id: str | None, from_stdin: bool, purpose: str) -> Authenticated:
    from stimctl.errors import AuthError
    from stimctl.identity import require_role
    from stimctl.identity.operators import ADMIN_ROLES

    if by_id is None:
        raise AuthError(f"{purpose} needs a physician or engineer: give --by ID")
    secret = read_secret(f"Password for {by_id}", from_stdin=from_stdin)
    return require_role(store, by_id, ADMIN_ROLES, secret, purpose=purpose)


@click.group()
def operator() -> None:
    """Register, list and disable the people who use stimctl."""


@operator.command("add")
@click.argument("operator_id")
@click.option("--name", required=True, help="Printed name, shown with signatures.")
@click.option("--role", type=click.Choice(["physician", "operator", "engineer"]), required=True)
@_BY
@_STDIN
def operator_add(
    operator_id: str, name: str, role: str, by_id: str | None, password_stdin: bool
) -> None:
    """Register OPERATOR_ID with a printed name, a role and a password or PIN."""
    from stimctl.identity import add_operator, check_name, check_operator_id
    from stimctl.identity.operators import check_role, registered_count

    check_operator_id(operator_id)
    check_name(name)
    check_role(role)
    with _store() as store:
        by = None
        if registered_count(store) > 0:
            by = _admin(store, by_id, password_stdin, f"register operator {operator_id}")
        secret = read_new_secret(f"New password for {operator_id}", from_stdin=password_stdin)
        record = add_operator(store, operator_id, name=name, role=role, secret=secret, by=by)
    how = f"by {by.operator.id}" if by is not None else "as the first operator"
    click.echo(f"registered {record.role} {record.id} ({record.name}) {how}")


@operator.command("list")
@click.option("--json", "as_json", is_flag=True)
def operator_list(as_json: bool) -> None:
    """One line per operator: id, role, state, printed name."""
    import datetime as dt

    from stimctl.identity import list_operators

    with _store() as store:
        found = list_operators(store)
    now = dt.datetime.now(dt.UTC)
    rows = []
    for o in found:
        if not o.registered:
            state = "no credential"
        elif o.disabled_at is not None:
            state = "disabled"
        elif o.locked(now):
            state = "locked"
        else:
            state = "active"
        rows.append({"id": o.id, "role": o.role, "state": state, "name": o.name})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        click.echo(f"{r['id']:<20} {r['role']:<10} {r['state']:<13} {r['name']}".rstrip())


@operator.command("disable")
@click.argument("operator_id")
@_BY
@_STDIN
def operator_disable(operator_id: str, by_id: str | None, password_stdin: bool) -> None:
    """Disable OPERATOR_ID: they can no longer sign in, start sessions or sign."""
    from stimctl.identity import check_operator_id, disable_operator

    check_operator_id(operator_id)
    with _store() as store:
        by = _admin(store, by_id, password_stdin, f"disable operator {operator_id}")
        disable_operator(store, operator_id, by=by)
    click.echo(f"disabled operator {operator_id}")


@operator.command("passwd")
@click.argument("operator_id")
@click.option(
    "--by",
    "by_id",
    default=None,
    help="A physician or engineer resetting someone else's credential [OPERATOR_ID].",
)
@_STDIN
def operator_passwd(operator_id: str, by_id: str | None, password_stdin: bool) -> None:
    """Change the password or PIN of OPERATOR_ID (their current one, or an admin's)."""
    from stimctl.identity import authenticate, change_secret, check_operator_id

    check_operator_id(operator_id)
    with _store() as store:
        if by_id is None or by_id == operator_id:
            secret = read_secret(f"Current password for {operator_id}", from_stdin=password_stdin)
            by = authenticate(store, operator_id, secret, purpose="change own credential")
        else:
            by = _admin(store, by_id, password_stdin, f"reset the credential of {operator_id}")
        new = read_new_secret(f"New password for {operator_id}", from_stdin=password_stdin)
        change_secret(store, operator_id, new, by=by)
    click.echo(f"changed the credential of {operator_id}")


@operator.command("events")
@click.argument("operator_id", required=False)
def operator_events(operator_id: str | None) -> None:
    """Authentication events (sign-ins, wrong entries, locks), oldest first."""
    from stimctl.identity import auth_events

    with _store() as store:
        found = auth_events(store, operator_id)
    for e in found:
        click.echo(f"{e.at:%Y-%m-%d %H:%M:%S}Z  {e.operator_id:<20} {e.event:<20} {e.purpose}")
