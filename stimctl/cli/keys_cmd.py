"""`stimctl keys init|list|rotate`: the installation's journal signing key.

The private key is a 0600 file in ``$STIMCTL_KEYS_DIR`` (default ``$STIMCTL_HOME/keys``);
its public half and id go on record in the store, where `journal verify` finds them.
See docs/journal-signing.md.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from stimctl.errors import ConfigError, ExitCode

if TYPE_CHECKING:
    from stimctl.journal.signing import Signer


@click.group()
def keys() -> None:
    """Create, list and rotate the journal signing key."""


@keys.command("init")
def init_cmd() -> int:
    """Create the installation's signing key (refuses if one exists)."""
    from stimctl.keys.files import active_key_id, key_path

    existing = active_key_id()
    if existing is not None:
        raise ConfigError(f"a signing key exists ({existing}); use `stimctl keys rotate`")
    signer = _create_on_record()
    click.echo(f"signing key {signer.key_id} created at {key_path(signer.key_id)} (mode 0600)")
    return ExitCode.OK


@keys.command("rotate")
def rotate_cmd() -> int:
    """Make a new signing key; the old one is retired (its public key stays on record)
    and its private file is deleted."""
    from stimctl.keys.files import active_key_id, load_signer, remove_key

    old = active_key_id()
    if old is None:
        raise ConfigError("no signing key to rotate; use `stimctl keys init`")
    _refuse_while_running()
    load_signer(old)  # the old key must be usable: permissions and content checked
    signer = _create_on_record()
    remove_key(old)
    click.echo(f"signing key {signer.key_id} is active; {old} retired")
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


def _create_on_record() -> Signer:
    """Key file first (not yet active), then the public key on record, then active: a
    failure in between leaves the previous key signing and nothing half-made in use."""
    from stimctl.keys.files import create_key, remove_key, set_active
    from stimctl.keys.registry import register
    from stimctl.records.store import Store

    with Store.open() as store:
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
