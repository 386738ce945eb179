"""Intensity caps by protocol class and coil, deliverability, and the RMT itself.

Rules INT-1..INT-7 of safety-limits 9.3, plus INT-MSO (absolute % MSO dosing only in
research mode, issue 2) and INT-5 (a dose above the device's maximum is "not
deliverable": blocked, never clipped).
"""

from __future__ import annotations

from stimctl.protocol.derived import INTERMITTENT_TBS_CLASSES
from stimctl.safety.context import Context, against, cite, find, fmt
from stimctl.safety.inputs import MotorThreshold
from stimctl.safety.tables import Limit
from stimctl.safety.thresholds import measure_hint
from stimctl.safety.verdict import Finding, Severity

EPSILON = 1e-9


def check_intensity(ctx: Context) -> list[Finding]:
    findings = _class_cap(ctx)
    findings += _deliverable(ctx)
    findings += _absolute_dosing(ctx)
    findings += _rmt_quality(ctx)
    return findings


def _class_cap(ctx: Context) -> list[Finding]:
    caps = ctx.limits.intensity
    cls = ctx.derived.protocol_class
    if ctx.protocol.coil.family == "h-coil":
        return []  # INT-4, in the H-coil envelope check
    if cls == "ctbs":
        return _ctbs(ctx)
    if cls in INTERMITTENT_TBS_CLASSES:
        return _itbs(ctx)
    pct = ctx.rmt_percent
    clinical = caps.conventional_clinical_percent_rmt
    research = caps.conventional_research_percent_rmt
    if pct > research.value + EPSILON:
        return [_over("INT-1", Severity.BLOCK, "conventional rTMS", pct, research)]
    if pct > clinical.value + EPSILON:
        severity = Severity.OVERRIDE if ctx.research else Severity.BLOCK
        return [_over("INT-1", severity, f"conventional rTMS ({ctx.site.mode})", pct, clinical)]
    return [_within("INT-1", "conventional rTMS", pct, clinical)]


def _ctbs(ctx: Context) -> list[Finding]:
    """INT-3: cTBS as Huang 2005 gave it (80% AMT); at or above 100% RMT blocked, since
    the reported TBS seizure happened at 100% RMT (safety-limits 13.2)."""
    caps = ctx.limits.intensity
    block = caps.ctbs_block_from_percent_rmt
    allow = caps.tbs_allow_percent_amt
    pct_rmt, pct_amt = ctx.percent_rmt, ctx.percent_amt
    if pct_rmt is not None and pct_rmt >= block.value - EPSILON:
        return [
            against(
                "INT-3",
                Severity.BLOCK,
                f"cTBS at {fmt(pct_rmt)}% RMT: at or above {fmt(block.value)}% RMT is blocked "
                "(the reported cTBS seizure happened at 100% RMT)",
                pct_rmt,
                block,
            )
        ]
    if pct_amt is None:
        assert pct_rmt is not None
        return [
            against(
                "INT-3",
                Severity.OVERRIDE,
                f"cTBS at {fmt(pct_rmt)}% RMT cannot be compared with Huang's "
                f"{fmt(allow.value)}% AMT (AMT is lower than RMT, so % RMT is a higher dose): "
                f"measure the {measure_hint('amt', ctx.protocol.intensity.muscle)}",
                pct_rmt,
                allow,
            )
        ]
    if pct_amt <= allow.value + EPSILON:
        return [_within_amt("INT-3", "cTBS", pct_amt, allow, pct_rmt)]
    if pct_rmt is None:
        return [
            against(
                "INT-3",
                Severity.BLOCK,
                f"cTBS at {fmt(pct_amt)}% AMT is above {fmt(allow.value)}% AMT, and without an "
                f"RMT on record the {fmt(block.value)}% RMT limit cannot be checked: measure the "
                f"{measure_hint('rmt', ctx.protocol.intensity.muscle)}",
                pct_amt,
                allow,
            )
        ]
    return [
        against(
            "INT-3",
            Severity.OVERRIDE,
            f"cTBS at {fmt(pct_amt)}% AMT (= {fmt(pct_rmt)}% RMT) is above the "
            f"{fmt(allow.value)}% AMT of Huang 2005: not tested, below {fmt(block.value)}% RMT",
            pct_amt,
            allow,
        )
    ]


