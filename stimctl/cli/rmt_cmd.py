"""`stimctl rmt record|hunt`: resting motor thresholds.

`record` stores a threshold found elsewhere, with its provenance (method, criterion,
algorithm, device, coil); `hunt` (another module, loaded lazily) finds one with a
stimulator. A value outside 10-100 % MSO, or a date in the future, is refused, never
clipped (exit 2).
"""

from __future__ import annotations

import datetime as dt

import click

from stimctl import plausible
from stimctl.cli import LazyGroup
from stimctl.cli.options import ISO_DATE, PERCENT_MSO

HUNT_COMMANDS = {
    "hunt": (
        "stimctl.cli.rmt_hunt_cmd:hunt",
        "Hunt the threshold with a stimulator (and a virtual subject).",
    ),
}


@click.group(cls=LazyGroup, lazy=HUNT_COMMANDS)
def rmt() -> None:
    """Record or hunt a resting motor threshold."""


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
) -> None:
    """Store a resting motor threshold for SUBJECT_ID."""
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
            ),
        )
    click.echo(
        f"recorded RMT {stored.percent_mso:g}% MSO ({stored.method},"
        f" {stored.measured_on.isoformat()}) for {subject_id} [{stored.id}]"
    )
