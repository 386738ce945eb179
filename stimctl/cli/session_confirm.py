"""The headless `run`'s last step before the device is opened: the plan and verdict on
the screen, then the operator types the subject id (`start` in research mode).

A session on a stimulator must not start because a command line was recalled from the
shell history: the typed answer proves someone read the plan for this subject. `--yes`
skips it for scripts; without a terminal and without `--yes` the run is refused (nobody
could have read the plan). A wrong answer fires nothing and exits NOT_CONFIRMED (13).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from stimctl.errors import ConfigError, NotConfirmed

if TYPE_CHECKING:
    from stimctl.session.runner import Prepared


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def plan_lines(prepared: Prepared, *, subject_id: str, port: str) -> list[str]:
    """The plan as the operator confirms it: what, on which device, for whom, how much."""
    plan = prepared.plan
    d = plan.derived
    first = plan.trains[0]
    mode = prepared.site.mode
    lines = [
        f"plan: {prepared.protocol.name} ({prepared.protocol.title})",
        f"  subject {subject_id}, {mode} session on {prepared.device.name} at {port}",
        f"  {d.trains} train(s) x {d.pulses_per_train} pulses = {plan.total_pulses} pulses "
        f"at {_num(d.pulse_frequency_hz)} Hz, trains {_num(d.train_duration_s)} s"
        + (
            f", pause {_num(d.inter_train_interval_s)} s"
            if d.inter_train_interval_s is not None
            else ""
        ),
        f"  total {_duration(plan.duration_s)}; intensity {first.intensity_percent_mso}% MSO"
        f" = {_num(first.delivered_percent_rmt)}% of the threshold"
        f" ({_num(plan.rmt_percent_mso)}% MSO)",
    ]
    if plan.max_intensity_percent_mso != first.intensity_percent_mso:
        lines.append(f"  highest intensity {plan.max_intensity_percent_mso}% MSO (ramp)")
    verdict = prepared.verdict
    deciding = verdict.deciding()
    if verdict.verdict.value == "allow":
        lines.append(f"verdict: ALLOW ({len(verdict.findings)} checks passed)")
    else:
        lines.append(f"verdict: {verdict.verdict.value.upper()}")
        lines.extend(f"  {f.rule}: {f.message}" for f in deciding)
    if prepared.override is not None:
        lines.append(
            f"  override signed by {prepared.override.operator}: {prepared.override.reason}"
        )
    return lines


def expected_answer(prepared: Prepared, subject_id: str) -> str:
    return "start" if prepared.site.mode == "research" else subject_id


def confirm_start(
    prepared: Prepared, *, subject_id: str, port: str, yes: bool, quiet: bool = False
) -> None:
    """Print the plan and verdict; unless `yes`, require the typed answer. Without a
    terminal and without `yes`: refused in one line, before anything else is printed.
    `quiet` (--json) with `yes`: a script's run, nothing printed (no progress either)."""
    if not yes and not _interactive():
        raise ConfigError(
            "no terminal to confirm the start on (standard input is not a terminal):"
            " run it at a terminal, or pass --yes in scripts"
        )
    if yes and quiet:
        return
    for line in plan_lines(prepared, subject_id=subject_id, port=port):
        click.echo(line, err=True)
    if yes:
        return
    wanted = expected_answer(prepared, subject_id)
    what = "start" if wanted == "start" else f"the subject id ({subject_id})"
    click.echo(f"Type {what} to start the session, anything else cancels: ", nl=False, err=True)
    answer = sys.stdin.readline()
    if answer.strip() != wanted:
        typed = answer.strip()[:40]
        raise NotConfirmed(f"not started: typed {typed!r}, not {wanted!r}; no pulse was delivered")


def _interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):  # closed or replaced stdin
        return False
