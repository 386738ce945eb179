"""`stimctl keys init|list|rotate`: the installation's journal signing key.

`init` and `rotate` need an authenticated engineer (``--by ID``, password on the
terminal or with ``--password-stdin``; roles table "manage keys"); the one exception is
the first key of an installation with no operator registered yet. Both are recorded in
``auth_events``. Exit 10 for a wrong role or credential, with nothing changed.

The private key is a 0600 file in ``$STIMCTL_KEYS_DIR`` (default ``$STIMCTL_HOME/keys``);
its public half and id go on record in the store, where `journal verify` finds them.
See docs/journal-signing.md.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from stimctl.cli.admin_auth import by_option, password_stdin_option, record_action, require_action
from stimctl.errors import ConfigError, ExitCode

if TYPE_CHECKING:
    from stimctl.journal.signing import Signer
    from stimctl.records.store import Store


@click.group()
def keys() -> None:
    """Create, list and rotate the journal signing key."""


_BY = by_option("The engineer doing this [$STIMCTL_OPERATOR].")


@keys.command("init")
@_BY
@password_stdin_option
def init_cmd(by_id: str | None, password_stdin: bool) -> int:
    """Create the installation's signing key (refuses if one exists).

    Needs an authenticated engineer (--by), except for the first key of an installation
    where no operator is registered yet (as `operator add` registers the first one)."""
    from stimctl.cli.session_auth import UNAUTHENTICATED
    from stimctl.identity.operators import registered_count
    from stimctl.keys.files import active_key_id, key_path
    from stimctl.records.store import Store

    with Store.open() as store:
        by = None
        if registered_count(store) > 0 or by_id:
            by = require_action(
                store,
                "manage keys",
                by_id,
                from_stdin=password_stdin,
                purpose="create a signing key",
            )
        existing = active_key_id()
        if existing is not None:
            raise ConfigError(f"a signing key exists ({existing}); use `stimctl keys rotate`")
        signer = _create_on_record(store)
        who = UNAUTHENTICATED if by is None else by.operator.id
        record_action(store, who, "signing-key-created", f"key {signer.key_id}")
    how = f"by {by.operator.id}" if by is not None else "(no operator is registered yet)"
    click.echo(
        f"signing key {signer.key_id} created at {key_path(signer.key_id)} (mode 0600) {how}"
    )
    return ExitCode.OK


@keys.command("rotate")
@_BY
@password_stdin_option
def rotate_cmd(by_id: str | None, password_stdin: bool) -> int:
    """Make a new signing key; the old one is retired (its public key stays on record)
    and its private file is deleted. Needs an authenticated engineer (--by)."""
    from stimctl.keys.files import active_key_id, load_signer, remove_key
    from stimctl.records.store import Store

    with Store.open() as store:
        by = require_action(
            store, "manage keys", by_id, from_stdin=password_stdin, purpose="rotate the signing key"
        )
        old = active_key_id()
        if old is None:
            raise ConfigError("no signing key to rotate; use `stimctl keys init`")
        _refuse_while_running()
        load_signer(old)  # the old key must be usable: permissions and content checked
        signer = _create_on_record(store)
        remove_key(old)
        record_action(
            store, by.operator.id, "signing-key-rotated", f"key {signer.key_id}, retired {old}"
        )
    click.echo(f"signing key {signer.key_id} is active; {old} retired (by {by.operator.id})")
    return ExitCode.OK


def _refuse_while_running() -> None:
    """A running session signs each train with the active key; retiring it mid-session
    would make its later checkpoints "signed after retirement"."""
    from stimctl.errors import StateError
    from stimctl.journal import find_unfinished, journals_dir
    from stimctl.journal.fsutil import is_locked

    live = [p for p in find_unfinished(journals_dir(), include_live=True) if is_locked(p)]
    if live:
        raise StateError(
            f"a session is running (journal {live[0].name} is open): rotate the key after it ends"
        )


def _create_on_record(store: Store) -> Signer:
    """Key file first (not yet active), then the public key on record, then active: a
    failure in between leaves the previous key signing and nothing half-made in use."""
    from stimctl.keys.files import create_key, remove_key, set_active
    from stimctl.keys.registry import register

    signer = create_key(activate=False)
    try:
        register(store, signer, dt.datetime.now(dt.UTC))
    except BaseException:
        remove_key(signer.key_id)
        raise
    set_active(signer.key_id)
    return signer


@keys.command("list")
def list_cmd() -> int:
    """The keys on record: id, created, retired, and whether this machine holds it."""
    from stimctl.keys.files import active_key_id, key_path
    from stimctl.keys.registry import keys_on_record
    from stimctl.records.store import Store

    active = active_key_id()
    with Store.open() as store:
        on_record = keys_on_record(store)
    if not on_record:
        click.echo("no signing key on record (journals are unsigned): run `stimctl keys init`")
    for key in on_record.values():
        state = "active" if key.active else f"retired {key.retired_at:%Y-%m-%dT%H:%M:%SZ}"
        here = "private key here" if key_path(key.key_id).exists() else "no private key here"
        mark = "*" if key.key_id == active else " "
        click.echo(
            f"{mark} {key.key_id}  created {key.created_at:%Y-%m-%dT%H:%M:%SZ}  {state}  {here}"
        )
    return ExitCode.OK
