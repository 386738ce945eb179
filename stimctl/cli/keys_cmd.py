"""`stimctl keys init|list|rotate`: the installation's journal signing key.

The private key is a 0600 file in ``$STIMCTL_KEYS_DIR`` (default ``$STIMCTL_HOME/keys``);
its public half and id go on record in the store, where `journal verify` finds them.
See docs/journal-signing.md.
"""

from __future__ import annotations

import datetime as dt

import click

from stimctl.errors import ConfigError, ExitCode


@click.group()
def keys() -> None:
    """Create, list and rotate the journal signing key."""


@keys.command("init")
def init_cmd() -> int:
    """Create the installation's signing key (refuses if one exists)."""
    from stimctl.keys.files import active_key_id, create_key, key_path
    from stimctl.keys.registry import register
    from stimctl.records.store import Store

    existing = active_key_id()
    if existing is not None:
        raise ConfigError(f"a signing key exists ({existing}); use `stimctl keys rotate`")
    with Store.open() as store:
        signer = create_key()
        register(store, signer, dt.datetime.now(dt.UTC))
    click.echo(f"signing key {signer.key_id} created at {key_path(signer.key_id)} (mode 0600)")
    return ExitCode.OK


@keys.command("rotate")
def rotate_cmd() -> int:
    """Make a new signing key; the old one is retired (its public key stays on record)
    and its private file is deleted."""
    from stimctl.keys.files import active_key_id, create_key, load_signer, remove_key
    from stimctl.keys.registry import register
    from stimctl.records.store import Store

    old = active_key_id()
    if old is None:
        raise ConfigError("no signing key to rotate; use `stimctl keys init`")
    load_signer(old)  # the old key must be usable: permissions and content checked
    with Store.open() as store:
        signer = create_key()
        register(store, signer, dt.datetime.now(dt.UTC))
    remove_key(old)
    click.echo(f"signing key {signer.key_id} is active; {old} retired")
    return ExitCode.OK


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
