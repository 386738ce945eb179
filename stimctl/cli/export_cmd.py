"""`stimctl export SUBJECT --format csv|json|bids|fhir -o PATH`: a subject's course.

One row per train (from the session journals) with intensity in % MSO and % RMT, the
threshold's provenance, coil, device and timestamps. ``bids`` follows the DRAFT
NIBS-BIDS layout (BEP037 v6.3: one _nibs.tsv row per parameter set, one _events.tsv
row per train) and says so in every JSON file it writes. ``fhir`` writes one FHIR R4
Bundle (JSON) to the file PATH; the other formats write into the directory PATH.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from stimctl.records import Store


@click.command()
@click.argument("subject_id")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "bids", "fhir"]),
    required=True,
    help="Format.",
)
@click.option(
    "-o",
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    required=True,
    help="Output directory (created if missing); for fhir the bundle's file name.",
)
def export(subject_id: str, fmt: str, out_path: Path) -> None:
    """Export SUBJECT_ID's course."""
    from stimctl.cli.records_cmd import open_store
    from stimctl.errors import ConfigError
    from stimctl.records.bids import NIBS_BIDS_DRAFT, export_bids
    from stimctl.records.export import export_csv, export_json

    if fmt != "fhir" and out_path.exists() and not out_path.is_dir():
        raise ConfigError(f"-o {out_path}: not a directory (the {fmt} export writes a folder)")
    if fmt == "fhir" and out_path.is_dir():
        raise ConfigError(f"-o {out_path}: a directory; the fhir export writes one file")
    with open_store() as store:
        if fmt == "csv":
            paths = [export_csv(store, subject_id, out_path)]
        elif fmt == "json":
            paths = [export_json(store, subject_id, out_path)]
        elif fmt == "fhir":
            paths = [_fhir(store, subject_id, out_path)]
        else:
            paths = export_bids(store, subject_id, out_path)
    for path in paths:
        click.echo(str(path))
    if fmt == "bids":
        click.echo(f"note: layout of the {NIBS_BIDS_DRAFT} (a draft, not released BIDS)")


def _fhir(store: Store, subject_id: str, out_path: Path) -> Path:
    from stimctl.errors import ConfigError
    from stimctl.records.fhir import fhir_bundle

    export = fhir_bundle(store, subject_id)
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(export.text(), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the bundle to {out_path}: {exc.strerror or exc}") from None
    click.echo(
        f"{export.procedures} sessions as Procedures; {len(export.simulated_left_out)}"
        " simulated sessions left out (dry runs, nothing delivered to the patient)",
        err=True,
    )
    return out_path
