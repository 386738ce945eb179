"""`stimctl rmt curve`: a recruitment (input-output) curve relative to the RMT.

Loaded lazily by the `rmt` group. The pulses come from a virtual subject
(`--virtual-rmt`), a replayed file of amplitudes (`--amplitudes`, one µV per line, in the
order delivered) or the operator, who fires by hand at the intensity shown and types the
MEP in µV. Firing through a stimulator driver is not wired yet (issue 19 item 2 notes).
`--out DIR` writes `<subject>-curve.json` and `<subject>-curve.html` there.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import TYPE_CHECKING

import click

from stimctl.cli.options import PERCENT_MSO, Bounded
from stimctl.errors import ConfigError, ExitCode

if TYPE_CHECKING:
    from stimctl.clock import Clock
    from stimctl.rmt import MepSource
    from stimctl.rmt.curve import CurvePulse

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
def curve(
    subject: str,
    rmt: float | None,
    virtual_rmt: float | None,
    seed: int | None,
    amplitudes: Path | None,
    levels: str,
    per_level: int,
    max_intensity: int,
    interval: float,
    jitter: float,
    speed: str,
    out: Path | None,
    store: bool | None,
    as_json: bool,
) -> int:
    """Measure SUBJECT's recruitment curve and fit a Boltzmann sigmoid."""
    from stimctl.clock import MonotonicClock, VirtualClock
    from stimctl.rmt.curve import CurvePlan, run_curve
    from stimctl.rmt.curve_report import render_curve_html
    from stimctl.rmt.runner import PulseInterval

    if virtual_rmt is not None and amplitudes is not None:
        raise ConfigError("--virtual-rmt and --amplitudes are two sources; give one")
    threshold = rmt if rmt is not None else virtual_rmt
    if threshold is None:
        raise ConfigError("--rmt is needed: the levels are % of the resting motor threshold")
    if speed == "max" and virtual_rmt is None and amplitudes is None:
        raise ConfigError("--speed max is only for a virtual subject or a replay")
    if virtual_rmt is not None and store:
        raise ConfigError("a virtual subject's curve is never stored in the records")
    store_result = (amplitudes is None and virtual_rmt is None) if store is None else store
    if store_result:
        _require_subject(subject)  # before any pulse, not after the curve
    plan = CurvePlan(float(threshold), _levels(levels), per_level, max_intensity)
    pacing = PulseInterval(interval, jitter)
    clock: Clock = VirtualClock() if speed == "max" else MonotonicClock()
    source = _source(virtual_rmt, seed, amplitudes, prompts_to_stderr=as_json)
    rng = random.Random(f"curve-{seed}") if seed is not None else random.Random()

    def show(pulse: CurvePulse) -> None:
        if not as_json:
            click.echo(
                f"{pulse.index:4d}  {pulse.intensity:3d} % MSO  {pulse.amplitude_uv:9.1f} uV"
            )

    result = run_curve(plan, source, clock=clock, interval=pacing, rng=rng, on_pulse=show)
    stored_id = None
    if store_result:
        from stimctl.records import Store
        from stimctl.rmt.curve_store import CurveSource, record_curve

        with Store.open() as records:
            kind: CurveSource = "replay" if amplitudes is not None else "operator"
            stored_id = record_curve(records, subject, result, source=kind).id
    payload = {"subject": subject, "stored": stored_id, **result.as_dict()}
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


def _require_subject(subject: str) -> None:
    from stimctl.records import Store, get_subject

    with Store.open() as records:
        get_subject(records, subject)  # an unknown subject is a ConfigError


def _source(
    virtual_rmt: float | None, seed: int | None, amplitudes: Path | None, *, prompts_to_stderr: bool
) -> MepSource:
    from stimctl.rmt import FileSource, OperatorSource
    from stimctl.rmt.registry import VIRTUAL, load_mep_source_factory

    if virtual_rmt is not None:
        return load_mep_source_factory(VIRTUAL)(virtual_rmt, seed)
    if amplitudes is not None:
        return FileSource(amplitudes)

    def ask(question: str) -> str:
        return str(click.prompt(question, type=str, err=prompts_to_stderr))

    return OperatorSource(ask, lambda message: click.echo(message, err=True))
