"""Course rules true to the seed review (safety-limits 13.2; issue 15 item 4).

Bai et al. 2023 (Front Immunol 14:1172293, section 2): "once a day for 10-15 consecutive
days"; Attal et al. 2021 (Brain 144:3328) gave 15 sessions. Up to 15 daily induction
sessions run without a warning; the 16th daily session is maintenance and needs the
weekly gap (Hodaj et al. 2015).
"""

from __future__ import annotations

import datetime as dt

import pytest

from stimctl.safety import History, PastSession
from stimctl.safety.tables import limits
from tests.builders import NOW, check, rules_at, train

PAIN = train(10, 90, 5.0, 25.0, 40, site="M1-hand", indication="neuropathic-pain")


def _yesterday() -> PastSession:
    return PastSession(NOW - dt.timedelta(hours=24), 2000, "hf-rtms")


def test_pain_induction_limit_is_the_seeds_15_sessions() -> None:
    induction = limits().course.pain_induction
    assert induction.value == 15
    assert "Bai" in induction.source and "Attal" in induction.source


@pytest.mark.parametrize("done", range(1, 15))
def test_daily_sessions_up_to_the_15th_need_no_override(done: int) -> None:
    verdict = check(PAIN, history=History(sessions=(_yesterday(),), course_sessions=done))
    assert "SES-8" not in {f.rule for f in verdict.findings}, done
    assert verdict.verdict.value == "allow"


def test_the_16th_daily_session_is_maintenance_and_needs_the_weekly_gap() -> None:
    verdict = check(PAIN, history=History(sessions=(_yesterday(),), course_sessions=15))
    assert "SES-8" in rules_at(verdict, "override")
