"""`stimctl records migrate|info|backup|restore`: the store itself.

Added to the `records` group of `stimctl.cli.records_audit_cmd`. Imports stay inside the
commands (lazy CLI, ADR 0004).
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command("migrate")
def migrate_cmd() -> int:
    """Bring the record store's schema to this stimctl's version (SQLite or PostgreSQL)."""
    from stimctl.records.backend import database_url
    from stimctl.records.store import Store, default_db_path

    new_file = database_url() is None and not default_db_path().exists()
    with Store.open() as store:
        version = store.schema_version
        applied = list(store.applied)
        where = f"{store.backend} {store.location}"
    if new_file:
        click.echo(f"created {where} at schema version {version}")
    elif applied:
        versions = ", ".join(str(v) for v in applied)
        click.echo(f"migrated {where} to schema version {version} (applied {versions})")
    else:
        click.echo(f"{where} is at schema version {version}: nothing to apply")
    return 0


@click.command("info")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of lines.")
def info_cmd(as_json: bool) -> int:
    """Backend, location, schema version and row counts; migrates nothing."""
    import dataclasses
    import json

    from stimctl.records.backend import database_url
    from stimctl.records.info import store_info
    from stimctl.records.store import Store, default_db_path

    if database_url() is None and not default_db_path().exists():
        click.echo(f"backend: sqlite\nlocation: {default_db_path()} (no store yet)")
        return 0
    with Store.open(migrate_to=0) as store:
        info = store_info(store)
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(info), sort_keys=True))
    else:
        for line in info.lines():
            click.echo(line)
    return 0


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_cmd(file: Path) -> int:
    """Copy the SQLite record store to FILE while consoles keep running (PostgreSQL:
    pg_dump)."""
    from stimctl.records.backup import backup_store
    from stimctl.records.store import Store

    with Store.open() as store:
        state = backup_store(store, file)
    last = state.last_record_at or "none"
    click.echo(f"backed up to {file}: schema version {state.schema_version}, last record {last}")
    return 0


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a store newer than the backup.")
def restore_cmd(file: Path, force: bool) -> int:
    """Replace the SQLite record store's content with the backup FILE (the replaced
    content is kept beside the store). Refuses a newer store without --force."""
    from stimctl.records.backend import database_url
    from stimctl.records.backup import read_backup, restore_store
    from stimctl.records.store import Store, default_db_path

    if database_url() is None and not default_db_path().exists():
        read_backup(file)  # refuse anything but a sound backup before creating a store
    with Store.open() as store:
        kept = restore_store(store, file, force=force)
    click.echo(f"restored {file}; the replaced records are kept in {kept}")
    return 0
