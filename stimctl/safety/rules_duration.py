"""Single-train duration (Wassermann 1998 / Rossi 2009 table) and H-coil label envelopes.

Lookup conventions (safety-limits 9): intensity rounds up to the next column (below the
first column: the first column); frequency takes the next higher row; above the last
row or column there are no data. Numeric cells are observed limits (exceed -> block);
'>' cells are the longest tested durations (exceed -> override).
"""

from __future__ import annotations

from stimctl.protocol.models import ThetaBurstPattern
from stimctl.safety.context import Context, against, find, fmt
from stimctl.safety.inputs import limb_of
from stimctl.safety.rules_risk import has_risk_factor, risk_factors
from stimctl.safety.tables import DurationCell, DurationTable
from stimctl.safety.verdict import Finding, Severity

RULE = "WASS1998_T4"
EPSILON = 1e-9


def lookup(
    table: DurationTable, frequency_hz: float, percent_rmt: float
) -> tuple[DurationCell, float, float] | None:
    """The governing cell, its row frequency and its column intensity; None if off-table."""
    row = next((i for i, f in enumerate(table.frequencies_hz) if frequency_hz <= f + EPSILON), None)
    col = next(
        (i for i, p in enumerate(table.intensities_percent) if percent_rmt <= p + EPSILON), None
    )
    if row is None or col is None:
        return None
    return table.cells[row][col], table.frequencies_hz[row], table.intensities_percent[col]


def check_train_duration(ctx: Context) -> list[Finding]:
    if isinstance(ctx.protocol.pattern, ThetaBurstPattern):
        return []  # the table does not cover TBS; TBS rules apply instead
    if ctx.protocol.coil.family == "h-coil":
        return check_hcoil_envelope(ctx)
    table = ctx.tables.duration
    frequency = ctx.derived.pulse_frequency_hz
    train_s = ctx.derived.train_duration_s
    bounds = ctx.limits.duration_table
    off_table = Severity.OVERRIDE if ctx.research else Severity.BLOCK
    if frequency > bounds.max_frequency_hz.value + EPSILON:
        return [
            against(
                RULE,
                off_table,
                f"{fmt(frequency)} Hz is above the table's highest row: no safety data",
                frequency,
                bounds.max_frequency_hz,
            )
        ]
    if ctx.rmt_percent > bounds.max_percent_rmt.value + EPSILON:
        return [
            against(
                RULE,
                Severity.BLOCK,
                f"{fmt(ctx.rmt_percent)}% RMT is above the table's highest column",
                ctx.rmt_percent,
                bounds.max_percent_rmt,
            )
        ]
    found = lookup(table, frequency, ctx.rmt_percent)
    assert found is not None  # both bounds were checked above
    cell, row_hz, col_pct = found
    scale = bounds.conservative_scale.value if ctx.site.conservative_duration_table else 1.0
    limit_s = cell.seconds * scale
    where = f"{fmt(row_hz)} Hz row, {fmt(col_pct)}% column"
    if ctx.rmt_percent < table.intensities_percent[0] - EPSILON:
        where += f" (read for {fmt(ctx.rmt_percent)}% RMT: below the first column)"
    elif abs(frequency - row_hz) > EPSILON or abs(ctx.rmt_percent - col_pct) > EPSILON:
        where += " (rounded up to the next row or column)"
    prefix = ">" if cell.tested_only else ""
    if cell.envelope:
        where += (
            f"; envelope of Table 4: published {prefix}{fmt(cell.published)} s, lowered to "
            f"{prefix}{fmt(cell.seconds)} s by a lower intensity's cell"
        )
    source = _cell_source(table, row_hz, cell) + (
        " x 0.75 (Chen 1997 -25%) [P]" if scale != 1.0 else ""
    )
    if train_s <= limit_s + EPSILON:
        severity = Severity.ALLOW
        # Words, not "5 s <= >5 s": a ">5 s" cell is the longest train tested, not a limit.
        bound = (
            f"the longest train tested without adverse effects ({fmt(limit_s)} s; "
            "Table 4 prints >" + f"{fmt(limit_s)} s)"
            if cell.tested_only
            else f"the {fmt(limit_s)} s limit"
        )
        message = f"train of {fmt(train_s)} s is within {bound} ({where})"
    elif cell.tested_only:
        risky = has_risk_factor(ctx)
        severity = Severity.BLOCK if risky else Severity.OVERRIDE
        message = (
            f"train {fmt(train_s)} s is longer than the longest tested "
            f"{prefix}{fmt(limit_s)} s ({where}): not shown unsafe, not tested"
            + (
                f"; blocked with risk factors on record ({', '.join(risk_factors(ctx))})"
                if risky
                else ""
            )
        )
    else:
        severity = Severity.BLOCK
        message = (
            f"train {fmt(train_s)} s exceeds the {fmt(limit_s)} s limit ({where}): "
            "spread of excitation was observed beyond it"
        )
    return [find(RULE, severity, message, value=train_s, limit=limit_s, source=source)]


