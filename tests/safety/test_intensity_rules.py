"""Intensity caps, RMT quality and absolute dosing (INT-1..INT-7, INT-MSO)."""

from __future__ import annotations

import datetime as dt

import pytest

from stimctl.device_profiles import load_profile
from stimctl.protocol.models import Protocol
from stimctl.safety import SiteRules
from tests.builders import TODAY, check, rules_at, subject, theta_burst, train

RESEARCH = SiteRules(mode="research")


@pytest.mark.parametrize(
    ("pct", "site", "expected"),
    [
        (120, SiteRules(), "allow"),
        (121, SiteRules(), "block"),
        (150, RESEARCH, "override"),
        (221, RESEARCH, "block"),
    ],
)
def test_conventional_cap_by_mode(pct: float, site: SiteRules, expected: str) -> None:
    verdict = check(train(1, pct, 5.0, None, 1), site=site)
    assert next(f for f in verdict.findings if f.rule == "INT-1").severity.value == expected


@pytest.mark.parametrize(
    ("pct", "expected"), [(80, "override"), (99, "override"), (100, "block"), (101, "block")]
)
def test_ctbs_bands_in_rmt_without_an_amt(pct: float, expected: str) -> None:
    # % RMT cannot be compared with Huang's 80% AMT; at or above 100% RMT blocked
    # (safety-limits 13.2; the AMT cases are in test_thresholds.py)
    verdict = check(theta_burst(pct, 40.0, None, 1))
    assert next(f for f in verdict.findings if f.rule == "INT-3").severity.value == expected


def test_visual_threshold_needs_override_at_or_above_100_percent() -> None:
    verdict = check(train(10, 100, 4.0, 26.0), subject=subject(method="visual"))
    assert "INT-6" in rules_at(verdict, "override")
    below = check(train(10, 90, 4.0, 26.0), subject=subject(method="visual"))
    assert "INT-6" not in {f.rule for f in below.findings}


def test_stale_threshold_overrides_in_clinic_and_blocks_in_research() -> None:
    old = subject(measured_on=TODAY - dt.timedelta(days=8))
    assert "INT-7" in rules_at(check(train(10, 100, 4.0, 26.0), subject=old), "override")
    yesterday = subject(measured_on=TODAY - dt.timedelta(days=1))
    research = check(train(10, 100, 4.0, 26.0), subject=yesterday, site=RESEARCH)
    assert "INT-7" in rules_at(research, "block")
    week = subject(measured_on=TODAY - dt.timedelta(days=7))
    assert "INT-7" not in {f.rule for f in check(train(10, 100, 4.0, 26.0), subject=week).findings}


def test_threshold_from_another_device_is_flagged() -> None:
    verdict = check(
        train(10, 100, 4.0, 26.0),
        subject=subject(device="magpro-x100"),
        device=load_profile("magstim-rapid2-super-240v"),
    )
    assert "INT-7" in rules_at(verdict, "override")


def test_threshold_from_the_future_blocks() -> None:
    future = subject(measured_on=TODAY + dt.timedelta(days=1))
    assert "INT-7" in rules_at(check(train(10, 100, 4.0, 26.0), subject=future), "block")


def _absolute(percent_mso: float) -> Protocol:
    base = train(10, 100, 4.0, 26.0)
    return base.model_copy(
        update={
            "intensity": base.intensity.model_copy(
                update={"percent_rmt": None, "percent_mso": percent_mso}
            )
        }
    )


def test_absolute_mso_dosing_only_in_research_mode() -> None:
    clinical = check(_absolute(55.0), subject=subject(rmt=55.0))
    assert "INT-MSO" in rules_at(clinical, "block")
    research = check(_absolute(55.0), subject=subject(rmt=55.0), site=RESEARCH)
    assert "INT-MSO" in rules_at(research, "allow")
    assert research.derived["percent_rmt"] == pytest.approx(100.0)


def test_itbs_cap() -> None:
    assert "INT-2" in rules_at(check(theta_burst(120)), "allow")
    assert "INT-2" in rules_at(check(theta_burst(121)), "block")
