"""Daily and course rules as pure functions of a history (SES-*, per-day PUL-*)."""

from __future__ import annotations

import datetime as dt

from stimctl.safety import History, PastSession, SiteRules
from tests.builders import NOW, check, rules_at, theta_burst, train

FDA = train(10, 120, 4.0, 26.0, 75)
TWICE_DAILY = {"mode": "accelerated", "sessions_per_day": 2, "min_gap_minutes": 50.0}
ACCEL_SITE = SiteRules(accelerated_allowed=True)


def _session(hours_ago: float, pulses: int = 3000, cls: str = "hf-rtms") -> PastSession:
    return PastSession(NOW - dt.timedelta(hours=hours_ago), pulses, cls)


def test_second_standard_session_in_a_day_needs_override() -> None:
    verdict = check(FDA, history=History(sessions=(_session(2),)))
    assert "SES-1" in rules_at(verdict, "override")
    assert "PUL-1" in rules_at(verdict, "override")  # 6000 pulses today > 3000


def test_a_session_yesterday_does_not_count_today() -> None:
    verdict = check(FDA, history=History(sessions=(_session(10),)))  # 23:00 the day before
    assert not {"SES-1", "PUL-1"} & rules_at(verdict, "override")


def test_aborted_session_without_pulses_does_not_count() -> None:
    verdict = check(FDA, history=History(sessions=(_session(1, pulses=0),)))
    assert "SES-1" not in {f.rule for f in verdict.findings}


def test_calendar_day_follows_the_site_time_zone() -> None:
    # 23:30 UTC the day before is 08:30 the same day in Tokyo
    late = PastSession(NOW.replace(hour=0) - dt.timedelta(minutes=30), 3000, "hf-rtms")
    utc = check(FDA, history=History(sessions=(late,)))
    tokyo = check(FDA, history=History(sessions=(late,)), site=SiteRules(timezone="Asia/Tokyo"))
    assert "SES-1" not in {f.rule for f in utc.findings}
    assert "SES-1" in rules_at(tokyo, "override")


def test_accelerated_conventional_third_session_and_short_gap_block() -> None:
    p = train(10, 110, 5.0, 25.0, 60, schedule=TWICE_DAILY)
    third = check(p, site=ACCEL_SITE, history=History(sessions=(_session(6), _session(3))))
    assert "SES-2" in rules_at(third, "block")
    gap = check(p, site=ACCEL_SITE, history=History(sessions=(_session(0.5),)))
    assert "SES-2" in rules_at(gap, "block")
    ok = check(p, site=ACCEL_SITE, history=History(sessions=(_session(1),)))
    assert ok.verdict.value == "allow", ok.findings


def test_accelerated_schedule_blocked_where_the_site_forbids_it() -> None:
    p = train(10, 110, 5.0, 25.0, 60, schedule=TWICE_DAILY)
    assert "SES-2" in rules_at(check(p), "block")


def test_sixth_consecutive_saint_day_blocks() -> None:
    saint = theta_burst(90, trains=60, schedule={"mode": "accelerated", "sessions_per_day": 10})
    days = tuple(_session(24 * d, 1800, "itbs") for d in range(1, 6))
    verdict = check(saint, site=ACCEL_SITE, history=History(sessions=days))
    assert "SES-3" in rules_at(verdict, "block")
    four = check(saint, site=ACCEL_SITE, history=History(sessions=days[:4]))
    assert "SES-3" not in rules_at(four, "block")


def test_unresolved_seizure_blocks_until_reviewed() -> None:
    verdict = check(FDA, history=History(unresolved_adverse_events=("seizure 2026-11-20",)))
    assert "SES-4" in rules_at(verdict, "block")


def test_course_beyond_the_studied_length_needs_override() -> None:
    verdict = check(FDA, history=History(sessions=(_session(48),), course_sessions=36))
    assert "SES-5" in rules_at(verdict, "override")


def test_pain_maintenance_needs_a_week_between_sessions() -> None:
    pain = train(10, 90, 5.0, 25.0, 40, site="M1-hand", indication="neuropathic-pain")
    soon = check(pain, history=History(sessions=(_session(72, 2000),), course_sessions=15))
    assert "SES-8" in rules_at(soon, "override")
    later = check(pain, history=History(sessions=(_session(24 * 8, 2000),), course_sessions=15))
    assert "SES-8" not in {f.rule for f in later.findings}


def test_first_three_sessions_carry_the_checklist() -> None:
    first = check(FDA, history=History())
    assert "SES-9" in rules_at(first, "allow")
    past = tuple(_session(24 * d) for d in range(1, 4))
    assert "SES-9" not in {f.rule for f in check(FDA, history=History(sessions=past)).findings}
