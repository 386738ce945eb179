"""The compiled plan against what the rules checked: what is checked is what is sent.

The other rule families judge the protocol's figures (frequency, pulses per train, trains,
interval, dose in % MSO). This one walks the plan the session will execute, train by
train, and blocks when any train differs from those figures: a frequency or a pulse
count that is not the checked one, a device setting above the checked dose, an interval
shorter than the checked one, more trains or pulses than were judged (issue 14 item 1).
A wrong plan compiler is thereby refused before the device is opened.
"""

from __future__ import annotations

from typing import Any

from stimctl.protocol.dose import device_percent
from stimctl.protocol.plan import Plan
from stimctl.safety.context import Context, find, fmt
from stimctl.safety.verdict import Finding, Severity

RULE = "PLAN-1"
SOURCE = "ARCHITECTURE rule 1 (fail closed): the plan sent is the plan checked (issue 14)"
_EPSILON = 1e-6


def check_compiled_plan(ctx: Context, plan: Plan) -> list[Finding]:
    derived = ctx.derived
    ceiling = device_percent(ctx.dose_percent_mso)
    problems: list[str] = []
    if len(plan.trains) != derived.trains:
        problems.append(f"{len(plan.trains)} trains, checked {derived.trains}")
    total = sum(t.pulses for t in plan.trains)
    if total != derived.total_pulses or plan.total_pulses != derived.total_pulses:
        problems.append(f"{total} pulses in all, checked {derived.total_pulses}")
    previous_end: float | None = None
    for train in plan.trains:
        where = f"train {train.index + 1}"
        if train.pulses != derived.pulses_per_train or len(train.pulse_offsets_s) != train.pulses:
            problems.append(f"{where}: {train.pulses} pulses, checked {derived.pulses_per_train}")
        if abs(train.frequency_hz - derived.pulse_frequency_hz) > _EPSILON:
            problems.append(
                f"{where}: {fmt(train.frequency_hz)} Hz, checked {fmt(derived.pulse_frequency_hz)}"
            )
        if train.intensity_percent_mso > ceiling:
            problems.append(
                f"{where}: set to {train.intensity_percent_mso}% MSO, above the checked dose "
                f"{fmt(ctx.dose_percent_mso)}% MSO"
            )
        iti = derived.inter_train_interval_s
        if previous_end is not None and iti is not None:
            gap = train.onset_s - previous_end
            if gap + _EPSILON < iti:
                problems.append(f"{where}: {fmt(gap)} s after the last train, checked {fmt(iti)}")
        previous_end = train.onset_s + train.duration_s
    if not problems:
        return []
    return [
        find(
            RULE,
            Severity.BLOCK,
            "the compiled plan is not the checked protocol: " + "; ".join(problems[:3]),
            value=len(problems),
            limit=0,
            source=SOURCE,
        )
    ]


def plan_figures(plan: Plan) -> dict[str, Any]:
    """What the verdict allows, for the runtime guard's limits (`RuntimeGuard.for_verdict`)."""
    iti = plan.derived.inter_train_interval_s
    return {
        "max_intensity_percent_mso": max(t.intensity_percent_mso for t in plan.trains),
        "max_delivered_percent_rmt": round(max(t.delivered_percent_rmt for t in plan.trains), 3),
        "total_pulses": sum(t.pulses for t in plan.trains),
        "trains": len(plan.trains),
        "min_interval_s": iti or 0.0,
        "rounding": plan.rounding_note,
    }
