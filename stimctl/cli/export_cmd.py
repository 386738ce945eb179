"""`stimctl export SUBJECT --format csv|json|bids -o DIR`: a subject's course.

One row per train (from the session journals) with intensity in % MSO and % RMT, the
threshold's provenance, coil, device and timestamps. ``bids`` follows the DRAFT
NIBS-BIDS layout (BEP037 v6.3: one _nibs.tsv row per parameter set, one _events.tsv
row per train) and says so in every JSON file it writes.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("subject_id")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json", "bids"]), required=True, help="Format."
)
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Output directory (created if missing).",
)
def export(subject_id: str, fmt: str, out_dir: Path) -> None:
    """Export SUBJECT_ID's course."""
    from stimctl.cli.records_cmd import open_store
    from stimctl.records.bids import NIBS_BIDS_DRAFT, export_bids
    from stimctl.records.export import export_csv, export_json

    with open_store() as store:
        if fmt == "csv":
            paths = [export_csv(store, subject_id, out_dir)]
        elif fmt == "json":
            paths = [export_json(store, subject_id, out_dir)]
        else:
            paths = export_bids(store, subject_id, out_dir)
    for path in paths:
        click.echo(str(path))
    if fmt == "bids":
        click.echo(f"note: layout of the {NIBS_BIDS_DRAFT} (a draft, not released BIDS)")
