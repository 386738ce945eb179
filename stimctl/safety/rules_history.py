"""Daily and course rules (safety-limits 9.4 per-day caps and 9.5, SES-1..SES-9).

Pure functions of the history passed in and of `now`; calendar days are counted in the
site's time zone. There is no published consensus on daily caps or gaps: these rest on
the precedents cited with each limit (safety-limits 8.6).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from stimctl.protocol.derived import is_theta_burst
from stimctl.safety.context import Context, against, find, fmt
from stimctl.safety.inputs import History, PastSession
from stimctl.safety.rules_risk import risk_factors
from stimctl.safety.verdict import Finding, Severity

EPSILON = 1e-9


def check_schedule_allowed(ctx: Context) -> list[Finding]:
    if ctx.protocol.schedule.mode != "accelerated" or ctx.site.accelerated_allowed:
        return []
    rule = "SES-3" if is_theta_burst(ctx.derived.protocol_class) else "SES-2"
    return [
        find(
            rule,
            Severity.BLOCK,
            "accelerated schedule, and this site does not allow accelerated schedules",
            value="accelerated",
            limit="site: accelerated_allowed = false",
            source="site rules (configs/site) [P]",
        )
    ]


def check_history(ctx: Context, history: History, now: datetime) -> list[Finding]:
    tz = ZoneInfo(ctx.site.timezone)
    today = now.astimezone(tz).date()
    delivered = [s for s in history.sessions if s.pulses_delivered > 0]
    todays = [s for s in delivered if _day(s, tz) == today]
    findings = _adverse_events(history)
    findings += _per_day(ctx, todays, delivered, now, tz, today)
    findings += _pulses_today(ctx, todays)
    findings += _course(ctx, history, delivered, now)
    findings += _first_exposures(ctx, delivered)
    return findings


def _day(session: PastSession, tz: ZoneInfo) -> date:
    return session.started_at.astimezone(tz).date()


def _adverse_events(history: History) -> list[Finding]:
    return [
        find(
            "SES-4",
            Severity.BLOCK,
            f"unresolved adverse event on record: {event}; review it before the next session",
            value=event,
            source="stimctl proposal (safety-limits 9.5 SES-4) [P]",
        )
        for event in history.unresolved_adverse_events
    ]


def _per_day(
    ctx: Context,
    todays: list[PastSession],
    delivered: list[PastSession],
    now: datetime,
    tz: ZoneInfo,
    today: date,
) -> list[Finding]:
    sessions = ctx.limits.sessions
    tbs = is_theta_burst(ctx.derived.protocol_class)
    if ctx.protocol.schedule.mode == "standard":
        limit = sessions.conventional_per_day_standard
        if len(todays) + 1 > limit.value + EPSILON:
            return [
                against(
                    "SES-1",
                    Severity.OVERRIDE,
                    f"this would be session {len(todays) + 1} today; the standard schedule "
                    f"is {fmt(limit.value)} per day",
                    len(todays) + 1,
                    limit,
                )
            ]
        return []
    rule = "SES-3" if tbs else "SES-2"
    per_day = (
        sessions.itbs_per_day_accelerated if tbs else sessions.conventional_per_day_accelerated
    )
    findings: list[Finding] = []
    if len(todays) + 1 > per_day.value + EPSILON:
        findings.append(
            against(
                rule,
                Severity.BLOCK,
                f"this would be session {len(todays) + 1} today; at most {fmt(per_day.value)}",
                len(todays) + 1,
                per_day,
            )
        )
    if delivered:
        last = max(delivered, key=lambda s: s.started_at)
        gap_min = (now - (last.ended_at or last.started_at)).total_seconds() / 60.0
        min_gap = sessions.min_gap_minutes_accelerated
        if gap_min < min_gap.value - EPSILON:
            findings.append(
                against(
                    rule,
                    Severity.BLOCK,
                    f"only {fmt(gap_min)} min since the last session; at least "
                    f"{fmt(min_gap.value)} min",
                    round(gap_min, 1),
                    min_gap,
                )
            )
    if tbs:
        days = _consecutive_days(delivered, tz, today)
        max_days = sessions.max_consecutive_days_accelerated
        if days > max_days.value + EPSILON:
            findings.append(
                against(
                    rule,
                    Severity.BLOCK,
                    f"this would be day {days} in a row of accelerated sessions; at most "
                    f"{fmt(max_days.value)}",
                    days,
                    max_days,
                )
            )
    return findings


def _consecutive_days(delivered: list[PastSession], tz: ZoneInfo, today: date) -> int:
    """Length of the run of calendar days with sessions that ends today (today counted)."""
    days = {_day(s, tz) for s in delivered}
    run = 1
    while today - timedelta(days=run) in days:
        run += 1
    return run


def _pulses_today(ctx: Context, todays: list[PastSession]) -> list[Finding]:
    pulses = ctx.limits.pulses
    total = sum(s.pulses_delivered for s in todays) + ctx.derived.total_pulses
    accelerated = ctx.protocol.schedule.mode == "accelerated"
    if is_theta_burst(ctx.derived.protocol_class):
        if not accelerated:
            return []
        rule, limit, severity = "PUL-4", pulses.itbs_day_accelerated, Severity.BLOCK
    elif ctx.derived.protocol_class == "hf-rtms":
        limit = pulses.hf_day_accelerated if accelerated else pulses.hf_day_standard
        rule, severity = "PUL-1", Severity.OVERRIDE
    else:
        return []
    if total > limit.value + EPSILON:
        return [
            against(
                rule,
                severity,
                f"{total} pulses today with this session, more than {fmt(limit.value)}",
                total,
                limit,
            )
        ]
    return []


def _course(
    ctx: Context, history: History, delivered: list[PastSession], now: datetime
) -> list[Finding]:
    done = history.course_sessions
    if done is None:
        return []
    findings: list[Finding] = []
    planned = ctx.protocol.schedule.course_sessions
    if planned is not None and done >= planned:
        findings.append(
            find(
                "SES-COURSE",
                Severity.OVERRIDE,
                f"the course has had {done} sessions of the {planned} prescribed",
                value=done,
                limit=planned,
                source=ctx.protocol.source,
            )
        )
    findings += _course_cap(ctx, done, delivered, now)
    return findings


def _course_cap(
    ctx: Context, done: int, delivered: list[PastSession], now: datetime
) -> list[Finding]:
    course = ctx.limits.course
    protocol = ctx.protocol
    if protocol.indication == "neuropathic-pain":
        if done < course.pain_induction.value or not delivered:
            return []
        last = max(s.started_at for s in delivered)
        gap_days = (now - last).total_seconds() / 86400.0
        min_gap = course.pain_maintenance_min_gap_days
        if gap_days < min_gap.value - EPSILON:
            return [
                against(
                    "SES-8",
                    Severity.OVERRIDE,
                    f"maintenance phase after {done} induction sessions: only "
                    f"{fmt(gap_days)} days since the last session",
                    round(gap_days, 2),
                    min_gap,
                )
            ]
        return []
    if protocol.coil.family == "h-coil":
        rule, cap = "SES-7", course.hcoil_h1
    elif protocol.schedule.mode == "accelerated":
        rule, cap = "SES-6", course.saint
    elif protocol.indication == "depression":
        rule, cap = "SES-5", course.mdd_10hz_or_itbs
    else:
        return []
    if done + 1 > cap.value + EPSILON:
        return [
            against(
                rule,
                Severity.OVERRIDE,
                f"session {done + 1} of the course, beyond the {fmt(cap.value)} studied",
                done + 1,
                cap,
            )
        ]
    return []


def _first_exposures(ctx: Context, delivered: list[PastSession]) -> list[Finding]:
    first = ctx.limits.sessions.first_exposures_checklist
    if len(delivered) >= first.value:
        return []
    factors = risk_factors(ctx)
    if factors:
        # With a risk factor the checklist is signed: the override's operator and reason
        # are the signature, journaled with the session (issue 15 item 5).
        return [
            against(
                "SES-9",
                Severity.OVERRIDE,
                f"session {len(delivered) + 1} of a subject with risk factors "
                f"({', '.join(factors)}): sign the seizure-readiness checklist (staff at the "
                "coil, seizure management ready) as the override",
                len(delivered) + 1,
                first,
            )
        ]
    return [
        against(
            "SES-9",
            Severity.ALLOW,
            f"session {len(delivered) + 1} of a new subject: staff at the coil and a "
            "seizure-management readiness check (checklist)",
            len(delivered) + 1,
            first,
        )
    ]
