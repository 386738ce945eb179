"""`stimctl rmt curve`: a recruitment (input-output) curve relative to the RMT.

Loaded lazily by the `rmt` group. Who fires and who reads the MEPs is wired as for
`rmt hunt` (stimctl.cli.measure_rig): `--device MODEL --port URL` fires each pulse
through the stimulator's driver (single pulses, paced, never above the cap, journaled,
disarmed at the end), `--device MODEL --virtual-rmt PCT` through its built-in simulator
with a virtual subject under the coil; otherwise the source stands for the pulse. MEPs:
a virtual subject (`--virtual-rmt`), a replayed file (`--amplitudes`, one µV per line, in
the order delivered), an entry point of `stimctl.mep_sources` (`--mep-source NAME`) or
the operator typing each MEP in µV. `--out DIR` writes `<subject>-curve.json` and
`<subject>-curve.html` there.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import TYPE_CHECKING

import click

from stimctl.cli.measure_rig import device_options
from stimctl.cli.options import PERCENT_MSO, Bounded
from stimctl.errors import ConfigError, ExitCode

if TYPE_CHECKING:
    from stimctl.clock import Clock
    from stimctl.rmt.curve import CurvePlan, CurvePulse

_PERCENT = click.IntRange(1, 100)


def _levels(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"--levels {text!r}: expected whole % RMT like 90,100,110") from None
    if not levels or any(not 50 <= v <= 200 for v in levels):
        raise ConfigError(f"--levels {text!r}: each level must be 50-200 % RMT")
    return levels


@click.command()
@click.argument("subject")
@click.option("--rmt", type=PERCENT_MSO, default=None, help="RMT the levels refer to, % MSO.")
@click.option("--virtual-rmt", type=PERCENT_MSO, default=None, help="Virtual subject's RMT.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None, help="Seed.")
@click.option(
    "--amplitudes",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Replay amplitudes (µV, one per pulse in delivery order).",
)
@click.option("--levels", default="90,100,110,120,130,140,150", show_default=True, help="% RMT.")
@click.option("--per-level", type=click.IntRange(1, 30), default=5, show_default=True)
@click.option(
    "--adaptive",
    "adaptive_pulses",
    type=click.IntRange(3, 300),
    default=None,
    metavar="N",
    help="N pulses: each level once, then where they tell most about the fit (FIM-SPE).",
)
@click.option("--max-intensity", type=_PERCENT, default=100, show_default=True, help="Cap.")
@click.option("--interval", type=Bounded(0, 60), default=5.0, show_default=True)
@click.option("--jitter", type=Bounded(0, 60), default=1.0, show_default=True)
@click.option("--speed", type=click.Choice(["realtime", "max"]), default="realtime")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory for the JSON record and the HTML report.",
)
@click.option(
    "--store/--no-store",
    default=None,
    help="Store the curve in the records [yes for the operator's, no for replays; never virtual].",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@device_options
def curve(
    subject: str,
    rmt: float | None,
    virtual_rmt: float | None,
    seed: int | None,
    amplitudes: Path | None,
    levels: str,
    per_level: int,
    adaptive_pulses: int | None,
    max_intensity: int,
    interval: float,
    jitter: float,
    speed: str,
    out: Path | None,
    store: bool | None,
    as_json: bool,
    device: str | None,
    port: str | None,
    driver_options: tuple[str, ...],
    mep_source: str | None,
) -> int:
    """Measure SUBJECT's recruitment curve and fit a Boltzmann sigmoid."""
    from stimctl.cli.measure_rig import RigRequest, journaled_stimulate, open_rig
    from stimctl.clock import MonotonicClock, SimulatedClock, VirtualClock
    from stimctl.rmt.curve import CurvePlan, run_curve
    from stimctl.rmt.curve_report import render_curve_html
    from stimctl.rmt.methods.base import HuntLimits
    from stimctl.rmt.runner import PulseInterval

    threshold = rmt if rmt is not None else virtual_rmt
    if threshold is None:
        raise ConfigError("--rmt is needed: the levels are % of the resting motor threshold")
    request = RigRequest(
        subject, "recruitment-curve", device, port, driver_options, virtual_rmt, seed,
        amplitudes, mep_source, rmt=float(threshold),
    )  # fmt: skip
    wiring = request.wiring()  # refuses contradictory options before anything else
    if speed == "max" and not request.simulated_responses:
        raise ConfigError("--speed max is only for a virtual subject or a replay")
    if virtual_rmt is not None and store:
        raise ConfigError("a virtual subject's curve is never stored in the records")
    if wiring.fired_by == "simulator" and store:
        raise ConfigError("a curve measured on a simulated device is never stored")
    dry = request.simulated_responses or wiring.fired_by == "simulator"
    store_result = (amplitudes is None and not dry) if store is None else store
    if store_result:
        _require_subject(subject)  # before any pulse, not after the curve
    plan = CurvePlan(float(threshold), _levels(levels), per_level, max_intensity, adaptive_pulses)
    pacing = PulseInterval(interval, jitter)
    if wiring.profile is not None and wiring.fired_by is not None:
        from stimctl.rmt.device import check_hunt_fits_device

        pulses = plan.adaptive_pulses or len(plan.levels_percent_rmt) * plan.per_level
        check_hunt_fits_device(wiring.profile, HuntLimits(max_intensity, 1, pulses), pacing)
    clock: Clock
    if speed != "max":
        clock = MonotonicClock()
    else:  # a simulated device shares the timeline with its driver's threads
        clock = SimulatedClock() if wiring.fired_by == "simulator" else VirtualClock()
    rng = random.Random(f"curve-{seed}") if seed is not None else random.Random()

    start = {"plan": result_plan(plan)}
    with open_rig(request, clock=clock, prompts_to_stderr=as_json, start=start) as rig:

        def show(pulse: CurvePulse) -> None:
            if rig.journal is not None:
                rig.journal.reading(pulse.index - 1, {"amplitude_uv": pulse.amplitude_uv})
            if not as_json:
                click.echo(
                    f"{pulse.index:4d}  {pulse.intensity:3d} % MSO  {pulse.amplitude_uv:9.1f} uV"
                )

        result = run_curve(
            plan,
            rig.source,
            clock=clock,
            stimulate=journaled_stimulate(rig),
            interval=pacing,
            rng=rng,
            on_pulse=show,
        )
        if rig.journal is not None:
            rig.journal.finish(None, summary=result.as_dict()["fit"])
    stored_id = None
    if store_result:
        from stimctl.records import Store
        from stimctl.rmt.curve_store import CurveSource, record_curve

        with Store.open() as records:
            kind: CurveSource = "replay" if amplitudes is not None else "operator"
            stored_id = record_curve(records, subject, result, source=kind).id
    payload = {
        "subject": subject,
        "device": None if wiring.profile is None else wiring.profile.name,
        "fired_by": wiring.fired_by or "none",
        "disarmed": rig.disarmed,
        "stored": stored_id,
        **result.as_dict(),
    }
    if virtual_rmt is not None:
        payload["virtual_rmt"] = virtual_rmt
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{subject}-curve.json").write_text(json.dumps(payload, indent=2) + "\n")
            (out / f"{subject}-curve.html").write_text(render_curve_html(subject, result))
        except OSError as exc:
            raise ConfigError(f"cannot write the curve to {out}: {exc}") from exc
    if as_json:
        click.echo(json.dumps(payload, indent=2))
    else:
        fit = result.fit
        click.echo(
            f"S50 {fit.s50:.1f} % MSO, k {fit.k:.2f} % MSO, plateau {fit.plateau_uv:.0f} uV, "
            f"steepest slope {fit.max_slope_uv_per_percent:.0f} uV per % MSO "
            f"({len(result.pulses)} pulses)"
        )
        if stored_id is not None:
            click.echo(f"stored as curve {stored_id} for {subject}")
    return ExitCode.OK


def result_plan(plan: CurvePlan) -> dict[str, object]:
    return {
        "rmt": plan.rmt,
        "levels_percent_rmt": list(plan.levels_percent_rmt),
        "per_level": plan.per_level,
        "max_intensity": plan.max_intensity,
        "adaptive_pulses": plan.adaptive_pulses,
    }


def _require_subject(subject: str) -> None:
    from stimctl.records import Store, get_subject

    with Store.open() as records:
        get_subject(records, subject)  # an unknown subject is a ConfigError
