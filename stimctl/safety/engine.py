"""The safety engine: protocol x subject x device x site (x history) -> verdict.

Pure: no clock and no I/O beyond the tables loaded once. `now` is passed in. The engine
loads the safety tables (or takes them from the caller) before any rule runs and hands
them to the rules in the `Context`: a rule opens no file. Every rule family runs and every
finding is reported; the verdict is the worst of them.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from stimctl import plausible
from stimctl.device_profiles import DeviceProfile, energy_joules
from stimctl.protocol.derived import derive
from stimctl.protocol.models import Protocol
from stimctl.protocol.plan import Plan
from stimctl.safety import thresholds
from stimctl.safety.context import Context
from stimctl.safety.inputs import History, SiteRules, Subject
from stimctl.safety.rules_device import check_device
from stimctl.safety.rules_duration import check_train_duration
from stimctl.safety.rules_history import check_history, check_schedule_allowed
from stimctl.safety.rules_intensity import check_intensity
from stimctl.safety.rules_iti import check_inter_train_interval
from stimctl.safety.rules_plan import check_compiled_plan, plan_figures
from stimctl.safety.rules_pulses import check_pulses
from stimctl.safety.rules_risk import check_age_and_risk
from stimctl.safety.rules_screening import check_screening
from stimctl.safety.rules_tbs import check_theta_burst
from stimctl.safety.tables import Tables, tables
from stimctl.safety.verdict import Finding, Verdict


def build_context(
    protocol: Protocol,
    subject: Subject,
    device: DeviceProfile | None,
    site: SiteRules,
    now: datetime,
    *,
    external_trigger: bool = False,
    safety_tables: Tables | None = None,
) -> Context:
    """The evaluation's inputs; the subject must have every threshold the protocol needs
    (`thresholds.missing` is empty), else a ValueError. `safety_tables`: the tables the
    rules read (default: the shipped ones)."""
    loaded = tables() if safety_tables is None else safety_tables
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    # A ConfigError (exit 2), not a ValueError (exit 70): the RMT is typed by people.
    plausible.rmt_percent_mso(subject.rmt.percent_mso, "RMT")
    derived = derive(protocol)
    gradient = loaded.limits.intensity.depth_gradient_percent_mso_per_mm.value
    lacking = thresholds.missing(subject, protocol, derived.protocol_class, gradient)
    if lacking:
        raise ValueError(lacking[0].message)
    dose = thresholds.dose(subject, protocol, gradient)
    return Context(
        protocol=protocol,
        derived=derived,
        subject=subject,
        site=site,
        device=device,
        tables=loaded,
        device_energy_j=None
        if device is None or device.rapid is None
        else energy_joules(device.rapid.energy_table),
        today=now.astimezone(ZoneInfo(site.timezone)).date(),
        percent_rmt=dose.percent_rmt,
        dose_percent_mso=dose.dose_percent_mso,
        percent_amt=dose.percent_amt,
        reference=dose.reference,
        thresholds_used=dose.used,
        depth=dose.depth,
        external_trigger=external_trigger,
    )


def judge(
    ctx: Context,
    *,
    now: datetime,
    history: History | None = None,
    plan: Plan | None = None,
    require_screening: bool = False,
) -> list[Finding]:
    """Every rule family on one context: a pure function of its arguments (the tables
    are in `ctx`; no rule opens a file). Arguments as `evaluate`'s."""
    findings: list[Finding] = [] if ctx.depth is None else [ctx.depth]
    findings += check_intensity(ctx)
    findings += check_age_and_risk(ctx)
    findings += check_train_duration(ctx)
    findings += check_inter_train_interval(ctx)
    findings += check_pulses(ctx)
    findings += check_theta_burst(ctx)
    findings += check_device(ctx)
    findings += check_screening(ctx, required=require_screening)
    findings += check_schedule_allowed(ctx)
    if history is not None:
        findings += check_history(ctx, history, now)
    if plan is not None:
        findings += check_compiled_plan(ctx, plan)
    return findings


def evaluate(
    protocol: Protocol,
    subject: Subject,
    *,
    now: datetime,
    device: DeviceProfile | None = None,
    site: SiteRules | None = None,
    history: History | None = None,
    require_screening: bool = False,
    plan: Plan | None = None,
    external_trigger: bool = False,
    safety_tables: Tables | None = None,
) -> Verdict:
    """Check one session of `protocol` for `subject`; reports all findings.

    Without `device` only device-independent rules apply, plus the 100% MSO ceiling.
    Without `history` the daily and course rules are not evaluated.
    `require_screening`: a missing screening blocks (session start); `stimctl check`
    leaves it off unless a screening file is given.
    `plan`: the compiled plan the session will send; every train of it is checked against
    the figures the rules judged (PLAN-1), and its figures are the verdict's `plan`, from
    which the runtime guard takes its limits.
    `external_trigger`: pulses leave through a hardware trigger line into the unit's
    Trigger In (issue 18), so the serial trigger's rate limit does not apply.
    `safety_tables`: the tables the rules judge by (default: the shipped ones, loaded once
    per process); they reach every rule through the context.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    loaded = tables() if safety_tables is None else safety_tables
    figures = derive(protocol)
    gradient = loaded.limits.intensity.depth_gradient_percent_mso_per_mm.value
    lacking = thresholds.missing(subject, protocol, figures.protocol_class, gradient)
    if lacking:
        # No dose can be computed without the threshold: nothing else can be judged.
        return Verdict.from_findings(
            lacking,
            {
                "name": protocol.name,
                "title": protocol.title,
                **figures.as_dict(),
                "percent_rmt": None,
                "percent_amt": None,
                "threshold": None,
                "dose_percent_mso": None,
                "table_version": loaded.limits.table_version,
            },
        )
    ctx = build_context(
        protocol,
        subject,
        device,
        site or SiteRules(),
        now,
        external_trigger=external_trigger,
        safety_tables=loaded,
    )
    findings = judge(ctx, now=now, history=history, plan=plan, require_screening=require_screening)
    derived = {
        "name": protocol.name,
        "title": protocol.title,
        **ctx.derived.as_dict(),
        "percent_rmt": ctx.percent_rmt,
        "percent_amt": ctx.percent_amt,
        "threshold": None
        if ctx.reference is None
        else ctx.reference.describe() + ("; % of it adjusted for depth" if ctx.depth else ""),
        "dose_percent_mso": round(ctx.dose_percent_mso, 3),
        "table_version": ctx.limits.table_version,
    }
    if plan is not None:
        derived["plan"] = plan_figures(plan)
    return Verdict.from_findings(findings, derived)
