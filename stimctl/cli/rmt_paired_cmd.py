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

import json
import random
from pathlib import Path
from typing import TYPE_CHECKING

import click

from stimctl.cli.measure_rig import device_options
from stimctl.cli.options import PERCENT_MSO, Bounded
from stimctl.cli.rmt_store_policy import STORE_OPTION
from stimctl.errors import ConfigError, ExitCode

if TYPE_CHECKING:
    from stimctl.clock import Clock
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
@click.option("--virtual-rmt", type=PERCENT_MSO, default=None, help="Virtual subject's RMT.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None, help="Seed.")
@click.option(
    "--amplitudes",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Replay amplitudes (µV, one per trial in delivery order).",
)
@click.option("--interval", type=Bounded(0, 60), default=5.0, show_default=True)
@click.option("--jitter", type=Bounded(0, 60), default=1.0, show_default=True)
@click.option("--speed", type=click.Choice(["realtime", "max"]), default="realtime")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory for the JSON record.",
)
@STORE_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@device_options
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
    virtual_rmt: float | None,
    seed: int | None,
    amplitudes: Path | None,
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
    """Measure SICI or ICF of SUBJECT: conditioned / test-alone MEP ratio."""
    from stimctl.cli.measure_rig import RigRequest, open_rig
    from stimctl.cli.rmt_store_policy import decide_store, journal_link, source_of
    from stimctl.clock import MonotonicClock, SimulatedClock, VirtualClock
    from stimctl.rmt.methods.base import HuntLimits
    from stimctl.rmt.paired import PairedPlan, run_paired
    from stimctl.rmt.runner import PulseInterval
    from stimctl.rmt.simulator_source import SimulatorPairedSource

    threshold = rmt if rmt is not None else virtual_rmt
    if threshold is None:
        raise ConfigError("--rmt is needed: the test pulse is a % of the resting motor threshold")
    request = RigRequest(
        subject, "paired-pulse", device, port, driver_options, virtual_rmt, seed,
        amplitudes, mep_source, rmt=float(threshold),
    )  # fmt: skip
    wiring = request.wiring()
    if speed == "max" and not request.simulated_responses:
        raise ConfigError("--speed max is only for a virtual subject or a replay")
    plan = PairedPlan(
        paradigm,  # type: ignore[arg-type]  # click.Choice guarantees it
        float(threshold),
        conditioning,
        test,
        interval_ms,
        trials,
        reference,  # type: ignore[arg-type]
        amt,
        max_intensity,
    )
    store_result = decide_store(request, store, "paired-pulse result")  # after the rules
    pacing = PulseInterval(interval, jitter)
    if wiring.profile is not None and wiring.fired_by is not None:
        from stimctl.rmt.device import check_hunt_fits_device

        check_hunt_fits_device(wiring.profile, HuntLimits(max_intensity, 1, 2 * trials), pacing)
    clock: Clock
    if speed != "max":
        clock = MonotonicClock()
    else:
        clock = SimulatedClock() if wiring.fired_by == "simulator" else VirtualClock()
    rng = random.Random(f"paired-{seed}") if seed is not None else random.Random()

    with open_rig(
        request,
        clock=clock,
        prompts_to_stderr=as_json,
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
            if not as_json:
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
            (out / f"{subject}-{paradigm}.json").write_text(json.dumps(payload, indent=2) + "\n")
        except OSError as exc:
            raise ConfigError(f"cannot write the result to {out}: {exc}") from exc
    if as_json:
        click.echo(json.dumps(payload, indent=2))
    else:
        s = result.summary
        click.echo(
            f"{paradigm.upper()} at {plan.interval:g} ms: conditioned / test alone = "
            f"{s.ratio:.2f} (95 % interval {s.ratio_interval[0]:.2f}-{s.ratio_interval[1]:.2f}; "
            f"CS {plan.conditioning} % MSO, TS {plan.test} % MSO, {s.trials} trials; "
            f"means {s.conditioned_mean_uv:.0f} +- {s.conditioned_sd_uv:.0f} vs "
            f"{s.unconditioned_mean_uv:.0f} +- {s.unconditioned_sd_uv:.0f} uV)"
        )
    if stored_id is not None and not as_json:
        click.echo(f"stored as paired-pulse result {stored_id} for {subject}")
    return ExitCode.OK