def _itbs(ctx: Context) -> list[Finding]:
    """INT-2: iTBS up to 120% RMT (THREE-D); in % AMT up to Huang's 80% AMT, beyond it
    only with an RMT on record to check the RMT cap."""
    caps = ctx.limits.intensity
    cap = caps.itbs_percent_rmt
    pct_rmt, pct_amt = ctx.percent_rmt, ctx.percent_amt
    if pct_rmt is not None:
        what = "iTBS" + (" (the % is of the depth-adjusted RMT, MT-DEPTH)" if ctx.depth else "")
        if pct_rmt > cap.value + EPSILON:
            return [_over("INT-2", Severity.BLOCK, what, pct_rmt, cap)]
        return [_within("INT-2", what, pct_rmt, cap)]
    assert pct_amt is not None  # thresholds.missing guarantees one of the two
    allow = caps.tbs_allow_percent_amt
    if pct_amt <= allow.value + EPSILON:
        return [_within_amt("INT-2", "iTBS", pct_amt, allow, None)]
    return [
        against(
            "INT-2",
            Severity.BLOCK,
            f"iTBS at {fmt(pct_amt)}% AMT is above {fmt(allow.value)}% AMT, and without an RMT "
            f"on record the {fmt(cap.value)}% RMT cap cannot be checked: measure the "
            f"{measure_hint('rmt', ctx.protocol.intensity.muscle)}",
            pct_amt,
            allow,
        )
    ]


def _within_amt(
    rule: str, what: str, pct_amt: float, limit: Limit, pct_rmt: float | None
) -> Finding:
    also = "" if pct_rmt is None else f" (= {fmt(pct_rmt)}% RMT)"
    return against(
        rule,
        Severity.ALLOW,
        f"{fmt(pct_amt)}% AMT{also} within the {fmt(limit.value)}% AMT of Huang 2005 for {what}",
        pct_amt,
        limit,
    )


def _over(rule: str, severity: Severity, what: str, pct: float, limit: Limit) -> Finding:
    return against(
        rule,
        severity,
        f"{fmt(pct)}% RMT is above the {fmt(limit.value)}% RMT cap for {what}",
        pct,
        limit,
    )


def _within(rule: str, what: str, pct: float, limit: Limit) -> Finding:
    return against(
        rule,
        Severity.ALLOW,
        f"{fmt(pct)}% RMT within the {fmt(limit.value)}% RMT cap for {what}",
        pct,
        limit,
    )


def _deliverable(ctx: Context) -> list[Finding]:
    ceiling = ctx.limits.intensity.max_output_percent_mso
    maximum = ceiling.value
    where = "100% MSO ceiling"
    source = cite(ceiling)
    if ctx.device is not None:
        maximum = min(maximum, ctx.device.max_output_percent_mso)
        where = f"{ctx.device.title} maximum output"
        source = f"{ctx.device.source} [{ctx.device.status}]"
    dose = ctx.dose_percent_mso
    reference = ctx.reference
    prescribed = (
        "prescribed"
        if reference is None or ctx.protocol.intensity.percent_mso is not None
        else f"{fmt(_prescribed(ctx))}% of {reference.kind.upper()} "
        f"{fmt(reference.percent_mso)}% MSO"
    )
    enhanced = ctx.device.enhanced_power_max_percent_mso if ctx.device is not None else None
    if enhanced is not None and maximum + EPSILON < dose <= enhanced + EPSILON:
        return [
            find(
                "INT-5",
                Severity.BLOCK,
                f"not deliverable: {fmt(dose)}% MSO is in the enhanced-power range "
                f"({fmt(maximum)}-{fmt(enhanced)}%), for which there is no energy data: "
                "refused, not extrapolated",
                value=dose,
                limit=maximum,
                source="safety-limits 13.1: energy tables end at 100% (MagPy, TDb087 Table 1) [V]",
            )
        ]
    if dose > maximum + EPSILON:
        return [
            find(
                "INT-5",
                Severity.BLOCK,
                f"not deliverable: {prescribed} = {fmt(dose)}% MSO, above the {where} "
                f"({fmt(maximum)}%); never clipped",
                value=dose,
                limit=maximum,
                source=source,
            )
        ]
    return [
        find(
            "INT-5",
            Severity.ALLOW,
            f"dose {fmt(dose)}% MSO is deliverable ({where} {fmt(maximum)}%)",
            value=dose,
            limit=maximum,
            source=source,
        )
    ]


