"""Screening answers (safety-limits 5.4 and 9.7, SCR-1..SCR-5).

Absolute contraindications block; relative ones need a physician's override; some
answers are only recorded. Missing or stale screening blocks when screening is required.
"""

from __future__ import annotations

from stimctl.safety.context import Context, find
from stimctl.safety.verdict import Finding, Severity

SCR4_SOURCE = "stimctl proposal (safety-limits 9.7 SCR-4) [P]"
_SEVERITY = {"block": Severity.BLOCK, "override": Severity.OVERRIDE, "record": Severity.ALLOW}


def check_screening(ctx: Context, *, required: bool) -> list[Finding]:
    screening = ctx.subject.screening
    if screening is None:
        if not required:
            return []
        return [
            find("SCR-4", Severity.BLOCK, "no screening on record", source=SCR4_SOURCE),
        ]
    findings = _validity(ctx, required=required)
    table = ctx.tables.screening
    for item_id, answer in sorted(screening.answers.items()):
        item = table.items.get(item_id)
        if item is None or not answer:
            continue
        findings.append(
            find(
                item.rule,
                _SEVERITY[item.on_yes],
                f"screening: yes to '{item.question}'"
                + (" (recorded)" if item.on_yes == "record" else ""),
                value=item_id,
                source=item.source,
            )
        )
    findings += _drugs(ctx)
    return findings


def _validity(ctx: Context, *, required: bool) -> list[Finding]:
    screening = ctx.subject.screening
    assert screening is not None
    validity = 0 if ctx.research else ctx.site.screening_validity_days
    age = (ctx.today - screening.answered_on).days
    if age < 0 or age > validity:
        severity = Severity.BLOCK if required else Severity.OVERRIDE
        return [
            find(
                "SCR-4",
                severity,
                f"screening of {screening.answered_on.isoformat()} is {age} days old "
                f"(valid for {validity} in {ctx.site.mode} mode)",
                value=age,
                limit=validity,
                source=SCR4_SOURCE,
            )
        ]
    return []


def _drugs(ctx: Context) -> list[Finding]:
    screening = ctx.subject.screening
    assert screening is not None
    drugs = ctx.tables.screening.drugs
    strong = {d.lower() for d in drugs.strong_hazard}
    relative = {d.lower() for d in drugs.relative_hazard}
    findings = []
    for medication in screening.medications:
        name = medication.strip().lower()
        if name in strong:
            findings.append(
                find(
                    "SCR-5",
                    Severity.OVERRIDE,
                    f"{medication} lowers the seizure threshold (strong hazard): consider "
                    "re-titrating the intensity",
                    value=medication,
                    source=f"{drugs.source} [{drugs.status}]",
                )
            )
        elif name in relative:
            findings.append(
                find(
                    "SCR-5",
                    Severity.ALLOW,
                    f"{medication} is a relative seizure-threshold hazard (recorded)",
                    value=medication,
                    source=f"{drugs.source} [{drugs.status}]",
                )
            )
    return findings
