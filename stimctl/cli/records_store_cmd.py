"""`stimctl records migrate|info`: the store itself (backend, schema, counts).

Added to the `records` group of `stimctl.cli.records_audit_cmd`. Imports stay inside the
commands (lazy CLI, ADR 0004).
"""

from __future__ import annotations

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
