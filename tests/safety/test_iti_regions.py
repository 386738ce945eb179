"""Inter-train intervals by sourced region (safety-limits 13.2; issue 15 item 3).

Chen 1997 tested 20 Hz, 110% MT, 1.6 s trains at 5 s intervals [V]. The 5 s rule is
applied only where a source covers the combination (a tested or cleared case, and what
it dominates); elsewhere the interval is "extrapolated" and needs an override in
clinical mode. The seed's subthreshold range (80-90% RMT, 5-10 Hz, 5 s trains, >= 25 s
pauses) stays allowed under a [P] region with its reasoning, since no source was found.
"""

from __future__ import annotations

import pytest

from stimctl.safety import SiteRules
from tests.builders import check, train

# (case, frequency, % RMT, train s, interval s, expected rule, severity, region in message)
CASES = [
    ("Chen 1997 tested case", 20, 110, 1.6, 5.0, "ITI-2", "allow", "CHEN1997"),
    ("dominated by Chen: 10 Hz 100% 1.5 s", 10, 100, 1.5, 6.0, "ITI-2", "allow", "CHEN1997"),
    ("NeuroStar 26 s", 10, 120, 4.0, 26.0, "ITI-2", "allow", "NEUROSTAR"),
    ("NeuroStar 19-minute 11 s", 10, 120, 4.0, 11.0, "ITI-2", "allow", "NEUROSTAR"),
    ("Modirrousta 10 Hz 110% 5 s / 25 s", 10, 110, 5.0, 25.0, "ITI-2", "allow", "MODIRROUSTA"),
    # the seed's subthreshold range: allowed under the [P] region
    ("seed 10 Hz 80% 5 s / 25 s", 10, 80, 5.0, 25.0, "ITI-2", "allow", ""),
    ("seed 5 Hz 90% 5 s / 25 s", 5, 90, 5.0, 25.0, "ITI-2", "allow", ""),
    ("seed 10 Hz 90% 5 s / 40 s", 10, 90, 5.0, 40.0, "ITI-2", "allow", ""),
    ("subthreshold 20 Hz 80% 2 s / 28 s", 20, 80, 2.0, 28.0, "ITI-2", "allow", "SUBTHRESHOLD"),
    ("subthreshold 5 Hz 90% 10 s / 50 s", 5, 90, 10.0, 50.0, "ITI-2", "allow", "SUBTHRESHOLD"),
    # outside every region: extrapolated
    ("10 Hz 100% 4 s / 8 s", 10, 100, 4.0, 8.0, "ITI-EXT", "override", "extrapolated"),
    ("20 Hz 100% 1 s / 10 s (train longer? no: intensity ok, 1 s)", 20, 100, 1.0, 10.0,
     "ITI-2", "allow", "CHEN1997"),
    ("25 Hz 90% 1 s / 30 s: no region above 20 Hz", 25, 90, 1.0, 30.0, "ITI-EXT", "override",
     "extrapolated"),
    ("10 Hz 90% 5 s / 20 s: pause below 25 s", 10, 90, 5.0, 20.0, "ITI-EXT", "override",
     "extrapolated"),
    ("20 Hz 110% 1.6 s / 1 s: Chen's unsafe case", 20, 110, 1.6, 1.0, "ITI-1", "block", ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "hz", "pct", "train_s", "iti", "rule", "severity", "words"), CASES
)
def test_interval_by_region(
    case: str, hz: float, pct: float, train_s: float, iti: float, rule: str, severity: str,
    words: str,
) -> None:  # fmt: skip
    verdict = check(train(hz, pct, train_s, iti))
    finding = next(f for f in verdict.findings if f.rule.startswith("ITI-") and f.rule != "ITI-7")
    assert (finding.rule, finding.severity.value) == (rule, severity), (case, finding.message)
    assert words in finding.message, (case, finding.message)


def test_the_subthreshold_region_is_tagged_proposed_with_its_reasoning() -> None:
    finding = next(f for f in check(train(10, 80, 5.0, 25.0)).findings if f.rule == "ITI-2")
    assert finding.source.endswith("[P]")
    assert "no source" in finding.source and "Chen" in finding.source


def test_a_sourced_region_cites_the_tested_case_and_the_dominance_assumption() -> None:
    finding = next(f for f in check(train(10, 100, 1.5, 6.0)).findings if f.rule == "ITI-2")
    assert "Chen" in finding.source and "dominat" in finding.source


def test_extrapolated_intervals_are_allowed_in_research_mode_with_the_word() -> None:
    verdict = check(train(10, 100, 4.0, 8.0), site=SiteRules(mode="research"))
    finding = next(f for f in verdict.findings if f.rule == "ITI-EXT")
    assert finding.severity.value == "allow" and "extrapolated" in finding.message
