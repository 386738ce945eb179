"""`stimctl rmt paired`: SICI or ICF with paired pulses (issue 19 item 3).

Conditioned trials (a subthreshold conditioning pulse on output A, the test pulse on
output B `--interval-ms` later) and test-alone trials in random order, paced like the
hunts, then the ratio of the mean conditioned MEP to the mean test-alone MEP with its
bootstrap interval. The rules for the conditioning pulse are in stimctl.rmt.paired.
Wiring as for `rmt hunt` and `rmt curve` (stimctl.cli.measure_rig): `--device
magstim-bistim --port URL` drives the BiStim² directly, setting and reading back both
outputs and the interval before every trigger (stimctl.rmt.paired_device).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from stimctl.cli.measure_common import Measure, measurement_options
from stimctl.cli.options import PERCENT_MSO, Bounded
from stimctl.cli.rmt_store_policy import STORE_OPTION
from stimctl.errors import ExitCode

if TYPE_CHECKING:
    from stimctl.rmt.paired import Trial, TrialResult

_PERCENT = click.IntRange(1, 100)


@click.command()
@click.argument("subject")
@click.option("--paradigm", type=click.Choice(["sici", "icf"]), required=True)
@click.option("--rmt", type=PERCENT_MSO, default=None, help="Resting motor threshold, % MSO.")
@click.option("--amt", type=PERCENT_MSO, default=None, help="Active motor threshold, % MSO.")
@click.option(
    "--conditioning",
    type=Bounded(1, 99.9),
    default=80.0,
    show_default=True,
    help="Conditioning pulse, % of the threshold named by --relative-to (must be below it).",
)
@click.option(
    "--relative-to",
    "reference",
    type=click.Choice(["rmt", "amt"]),
    default="rmt",
    show_default=True,
)
@click.option(
    "--test", type=Bounded(50, 200), default=120.0, show_default=True, help="Test pulse, % RMT."
)
@click.option("--interval-ms", type=float, default=None, help="CS-TS interval [SICI 3, ICF 12] ms.")
@click.option("--trials", type=click.IntRange(2, 100), default=15, show_default=True,
              help="Trials of each kind.")  # fmt: skip
@click.option("--max-intensity", type=_PERCENT, default=100, show_default=True, help="Cap.")
@measurement_options(
    amplitudes_help="Replay amplitudes (µV, one per trial in delivery order).",
    out_help="Directory for the JSON record.",
    store_option=STORE_OPTION,
)
def paired(
    subject: str,
    paradigm: str,
    rmt: float | None,
    amt: float | None,
    conditioning: float,
    reference: str,
    test: float,
    interval_ms: float | None,
    trials: int,
    max_intensity: int,
    store: bool | None,
    measure: Measure,
) -> int:
    """Measure SICI or ICF of SUBJECT: conditioned / test-alone MEP ratio."""
    from stimctl.cli.measure_rig import open_rig
    from stimctl.cli.rmt_store_policy import decide_store, journal_link, source_of
    from stimctl.rmt.paired import PairedPlan, run_paired
    from stimctl.rmt.simulator_source import SimulatorPairedSource

    threshold, request, wiring = measure.rmt_request(
        subject, "paired-pulse", rmt, why="the test pulse is a % of the resting motor threshold"
    )
    plan = PairedPlan(
        paradigm,  # type: ignore[arg-type]  # click.Choice guarantees it
        threshold,
        conditioning,
        test,
        interval_ms,
        trials,
        reference,  # type: ignore[arg-type]
        amt,
        max_intensity,
    )
    store_result = decide_store(request, store, "paired-pulse result")  # after the rules
    pacing = measure.pacing(wiring, max_intensity=max_intensity, pulses=2 * trials)
    clock = measure.clock(wiring)
    rng = measure.rng("paired")

    with open_rig(
        request,
        clock=clock,
        prompts_to_stderr=measure.as_json,
        start={"plan": plan.as_dict()},
        simulator_source=lambda d: SimulatorPairedSource(d.simulator),
    ) as rig:
        fire = None
        if rig.device is not None:
            from stimctl.rmt.paired_device import PairedStimulus

            assert wiring.profile is not None  # a device comes with its profile
            stimulus = PairedStimulus(
                rig.device.stimulate.driver,
                clock=clock,
                max_rate_hz=wiring.profile.single_pulse_max_rate_hz,
                max_intensity=max_intensity,
            )
            journal = rig.journal

            def fire(trial: Trial) -> None:
                stimulus(trial)
                if journal is None:
                    return
                # One record per magnetic pulse: a conditioned trigger delivered two.
                journal.fired(trial.first_output, output="A", trial=trial.index,
                              conditioned=trial.conditioned)  # fmt: skip
                if trial.conditioned:
                    journal.fired(trial.test, output="B", trial=trial.index, conditioned=True,
                                  after_a_ms=trial.interval_ms)  # fmt: skip

        def show(result: TrialResult) -> None:
            if rig.journal is not None:
                rig.journal.reading(result.trial.index - 1, {"amplitude_uv": result.amplitude_uv})
            if not measure.as_json:
                t = result.trial
                kind = f"CS {t.conditioning:3d} + TS" if t.conditioned else "TS alone   "
                click.echo(f"{t.index:4d}  {kind} {t.test:3d} % MSO  {result.amplitude_uv:9.1f} uV")

        result = run_paired(
            plan, rig.source, clock=clock, fire=fire, interval=pacing, rng=rng, on_trial=show
        )
        if rig.journal is not None:
            summary = {k: v for k, v in result.as_dict().items() if k != "trials"}
            rig.journal.finish(None, summary=summary)
    stored_id = None
    if store_result:
        from stimctl.records import Store
        from stimctl.rmt.results_store import record_paired

        with Store.open() as records:
            stored_id = record_paired(
                records, subject, result, source=source_of(request), journal=journal_link(rig)
            ).id
    measure.report(rig, subject, result.as_dict(), stored=stored_id, name=paradigm, what="result")
    if not measure.as_json:
        s = result.summary
        click.echo(
            f"{paradigm.upper()} at {plan.interval:g} ms: conditioned / test alone = "
            f"{s.ratio:.2f} (95 % interval {s.ratio_interval[0]:.2f}-{s.ratio_interval[1]:.2f}; "
            f"CS {plan.conditioning} % MSO, TS {plan.test} % MSO, {s.trials} trials; "
            f"means {s.conditioned_mean_uv:.0f} +- {s.conditioned_sd_uv:.0f} vs "
            f"{s.unconditioned_mean_uv:.0f} +- {s.unconditioned_sd_uv:.0f} uV)"
        )
    if stored_id is not None and not measure.as_json:
        click.echo(f"stored as paired-pulse result {stored_id} for {subject}")
    return ExitCode.OK