def _cell_source(table: DurationTable, row_hz: float, cell: DurationCell) -> str:
    """The row's source with this cell's own tag: [E] for an envelope cell (with the
    published table's tag), the anchor for a cell verified independently."""
    row_source = table.row_sources[table.frequencies_hz.index(row_hz)]
    base = row_source.rsplit(" [", 1)[0]
    if cell.envelope:
        return f"{base} [R]; envelope of Table 4 (running minimum, safety-limits 9.1) [E]"
    if cell.anchor:
        return f"{base}; this cell: {cell.anchor} [{cell.status}]"
    return f"{base} [{cell.status}]"


def check_hcoil_envelope(ctx: Context) -> list[Finding]:
    """H-coils: the Wassermann table does not apply; check the coil's label envelope."""
    model = ctx.protocol.coil.model
    envelopes = ctx.tables.hcoil.models
    if model is None or model not in envelopes:
        known = ", ".join(sorted(envelopes))
        return [
            find(
                "INT-4",
                Severity.OVERRIDE,
                f"no label envelope for H-coil model {model or '(none given)'} (known: {known})",
                value=model or "",
                source="safety-limits 8.1: key limit tables by coil family",
            )
        ]
    env = envelopes[model]
    source = f"{env.source} [{env.status}]"
    findings: list[Finding] = []
    muscle = ctx.protocol.intensity.muscle
    if limb_of(muscle) != env.threshold_limb:
        return [
            find(
                "INT-4",
                Severity.BLOCK,
                f"the {model} label cap is in % of a {env.threshold_limb} motor threshold; "
                f"this protocol's intensity refers to a {limb_of(muscle)} threshold "
                "(set intensity.muscle)",
                value=muscle,
                limit=env.threshold_limb,
                source=source,
            )
        ]
    if ctx.rmt_percent > env.max_percent_rmt + EPSILON:
        findings.append(
            find(
                "INT-4",
                Severity.BLOCK,
                f"{fmt(ctx.rmt_percent)}% RMT is above the {model} label cap",
                value=ctx.rmt_percent,
                limit=env.max_percent_rmt,
                source=source,
            )
        )
    checks = [
        ("frequency", ctx.derived.pulse_frequency_hz, env.frequency_hz, "Hz", True),
        ("train duration", ctx.derived.train_duration_s, env.train_duration_s, "s", True),
        ("pulses per session", float(ctx.derived.total_pulses), env.pulses_per_session, "", True),
    ]
    iti = ctx.derived.inter_train_interval_s
    if iti is not None:
        checks.append(("inter-train interval", iti, env.inter_train_interval_s, "s", False))
    # H-coils seize more often than figure-8 coils (Taylor 2021: 5.56 vs 0.14 per 1000
    # patients [V]): outside the label envelope is a block in clinical mode [P].
    outside_severity = Severity.OVERRIDE if ctx.research else Severity.BLOCK
    for what, value, limit, unit, upper in checks:
        outside = value > limit + EPSILON if upper else value < limit - EPSILON
        if outside:
            relation = "above" if upper else "below"
            findings.append(
                find(
                    "HCOIL-ENV",
                    outside_severity,
                    f"{what} {fmt(value)}{unit} is {relation} the {model} label envelope"
                    + ("" if ctx.research else " (H-coils: a block in clinical mode)"),
                    value=value,
                    limit=limit,
                    source=f"{source}; Taylor et al. 2021, Brain Stimul 14:965 (H-coil seizure "
                    "rate 5.56 vs 0.14 per 1000 patients) [V]; block in clinical mode [P]",
                )
            )
    if not findings:
        findings.append(
            find(
                "INT-4",
                Severity.ALLOW,
                f"within the {model} label envelope",
                value=ctx.rmt_percent,
                limit=env.max_percent_rmt,
                source=source,
            )
        )
    return findings