def _prescribed(ctx: Context) -> float:
    intensity = ctx.protocol.intensity
    value = intensity.percent_amt if intensity.percent_amt is not None else intensity.percent_rmt
    assert value is not None
    return value


def _absolute_dosing(ctx: Context) -> list[Finding]:
    if ctx.protocol.intensity.percent_mso is None:
        return []
    severity = Severity.ALLOW if ctx.research else Severity.BLOCK
    return [
        find(
            "INT-MSO",
            severity,
            f"intensity given as {fmt(ctx.protocol.intensity.percent_mso)}% MSO "
            f"(= {fmt(ctx.rmt_percent)}% RMT): absolute dosing is for research mode only",
            value=ctx.protocol.intensity.percent_mso,
            source="safety-limits 6.2: % MSO is device-, coil- and waveform-specific [R]",
        )
    ]


def _rmt_quality(ctx: Context) -> list[Finding]:
    findings: list[Finding] = []
    for threshold in ctx.thresholds_used:
        pct = ctx.percent_rmt if threshold.kind == "rmt" else ctx.percent_amt
        findings += _threshold_quality(ctx, threshold, pct)
    return findings


def _threshold_quality(ctx: Context, rmt: MotorThreshold, pct: float | None) -> list[Finding]:
    findings: list[Finding] = []
    name = rmt.kind.upper()
    caps = ctx.limits.intensity
    visual_from = caps.visual_rmt_override_from_percent_rmt
    if rmt.method == "visual" and pct is not None and pct >= visual_from.value - EPSILON:
        findings.append(
            against(
                "INT-6",
                Severity.OVERRIDE,
                f"{name} judged visually and the dose is {fmt(pct)}% {name}: visual MT "
                "overestimates EMG MT by about 11%",
                pct,
                visual_from,
            )
        )
    age_days = (ctx.today - rmt.measured_on).days
    stale = Severity.BLOCK if ctx.research else Severity.OVERRIDE
    max_age = caps.rmt_max_age_days_clinical
    if age_days < 0:
        findings.append(
            find(
                "INT-7",
                Severity.BLOCK,
                f"{name} dated {rmt.measured_on.isoformat()}, after today",
                value=rmt.measured_on.isoformat(),
                source="stimctl: a threshold cannot come from the future [P]",
            )
        )
    elif ctx.research and age_days > 0:
        findings.append(
            find(
                "INT-7",
                stale,
                f"research mode needs an {name} from today; it is {age_days} days old",
                value=age_days,
                limit=0,
                source=cite(max_age),
            )
        )
    elif age_days > max_age.value:
        findings.append(
            against(
                "INT-7",
                stale,
                f"{name} is {age_days} days old (more than {fmt(max_age.value)})",
                age_days,
                max_age,
            )
        )
    if ctx.device is not None and rmt.device is not None and rmt.device != ctx.device.name:
        findings.append(
            find(
                "INT-7",
                stale,
                f"{name} measured on {rmt.device}, session on {ctx.device.name}: % MSO does not "
                "transfer between devices",
                value=rmt.device,
                limit=ctx.device.name,
                source="safety-limits 6.2: % MSO is device-, coil- and waveform-specific [R]",
            )
        )
    return findings
