"""Theta-burst patterns (safety-limits 9.6, TBS-1..TBS-4).

TBS-5 (the device cannot deliver the burst frequency at the output) is a device rule.
"""

from __future__ import annotations

from stimctl.protocol.models import ThetaBurstPattern
from stimctl.safety.context import Context, find, fmt
from stimctl.safety.verdict import Finding, Severity

HUANG_2005 = "Huang et al. 2005, Neuron 45:201-206 [R]"
WU_2012 = "Wu et al. 2012, J Neurosci Methods 208:161-164 [V]"
CTBS_MAX_S = 40.0


def check_theta_burst(ctx: Context) -> list[Finding]:
    pattern = ctx.protocol.pattern
    if not isinstance(pattern, ThetaBurstPattern):
        return []
    return [_burst(pattern), *_timing(ctx, pattern)]


def _burst(p: ThetaBurstPattern) -> Finding:
    period = fmt(1 / p.burst_rate_hz)
    shape = f"{p.pulses_per_burst} pulses at {fmt(p.burst_frequency_hz)} Hz every {period} s"
    if p.pulses_per_burst == 3 and p.burst_frequency_hz == 50.0 and p.burst_rate_hz == 5.0:
        return find("TBS-1", Severity.ALLOW, f"standard burst: {shape}", source=HUANG_2005)
    if p.pulses_per_burst == 3 and p.burst_frequency_hz == 30.0 and p.burst_rate_hz in (5.0, 6.0):
        return find("TBS-2", Severity.ALLOW, f"30 Hz burst variant: {shape}", source=WU_2012)
    return find(
        "TBS-3",
        Severity.OVERRIDE,
        f"custom burst pattern ({shape}): not a published TBS pattern",
        value=shape,
        source="stimctl proposal (safety-limits 9.6) [P]",
    )


def _timing(ctx: Context, p: ThetaBurstPattern) -> list[Finding]:
    cls = ctx.derived.protocol_class
    if cls == "ctbs":
        if p.train_duration_s > CTBS_MAX_S:
            return [
                find(
                    "TBS-4",
                    Severity.OVERRIDE,
                    f"cTBS for {fmt(p.train_duration_s)} s, longer than the standard 40 s",
                    value=p.train_duration_s,
                    limit=CTBS_MAX_S,
                    source=HUANG_2005,
                )
            ]
        return []
    if cls == "tbs-custom":
        on_off = f"{fmt(p.train_duration_s)} s on / {fmt(p.inter_train_interval_s or 0)} s off"
        return [
            find(
                "TBS-4",
                Severity.OVERRIDE,
                f"intermittent TBS {on_off}: not the published 2 s / 8 s (iTBS) or 5 s / 10 s",
                value=on_off,
                limit="2 s / 8 s",
                source=HUANG_2005,
            )
        ]
    return []
