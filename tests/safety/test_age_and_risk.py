"""Age and patient risk factors (safety-limits 13.4 items 2-3; issue 15 item 5).

Youngest cleared age: 15 for depression (NeuroStar 510(k) K231926 [V]), 18 for the rest
[P]. Below it a session is research-only: blocked in clinical mode, an override in
research mode. With epilepsy, a brain lesion or a prior seizure on record, '>' cells and
extrapolated intervals block, the intensity caps are lower [P], and the first sessions
need the signed seizure-readiness checklist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from stimctl.safety import History, MotorThreshold, PastSession, SiteRules, Subject
from stimctl.safety.tables import limits
from tests.builders import NOW, TODAY, check, clean_screening, theta_burst, train

RESEARCH = SiteRules(mode="research")
FDA = train(10, 120, 4.0, 26.0, 75)
PAIN = train(10, 90, 5.0, 25.0, 40, site="M1-hand", indication="neuropathic-pain")


def subject(**details: object) -> Subject:
    base = Subject(MotorThreshold(50.0, "emg", TODAY), clean_screening())
    return replace(base, **details)  # type: ignore[arg-type]


def born_years_ago(years: int, days: int = 0) -> dt.date:
    return TODAY.replace(year=TODAY.year - years) - dt.timedelta(days=days)


# (case, protocol, subject details, site, expected AGE-1 severity)
AGE_CASES = [
    ("depression at 15 (NeuroStar adolescents)", FDA, {"birth_date": born_years_ago(15)},
     SiteRules(), "allow"),
    ("depression at 14 years 364 days", FDA, {"birth_date": born_years_ago(15) +
     dt.timedelta(days=1)}, SiteRules(), "block"),
    ("depression at 14, research mode", FDA, {"birth_date": born_years_ago(14)}, RESEARCH,
     "override"),
    ("pain at 17: adults only", PAIN, {"birth_date": born_years_ago(17)}, SiteRules(), "block"),
    ("pain at 18", PAIN, {"birth_date": born_years_ago(18)}, SiteRules(), "allow"),
    ("age known (16 a year ago) is 17 today: depression ok", FDA,
     {"age_years": 16.0, "age_recorded_on": TODAY - dt.timedelta(days=366)}, SiteRules(),
     "allow"),
    ("age 14 given today", FDA, {"age_years": 14.0, "age_recorded_on": TODAY}, SiteRules(),
     "block"),
    ("no age on record: said, not checked", FDA, {}, SiteRules(), "allow"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "protocol", "details", "site", "expected"), AGE_CASES)
def test_age_against_the_youngest_cleared_age(
    case: str, protocol: object, details: dict[str, object], site: SiteRules, expected: str
) -> None:
    verdict = check(protocol, subject=subject(**details), site=site)  # type: ignore[arg-type]
    finding = next(f for f in verdict.findings if f.rule == "AGE-1")
    assert finding.severity.value == expected, (case, finding.message)
    if not details:
        assert "not on record" in finding.message
    else:
        assert "K231926" in finding.source or finding.source.endswith("[P]"), finding.source


def test_the_cleared_ages_cite_their_sources() -> None:
    age = limits().age
    assert age.min_cleared_years_depression.value == 15
    assert "K231926" in age.min_cleared_years_depression.source
    assert age.min_cleared_years_other.value == 18
    assert age.min_cleared_years_other.status == "P"


EPILEPSY = {"risk_factors": ("epilepsy",)}
LESION = {"risk_factors": ("brain-lesion",)}
SEIZURE = {"risk_factors": ("prior-seizure",)}

# (case, protocol, subject details, rule, expected severity without, with the risk factor)
RISK_CASES = [
    ("'>5 s' cell exceeded: 10 Hz 80% 10 s trains", train(10, 80, 10.0, 50.0, 20),
     "WASS1998_T4", "override", "block"),
    ("'>360 s' exceeded: 1 Hz 120% 1200 pulses", train(1, 120, 1200.0, None, 1),
     "WASS1998_T4", "override", "block"),
    ("extrapolated interval: 10 Hz 100% 4 s / 8 s", train(10, 100, 4.0, 8.0),
     "ITI-EXT", "override", "block"),
    ("conventional 120% RMT: above the 110% risk cap", FDA, "RISK-1", None, "block"),
    ("conventional 110% RMT: at the risk cap", train(10, 110, 5.0, 25.0, 60), "RISK-1",
     None, "allow"),
    ("iTBS 120% RMT: above the 100% risk cap", theta_burst(120), "RISK-1", None, "block"),
    ("cTBS 90% RMT: at the lowered 90% block", theta_burst(90, 40.0, None, 1), "RISK-1",
     None, "block"),
]  # fmt: skip


@pytest.mark.parametrize(
    "factor", [EPILEPSY, LESION, SEIZURE], ids=["epilepsy", "lesion", "seizure"]
)
@pytest.mark.parametrize(("case", "protocol", "rule", "without", "with_risk"), RISK_CASES)
def test_risk_factors_make_the_rules_stricter(
    case: str,
    protocol: object,
    rule: str,
    without: str | None,
    with_risk: str,
    factor: dict[str, object],
) -> None:
    plain = check(protocol, subject=subject())  # type: ignore[arg-type]
    risky = check(protocol, subject=subject(**factor))  # type: ignore[arg-type]
    found = [f for f in plain.findings if f.rule == rule]
    assert (found[0].severity.value if found else None) == without, case
    finding = next(f for f in risky.findings if f.rule == rule)
    assert finding.severity.value == with_risk, (case, finding.message)


def test_a_yes_to_the_epilepsy_screening_question_is_a_risk_factor() -> None:
    screened = subject(screening=clean_screening(epilepsy_or_seizure=True))
    verdict = check(train(10, 100, 4.0, 8.0), subject=screened)
    assert next(f for f in verdict.findings if f.rule == "ITI-EXT").severity.value == "block"


def test_risk_caps_are_proposals_with_reasons() -> None:
    risk = limits().risk
    for cap in (risk.conventional_cap_percent_rmt, risk.itbs_cap_percent_rmt):
        assert cap.status == "P" and "Lerner" in cap.source


def _past(n: int) -> History:
    return History(
        sessions=tuple(
            PastSession(NOW - dt.timedelta(days=i + 1), 2000, "hf-rtms") for i in range(n)
        )
    )


@pytest.mark.parametrize(("done", "expected"), [(0, "override"), (2, "override"), (3, None)])
def test_first_sessions_with_a_risk_factor_need_the_signed_checklist(
    done: int, expected: str | None
) -> None:
    verdict = check(PAIN, subject=subject(**LESION), history=_past(done))
    found = [f for f in verdict.findings if f.rule == "SES-9"]
    assert (found[0].severity.value if found else None) == expected
    if found:
        assert "seizure-readiness checklist" in found[0].message


def test_first_sessions_without_a_risk_factor_only_note_the_checklist() -> None:
    verdict = check(PAIN, subject=subject(), history=_past(0))
    assert next(f for f in verdict.findings if f.rule == "SES-9").severity.value == "allow"
