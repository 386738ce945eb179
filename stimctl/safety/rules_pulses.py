"""Pulses per session by protocol class (safety-limits 9.4, PUL-1..PUL-7).

Exceeding a per-session count is outside what was tested, not shown unsafe: override.
"""

from __future__ import annotations

from stimctl.safety.context import Context, find, fmt
from stimctl.safety.tables import Limit
from stimctl.safety.verdict import Finding, Severity

EPSILON = 1e-9
M1_SITES = frozenset({"M1-hand", "M1-leg", "M1-face"})


def session_cap(ctx: Context) -> tuple[str, float, str] | None:
    """(rule, pulse cap, source) that applies to this protocol, or None."""
    pulses = ctx.limits.pulses
    cls = ctx.derived.protocol_class
    accelerated = ctx.protocol.schedule.mode == "accelerated"
    if ctx.protocol.coil.family == "h-coil":
        env = ctx.tables.hcoil.models.get(ctx.protocol.coil.model or "")
        if env is None:
            return None
        return "PUL-7", float(env.pulses_per_session), f"{env.source} [{env.status}]"
    if cls == "ctbs":
        return _cap("PUL-5", pulses.ctbs_session)
    if cls in ("itbs", "imtbs", "tbs-custom"):
        if accelerated:
            return _cap("PUL-4", pulses.itbs_session_accelerated)
        return _cap("PUL-3", pulses.itbs_session_standard)
    if cls == "lf-rtms":
        if ctx.rmt_percent <= 110.0 + EPSILON:
            return _cap("PUL-2", pulses.lf_session)
        seconds = pulses.lf_seconds_above_110
        cap = seconds.value * ctx.derived.pulse_frequency_hz
        return "PUL-2", cap, f"{seconds.source} [{seconds.status}]"
    pain_m1 = ctx.protocol.indication == "neuropathic-pain" and ctx.protocol.target.site in M1_SITES
    if pain_m1:
        return _cap("PUL-6", pulses.m1_pain_session)
    return _cap("PUL-1", pulses.hf_session)


def _cap(rule: str, limit: Limit) -> tuple[str, float, str]:
    return rule, limit.value, f"{limit.source} [{limit.status}]"


def check_pulses(ctx: Context) -> list[Finding]:
    found = session_cap(ctx)
    total = float(ctx.derived.total_pulses)
    if found is None:
        return []
    rule, cap, source = found
    if total > cap + EPSILON:
        return [
            find(
                rule,
                Severity.OVERRIDE,
                f"{fmt(total)} pulses per session, more than the {fmt(cap)} tested",
                value=total,
                limit=cap,
                source=source,
            )
        ]
    return [
        find(
            rule,
            Severity.ALLOW,
            f"{fmt(total)} pulses per session, within the cap of {fmt(cap)}",
            value=total,
            limit=cap,
            source=source,
        )
    ]
