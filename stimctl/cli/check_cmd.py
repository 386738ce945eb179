"""`stimctl check`: a protocol against the safety tables, for one subject and device."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from stimctl.cli.options import ISO_DATE, PERCENT_MSO
from stimctl.errors import ExitCode

if TYPE_CHECKING:
    from stimctl.config_state import ConfigFile
    from stimctl.device_profiles import DeviceProfile

EXIT_BY_VERDICT = {
    "allow": ExitCode.OK,
    "override": ExitCode.OVERRIDE_REQUIRED,
    "block": ExitCode.BLOCKED,
}


NO_DEVICE_NOTE = (
    "device rules not checked (no --device): output range, repetition rate and coil "
    "heating of a stimulator; give --device NAME (see `stimctl devices list`)"
)


@click.command()
@click.argument("protocol")
@click.option(
    "--rmt", "rmt", type=PERCENT_MSO, default=None, help="Resting motor threshold, % MSO."
)
@click.option("--amt", "amt", type=PERCENT_MSO, default=None, help="Active motor threshold, % MSO.")
@click.option(
    "--muscle",
    type=click.Choice(["FDI", "APB", "ADM", "hand", "TA", "AH", "leg"]),
    default="FDI",
    show_default=True,
    help="Muscle the thresholds were measured on (TA: a leg threshold, e.g. for H7).",
)
@click.option(
    "--rmt-method", type=click.Choice(["emg", "visual"]), default="emg", show_default=True
)
@click.option("--rmt-date", type=ISO_DATE, default=None, help="When the RMT was measured [today].")
@click.option("--rmt-device", default=None, help="Device profile the RMT was measured on.")
@click.option(
    "--device",
    default=None,
    help="Device profile name or path; without it the device rules are not checked.",
)
@click.option(
    "--coil",
    type=click.Choice(["figure-8", "circular", "h-coil"]),
    default=None,
    help="Coil family actually used (default: the protocol's).",
)
@click.option(
    "--mode",
    type=click.Choice(["clinical", "research"]),
    default=None,
    help="Override the site mode.",
)
@click.option("--site", "site_file", default=None, help="Site rules file [configs/site/default].")
@click.option(
    "--screening", type=click.Path(path_type=Path), default=None, help="Screening answers (TOML)."
)
@click.option(
    "--scalp-cortex",
    "scalp_cortex",
    multiple=True,
    metavar="SITE=MM",
    help="Scalp-to-cortex distance (depth-adjusted protocols such as SAINT).",
)
@click.option("--birth-date", type=ISO_DATE, default=None, help="Subject's birth date.")
@click.option(
    "--age",
    "age_years",
    type=click.FloatRange(min=0, max=130, max_open=True),
    default=None,
    help="Subject's age in years (when the birth date is not known).",
)
@click.option(
    "--risk-factor",
    "risk_factors",
    multiple=True,
    type=click.Choice(["epilepsy", "brain-lesion", "prior-seizure"]),
    help="Recorded risk factor (repeat for several).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def check(
    protocol: str,
    rmt: float | None,
    amt: float | None,
    muscle: str,
    rmt_method: str,
    rmt_date: dt.date | None,
    rmt_device: str | None,
    device: str | None,
    coil: str | None,
    mode: str | None,
    site_file: str | None,
    screening: Path | None,
    scalp_cortex: tuple[str, ...],
    birth_date: dt.date | None,
    age_years: float | None,
    risk_factors: tuple[str, ...],
    as_json: bool,
) -> int:
    """Check PROTOCOL (a shipped name or a path) against the safety tables.

    Exit 0 allow, 1 override required, 3 block, 2 bad input.
    """
    from dataclasses import replace

    from stimctl.cli.records_cmd import distances
    from stimctl.device_profiles import load_profile
    from stimctl.protocol import load_protocol
    from stimctl.safety import MotorThreshold, Subject
    from stimctl.safety.engine import evaluate
    from stimctl.safety.screening_file import load_screening
    from stimctl.site import load_site

    loaded = load_protocol(protocol)
    if coil is not None and coil != loaded.coil.family:
        loaded = loaded.model_copy(update={"coil": loaded.coil.model_copy(update={"family": coil})})
    site = load_site(site_file)
    if mode is not None:
        site = replace(site, mode=mode)  # type: ignore[arg-type]
    now = dt.datetime.now(dt.UTC)
    given = [
        MotorThreshold(
            value,
            rmt_method,  # type: ignore[arg-type]  # click.Choice guarantees it
            rmt_date or now.date(),
            device=rmt_device,
            kind=kind,  # type: ignore[arg-type]
            muscle=muscle,
        )
        for kind, value in (("rmt", rmt), ("amt", amt))
        if value is not None
    ]
    if not given:
        raise click.UsageError("give the subject's threshold: --rmt PCT and/or --amt PCT")
    subject = Subject(
        rmt=given[0],
        screening=load_screening(screening) if screening else None,
        thresholds=tuple(given[1:]),
        scalp_cortex_mm=distances(scalp_cortex),
        birth_date=birth_date,
        age_years=age_years,
        age_recorded_on=now.date() if age_years is not None else None,
        risk_factors=risk_factors,
    )
    profile = load_profile(device) if device else None
    verdict = evaluate(loaded, subject, now=now, device=profile, site=site)
    configs = _configs(protocol, device, profile, site.file)
    if as_json:
        from stimctl.cli.render import TAG_LEGEND

        data = verdict.as_dict()
        data["configs"] = [c.as_dict() for c in configs]
        data["locally_modified"] = [c.name for c in configs if c.locally_modified]
        data["tags"] = TAG_LEGEND
        data["device_rules_checked"] = profile is not None
        click.echo(json.dumps(data, indent=2))
    else:
        from rich.console import Console

        from stimctl.cli.render import print_verdict, print_wrapped

        console = Console()
        print_verdict(console, verdict)
        for file in configs:
            if file.locally_modified:  # issue 13 item 5: a modified table is never silent
                console.print(file.line(), style="bold red", markup=False, highlight=False)
        if profile is None:  # issue 16: skipped rules are said, never silent
            print_wrapped(console, NO_DEVICE_NOTE, style="bold yellow")
    return EXIT_BY_VERDICT[verdict.verdict.value]


def _configs(
    protocol: str, device: str | None, profile: DeviceProfile | None, site_file: str | None
) -> tuple[ConfigFile, ...]:
    from stimctl.config_state import used_configs
    from stimctl.configs import resolve

    energy = profile.rapid.energy_table if profile is not None and profile.rapid else None
    return used_configs(
        resolve("protocols", protocol),
        resolve("devices", device) if device else None,
        energy,
        site_file,
    )
