"""Age and patient risk factors (safety-limits 13.4 items 2-3; issue 15 item 5).

AGE-1: below the youngest cleared age for the indication (15 for depression, NeuroStar
K231926; 18 otherwise) a session is research-only: blocked in clinical mode, an override
in research mode. RISK-1: with epilepsy, a brain lesion or a prior seizure on record the
intensity caps are lower (stimctl proposals, see limits.toml [risk]); the duration and
interval rules turn their overrides into blocks (`has_risk_factor`), and the first
sessions need the seizure-readiness checklist signed (SES-9 in rules_history).
"""

from __future__ import annotations

from stimctl.protocol.derived import INTERMITTENT_TBS_CLASSES
from stimctl.safety.context import Context, against, find, fmt
from stimctl.safety.tables import Limit
from stimctl.safety.verdict import Finding, Severity

EPSILON = 1e-9
SCREENING_EPILEPSY_ITEM = "epilepsy_or_seizure"


def risk_factors(ctx: Context) -> tuple[str, ...]:
    """Recorded risk factors, plus epilepsy when the screening says so (Rossi Q1)."""
    found = set(ctx.subject.risk_factors)
    screening = ctx.subject.screening
    if screening is not None and screening.answers.get(SCREENING_EPILEPSY_ITEM):
        found.add("epilepsy")
    return tuple(sorted(found))


def has_risk_factor(ctx: Context) -> bool:
    return bool(risk_factors(ctx))


def check_age_and_risk(ctx: Context) -> list[Finding]:
    return [*_age(ctx), *_risk_caps(ctx)]


def _age(ctx: Context) -> list[Finding]:
    limits = ctx.limits.age
    cleared = (
        limits.min_cleared_years_depression
        if ctx.protocol.indication == "depression"
        else limits.min_cleared_years_other
    )
    age = ctx.subject.age_on(ctx.today)
    if age is None:
        # Not yet required of every subject (records before issue 15 have no age): said,
        # not silently skipped.
        return [
            find(
                "AGE-1",
                Severity.ALLOW,
                "age not on record: the cleared-age check was not done "
                "(stimctl subject edit ID --birth-date YYYY-MM-DD)",
                source="stimctl [P]",
            )
        ]
    if age >= cleared.value - EPSILON:
        return [
            against(
                "AGE-1",
                Severity.ALLOW,
                f"age {int(age)} is at or above the youngest cleared age "
                f"({fmt(cleared.value)}) for {ctx.protocol.indication}",
                round(age, 2),
                cleared,
            )
        ]
    severity = Severity.OVERRIDE if ctx.research else Severity.BLOCK
    return [
        against(
            "AGE-1",
            severity,
            f"age {int(age)} is below the youngest cleared age ({fmt(cleared.value)}) for "
            f"{ctx.protocol.indication}: research only, with an override",
            round(age, 2),
            cleared,
        )
    ]


def _risk_caps(ctx: Context) -> list[Finding]:
    factors = risk_factors(ctx)
    if not factors:
        return []
    risk = ctx.limits.risk
    cls = ctx.derived.protocol_class
    pct = ctx.percent_rmt
    which = ", ".join(factors)
    if pct is None or ctx.protocol.coil.family == "h-coil":
        cap: Limit | None = None
    elif cls == "ctbs":
        if pct >= risk.ctbs_block_from_percent_rmt.value - EPSILON:
            return [_over(f"cTBS at {fmt(pct)}% RMT", pct, risk.ctbs_block_from_percent_rmt, which)]
        cap = None
    elif cls in INTERMITTENT_TBS_CLASSES:
        cap = risk.itbs_cap_percent_rmt
    else:
        cap = risk.conventional_cap_percent_rmt
    if cap is not None and pct is not None and pct > cap.value + EPSILON:
        return [_over(f"{fmt(pct)}% RMT", pct, cap, which)]
    return [
        find(
            "RISK-1",
            Severity.ALLOW,
            f"risk factors on record ({which}): lower caps apply; '>' cells and extrapolated "
            "intervals block; the first sessions need the seizure-readiness checklist",
            value=which,
            source="Lerner et al. 2019, Clin Neurophysiol 130:1409 (risk rises with epilepsy "
            "and brain lesions; seizures cluster in the first exposures) [V]",
        )
    ]


def _over(what: str, pct: float, cap: Limit, which: str) -> Finding:
    return against(
        "RISK-1",
        Severity.BLOCK,
        f"{what} with risk factors on record ({which}): above the lowered cap of "
        f"{fmt(cap.value)}% RMT",
        pct,
        cap,
    )
