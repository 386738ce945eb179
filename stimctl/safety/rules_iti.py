"""Inter-train intervals (Chen et al. 1997), safety-limits 9.2 and 13.2, ITI-1..ITI-5.

Chen 1997 tested 20 Hz, 110% MT, 1.6 s trains. The 5 s rule (ITI-2) is applied only
inside a sourced region of frequency x intensity x train length (limits.toml
[[iti.regions]]); outside every region the interval is extrapolated (ITI-EXT): an
override in clinical mode.
"""

from __future__ import annotations

from stimctl.protocol.derived import is_theta_burst
from stimctl.safety.context import Context, against, find, fmt
from stimctl.safety.rules_risk import risk_factors
from stimctl.safety.tables import ItiRegion
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
    pct = ctx.rmt_percent
    if iti <= limits.block_if_at_most_s.value + EPSILON:
        if pct > 100.0 + EPSILON:
            return [
                against(
                    "ITI-1",
                    Severity.BLOCK,
                    f"interval {fmt(iti)} s at {fmt(pct)}% RMT: intervals of "
                    f"1 s or less were unsafe above 100% MT{_tested_note(ctx)}",
                    iti,
                    limits.block_if_at_most_s,
                )
            ]
        return [
            against(
                "ITI-4",
                Severity.OVERRIDE,
                f"interval {fmt(iti)} s at or below 100% RMT: short intervals are untested"
                f"{_tested_note(ctx)}",
                iti,
                limits.block_if_at_most_s,
            )
        ]
    if iti < limits.allow_from_s.value - EPSILON:
        return [
            against(
                "ITI-3",
                Severity.OVERRIDE,
                f"interval {fmt(iti)} s is between 1 s and 5 s: no verified data"
                f"{_tested_note(ctx)}",
                iti,
                limits.allow_from_s,
            )
        ]
    region = sourced_region(ctx, iti)
    if region is None:
        return [_extrapolated(ctx, iti)]
    exact = _is_tested_case(ctx, iti, region)
    tag = region.status if exact else "P"
    if region.max_pulses_per_train is None:
        how = "a proposed region: no source found, reasoning in the source"
    else:
        how = "the tested case" if exact else "dominated by the tested case"
    source = (
        f"{region.source} [{region.status}]"
        if exact or region.status == "P"
        else f"{region.source} [{region.status}]; dominated combinations (no higher "
        "frequency, intensity or pulses per train, no shorter interval) assumed safe [P]"
    )
    return [
        find(
            "ITI-2",
            Severity.ALLOW,
            f"interval {fmt(iti)} s within region {region.id} ({region.what}; {how}) [{tag}]",
            value=iti,
            limit=region.min_interval_s,
            source=source,
        )
    ]


def sourced_region(ctx: Context, iti: float) -> ItiRegion | None:
    """The first region of limits.toml that covers this protocol's interval."""
    derived = ctx.derived
    for region in ctx.limits.iti.regions:
        inside = (
            derived.pulse_frequency_hz <= region.max_frequency_hz + EPSILON
            and ctx.rmt_percent <= region.max_percent_rmt + EPSILON
            and (
                region.max_pulses_per_train is None
                or derived.pulses_per_train <= region.max_pulses_per_train
            )
            and iti >= region.min_interval_s - EPSILON
        )
        if inside:
            return region
    return None


def _is_tested_case(ctx: Context, iti: float, region: ItiRegion) -> bool:
    if region.max_pulses_per_train is None:
        return False  # a proposal's region, not a tested case
    derived = ctx.derived
    return (
        abs(derived.pulse_frequency_hz - region.max_frequency_hz) <= EPSILON
        and abs(ctx.rmt_percent - region.max_percent_rmt) <= EPSILON
        and derived.pulses_per_train == region.max_pulses_per_train
    )


def _extrapolated(ctx: Context, iti: float) -> Finding:
    """Outside every sourced region: an override in clinical mode (safety-limits 13.2)."""
    severity = Severity.ALLOW if ctx.research else Severity.OVERRIDE
    risky = risk_factors(ctx)
    if risky:
        severity = Severity.BLOCK
    regions = "; ".join(f"{r.id}: {r.what}" for r in ctx.limits.iti.regions)
    return find(
        "ITI-EXT",
        severity,
        f"interval {fmt(iti)} s at {fmt(ctx.derived.pulse_frequency_hz)} Hz, "
        f"{fmt(ctx.rmt_percent)}% RMT, {ctx.derived.pulses_per_train}-pulse trains is "
        f"extrapolated: no source covers this combination ({regions})"
        + (f"; blocked with risk factors on record ({', '.join(risky)})" if risky else ""),
        value=iti,
        limit=ctx.limits.iti.allow_from_s.value,
        source="safety-limits 13.2: the 5 s rule generalises one tested case (Chen 1997) [V]; "
        "outside the sourced regions it is an extrapolation [P]",
    )


def _tested_note(ctx: Context) -> str:
    tested = ctx.limits.iti.tested_frequency_hz.value
    frequency = ctx.derived.pulse_frequency_hz
    if abs(frequency - tested) <= EPSILON:
        return ""
    return f" (tested at {fmt(tested)} Hz; extrapolated to {fmt(frequency)} Hz)"
