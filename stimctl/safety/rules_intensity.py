"""Intensity caps by protocol class and coil, deliverability, and the RMT itself.

Rules INT-1..INT-7 of safety-limits 9.3, plus INT-MSO (absolute % MSO dosing only in
research mode, issue 2) and INT-5 (a dose above the device's maximum is "not
deliverable": blocked, never clipped).
"""

from __future__ import annotations

from stimctl.protocol.derived import INTERMITTENT_TBS_CLASSES
from stimctl.safety.context import Context, against, cite, find, fmt
from stimctl.safety.tables import Limit
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
    pct = ctx.percent_rmt
    cls = ctx.derived.protocol_class
    if ctx.protocol.coil.family == "h-coil":
        return []  # INT-4, in the H-coil envelope check
    if cls == "ctbs":
        if pct > caps.ctbs_block_above_percent_rmt.value + EPSILON:
            return [_over("INT-3", Severity.BLOCK, "cTBS", pct, caps.ctbs_block_above_percent_rmt)]
        if pct > caps.ctbs_allow_percent_rmt.value + EPSILON:
            return [_over("INT-3", Severity.OVERRIDE, "cTBS", pct, caps.ctbs_allow_percent_rmt)]
        return [_within("INT-3", "cTBS", pct, caps.ctbs_allow_percent_rmt)]
    if cls in INTERMITTENT_TBS_CLASSES:
        if pct > caps.itbs_percent_rmt.value + EPSILON:
            return [_over("INT-2", Severity.BLOCK, "iTBS", pct, caps.itbs_percent_rmt)]
        return [_within("INT-2", "iTBS", pct, caps.itbs_percent_rmt)]
    clinical = caps.conventional_clinical_percent_rmt
    research = caps.conventional_research_percent_rmt
    if pct > research.value + EPSILON:
        return [_over("INT-1", Severity.BLOCK, "conventional rTMS", pct, research)]
    if pct > clinical.value + EPSILON:
        severity = Severity.OVERRIDE if ctx.research else Severity.BLOCK
        return [_over("INT-1", severity, f"conventional rTMS ({ctx.site.mode})", pct, clinical)]
    return [_within("INT-1", "conventional rTMS", pct, clinical)]


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
    rmt = ctx.subject.rmt.percent_mso
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
                f"not deliverable: {fmt(ctx.percent_rmt)}% of RMT {fmt(rmt)}% MSO = "
                f"{fmt(dose)}% MSO, above the {where} ({fmt(maximum)}%); never clipped",
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


def _absolute_dosing(ctx: Context) -> list[Finding]:
    if ctx.protocol.intensity.percent_mso is None:
        return []
    severity = Severity.ALLOW if ctx.research else Severity.BLOCK
    return [
        find(
            "INT-MSO",
            severity,
            f"intensity given as {fmt(ctx.protocol.intensity.percent_mso)}% MSO "
            f"(= {fmt(ctx.percent_rmt)}% RMT): absolute dosing is for research mode only",
            value=ctx.protocol.intensity.percent_mso,
            source="safety-limits 6.2: % MSO is device-, coil- and waveform-specific [R]",
        )
    ]


def _rmt_quality(ctx: Context) -> list[Finding]:
    findings: list[Finding] = []
    rmt = ctx.subject.rmt
    caps = ctx.limits.intensity
    visual_from = caps.visual_rmt_override_from_percent_rmt
    if rmt.method == "visual" and ctx.percent_rmt >= visual_from.value - EPSILON:
        findings.append(
            against(
                "INT-6",
                Severity.OVERRIDE,
                f"RMT judged visually and the dose is {fmt(ctx.percent_rmt)}% RMT: visual MT "
                "overestimates EMG MT by about 11%",
                ctx.percent_rmt,
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
                f"RMT dated {rmt.measured_on.isoformat()}, after today",
                value=rmt.measured_on.isoformat(),
                source="stimctl: a threshold cannot come from the future [P]",
            )
        )
    elif ctx.research and age_days > 0:
        findings.append(
            find(
                "INT-7",
                stale,
                f"research mode needs an RMT from today; it is {age_days} days old",
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
                f"RMT is {age_days} days old (more than {fmt(max_age.value)})",
                age_days,
                max_age,
            )
        )
    if ctx.device is not None and rmt.device is not None and rmt.device != ctx.device.name:
        findings.append(
            find(
                "INT-7",
                stale,
                f"RMT measured on {rmt.device}, session on {ctx.device.name}: % MSO does not "
                "transfer between devices",
                value=rmt.device,
                limit=ctx.device.name,
                source="safety-limits 6.2: % MSO is device-, coil- and waveform-specific [R]",
            )
        )
    return findings
