"""`stimctl rmt record|hunt`: motor thresholds, resting or active, of one muscle.

`record` stores a threshold found elsewhere, with its type (`--type rmt|amt`), muscle
(`--muscle`) and provenance (method, criterion, algorithm, device, coil); `hunt`
(another module, loaded lazily) finds one with a stimulator. A value outside 10-100 % MSO,
or a date in the future, is refused, never clipped (exit 2).
"""

from __future__ import annotations

import datetime as dt

import click

from stimctl import plausible
from stimctl.cli import LazyGroup
from stimctl.cli.options import ISO_DATE, PERCENT_MSO
from stimctl.safety.inputs import KIND_NAMES, MUSCLES

THRESHOLD_TYPE = click.option(
    "--type",
    "kind",
    type=click.Choice(["rmt", "amt"]),
    default="rmt",
    show_default=True,
    help="Resting (relaxed muscle) or active (slight contraction) motor threshold.",
)
MUSCLE = click.option(
    "--muscle",
    type=click.Choice(list(MUSCLES)),
    default="FDI",
    show_default=True,
    help="Muscle measured: FDI, APB, ADM (hand), TA, AH (leg); 'hand'/'leg' if not named.",
)

HUNT_COMMANDS = {
    "hunt": (
        "stimctl.cli.rmt_hunt_cmd:hunt",
        "Hunt the threshold with a stimulator (and a virtual subject).",
    ),
    "curve": (
        "stimctl.cli.rmt_curve_cmd:curve",
        "Recruitment curve at levels relative to the RMT, with a Boltzmann fit.",
    ),
    "paired": (
        "stimctl.cli.rmt_paired_cmd:paired",
        "SICI or ICF with paired pulses (BiStim²): conditioned / test-alone MEP ratio.",
    ),
    "hotspot": (
        "stimctl.cli.rmt_hotspot_cmd:hotspot",
        "Hotspot search: median MEP per coil position on a grid, heat map, best proposed.",
    ),
    "results": (
        "stimctl.cli.rmt_results_cmd:results",
        "List a subject's stored curves, paired-pulse results and hotspot searches.",
    ),
}


@click.group(cls=LazyGroup, lazy=HUNT_COMMANDS)
def rmt() -> None:
    """Record or hunt a motor threshold (resting or active, of one muscle)."""


@rmt.command("record")
@click.argument("subject_id")
@click.option("--value", type=PERCENT_MSO, required=True, help="Threshold in % MSO (10-100).")
@click.option("--method", type=click.Choice(["emg", "visual"]), required=True)
@click.option("--device", default=None, help="Device profile it was measured on.")
@click.option("--coil", default=None, help="Coil it was measured with (model or id).")
@click.option("--date", "measured_on", type=ISO_DATE, default=None, help="Measured on [today].")
@click.option("--criterion", default=None, help='e.g. "50 uV in 5 of 10" or "visible twitch".')
@click.option("--algorithm", default=None, help='e.g. "5/10", "PEST".')
@click.option(
    "--pulses",
    type=click.IntRange(0, plausible.MAX_HUNT_PULSES),
    default=None,
    help=f"Pulses used (0-{plausible.MAX_HUNT_PULSES}).",
)
@THRESHOLD_TYPE
@MUSCLE
@click.option(
    "--adjusted-for",
    "adjusted_for",
    default=None,
    metavar="SITE",
    help="The value is already adjusted for the cortical depth of SITE (e.g. L-DLPFC, SAINT).",
)
def record(
    subject_id: str,
    value: float,
    method: str,
    device: str | None,
    coil: str | None,
    measured_on: dt.date | None,
    criterion: str | None,
    algorithm: str | None,
    pulses: int | None,
    kind: str,
    muscle: str,
    adjusted_for: str | None,
) -> None:
    """Store a motor threshold for SUBJECT_ID."""
    from stimctl.cli.records_cmd import open_store
    from stimctl.records import ThresholdRecord, record_threshold

    if device is not None:
        from stimctl.device_profiles import load_profile

        device = load_profile(device).name  # an unknown profile is a ConfigError
    with open_store() as store:
        stored = record_threshold(
            store,
            ThresholdRecord(
                subject_id=subject_id,
                percent_mso=value,
                method=method,  # type: ignore[arg-type]  # click.Choice guarantees it
                measured_on=measured_on or dt.datetime.now(dt.UTC).date(),
                device=device,
                coil=coil,
                criterion=criterion,
                algorithm=algorithm,
                pulses=pulses,
                kind=kind,  # type: ignore[arg-type]  # click.Choice guarantees it
                muscle=muscle,
                adjusted_for=adjusted_for,
            ),
        )
    click.echo(
        f"recorded {stored.kind.upper()} {stored.percent_mso:g}% MSO ({stored.muscle},"
        f" {stored.method}, {stored.measured_on.isoformat()}) for {subject_id} [{stored.id}]"
        f" - {KIND_NAMES[stored.kind]}"
        + (f", adjusted for the depth of {stored.adjusted_for}" if stored.adjusted_for else "")
    )
