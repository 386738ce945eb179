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

from typing import TYPE_CHECKING

import click

from stimctl.cli.measure_common import Measure, measurement_options
from stimctl.cli.options import PERCENT_MSO
from stimctl.errors import ConfigError, ExitCode

if TYPE_CHECKING:
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
@measurement_options(
    amplitudes_help="Replay amplitudes (µV, one per pulse in delivery order).",
    out_help="Directory for the JSON record and the HTML report.",
    store_option=click.option(
        "--store/--no-store",
        default=None,
        help="Store the curve in the records [yes for the operator's, no for replays; "
        "never virtual].",
    ),
)
def curve(
    subject: str,
    rmt: float | None,
    levels: str,
    per_level: int,
    adaptive_pulses: int | None,
    max_intensity: int,
    store: bool | None,
    measure: Measure,
) -> int:
    """Measure SUBJECT's recruitment curve and fit a Boltzmann sigmoid."""
    from stimctl.cli.measure_rig import journaled_stimulate, open_rig
    from stimctl.cli.rmt_store_policy import decide_store, source_of
    from stimctl.rmt.curve import CurvePlan, run_curve
    from stimctl.rmt.curve_report import render_curve_html

    threshold, request, wiring = measure.rmt_request(
        subject, "recruitment-curve", rmt, why="the levels are % of the resting motor threshold"
    )
    store_result = decide_store(request, store, "curve")  # the subject before any pulse
    plan = CurvePlan(threshold, _levels(levels), per_level, max_intensity, adaptive_pulses)
    pulses = plan.adaptive_pulses or len(plan.levels_percent_rmt) * plan.per_level
    pacing = measure.pacing(wiring, max_intensity=max_intensity, pulses=pulses)
    clock = measure.clock(wiring)
    rng = measure.rng("curve")

    start = {"plan": result_plan(plan)}
    with open_rig(request, clock=clock, prompts_to_stderr=measure.as_json, start=start) as rig:

        def show(pulse: CurvePulse) -> None:
            if rig.journal is not None:
                rig.journal.reading(pulse.index - 1, {"amplitude_uv": pulse.amplitude_uv})
            if not measure.as_json:
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
        from stimctl.rmt.curve_store import record_curve

        with Store.open() as records:
            stored_id = record_curve(records, subject, result, source=source_of(request)).id
    measure.report(
        rig,
        subject,
        result.as_dict(),
        stored=stored_id,
        name="curve",
        what="curve",
        html=lambda: render_curve_html(subject, result),
    )
    if not measure.as_json:
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
