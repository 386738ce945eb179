"""Inter-train intervals (Chen et al. 1997), safety-limits 9.2, rules ITI-1..ITI-5.

Chen 1997 tested 20 Hz trains only; applying its intervals at other frequencies is an
extrapolation, and the finding says so (safety-limits 1.3, 8.5).
"""

from __future__ import annotations

from stimctl.protocol.derived import is_theta_burst
from stimctl.safety.context import Context, against, find, fmt
from stimctl.safety.verdict import Finding, Severity

EPSILON = 1e-9


def check_inter_train_interval(ctx: Context) -> list[Finding]:
    derived = ctx.derived
    if is_theta_burst(derived.protocol_class) or ctx.protocol.coil.family == "h-coil":
        return []  # TBS and H-coil label envelopes have their own rules
    iti = derived.inter_train_interval_s
    if derived.pulse_frequency_hz <= 1.0 + EPSILON or derived.trains == 1 or iti is None:
        return [
            find(
                "ITI-5",
                Severity.ALLOW,
                "continuous or single train: no inter-train interval needed",
                source="Wassermann 1998 Table 4 [R]",
            )
        ]
    limits = ctx.limits.iti
    note = ""
    tested = limits.tested_frequency_hz.value
    if abs(derived.pulse_frequency_hz - tested) > EPSILON:
        note = (
            f" (tested at {fmt(tested)} Hz; extrapolated to {fmt(derived.pulse_frequency_hz)} Hz)"
        )
    if iti <= limits.block_if_at_most_s.value + EPSILON:
        if ctx.rmt_percent > 100.0 + EPSILON:
            return [
                against(
                    "ITI-1",
                    Severity.BLOCK,
                    f"interval {fmt(iti)} s at {fmt(ctx.rmt_percent)}% RMT: intervals of "
                    f"1 s or less were unsafe above 100% MT{note}",
                    iti,
                    limits.block_if_at_most_s,
                )
            ]
        return [
            against(
                "ITI-4",
                Severity.OVERRIDE,
                f"interval {fmt(iti)} s at or below 100% RMT: short intervals are untested{note}",
                iti,
                limits.block_if_at_most_s,
            )
        ]
    if iti < limits.allow_from_s.value - EPSILON:
        return [
            against(
                "ITI-3",
                Severity.OVERRIDE,
                f"interval {fmt(iti)} s is between 1 s and 5 s: no verified data{note}",
                iti,
                limits.allow_from_s,
            )
        ]
    return [
        against(
            "ITI-2",
            Severity.ALLOW,
            f"interval {fmt(iti)} s >= {fmt(limits.allow_from_s.value)} s{note}",
            iti,
            limits.allow_from_s,
        )
    ]
