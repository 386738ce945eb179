"""Who may run an engineer's command (`keys init|rotate`, `site approve`).

The roles table (`stimctl.identity.operators.ALLOWED`) says what each role may do; this
module asks for the named person's credential and checks it against the row of one
action, as `operator add|disable` do for "manage operators". ``--by ID`` (or
``$STIMCTL_OPERATOR``) names the person; the password or PIN is asked with hidden input,
or read from the first line of standard input with ``--password-stdin``. Any refusal is
`AuthError` (exit 10), raised before anything is changed; `require_role` keeps every
attempt in ``auth_events``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from stimctl.cli.credentials import PASSWORD_STDIN_HELP, read_secret

if TYPE_CHECKING:
    from collections.abc import Callable

    from stimctl.identity import Authenticated
    from stimctl.records import Store


def by_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--by", "by_id", envvar="STIMCTL_OPERATOR", default=None, help=help_text)


password_stdin_option = click.option("--password-stdin", is_flag=True, help=PASSWORD_STDIN_HELP)


def require_action(
    store: Store, action: str, by_id: str | None, *, from_stdin: bool, purpose: str
) -> Authenticated:
    """`by_id`'s fresh credential, and a role that `ALLOWED[action]` lists."""
    from stimctl.errors import AuthError
    from stimctl.identity import check_operator_id, require_role
    from stimctl.identity.operators import ALLOWED

    roles = ALLOWED[action]
    who = " or ".join(roles)
    if not by_id:
        raise AuthError(
            f"{purpose} needs an authenticated {who}: give --by ID (or $STIMCTL_OPERATOR)"
            " and the password on the terminal or with --password-stdin"
        )
    check_operator_id(by_id)
    secret = read_secret(f"Password for {by_id}", from_stdin=from_stdin)
    return require_role(store, by_id, roles, secret, purpose=f"{action}: {purpose}")


def record_action(store: Store, operator_id: str, event: str, what: str) -> None:
    """One row in ``auth_events`` saying what an authorised person did."""
    from stimctl.identity.operators import record_event
    from stimctl.records.values import now_utc

    with store.write() as conn:
        record_event(conn, operator_id, event, what, now_utc())


__all__ = ["by_option", "password_stdin_option", "record_action", "require_action"]
