"""The report can be written before the summary screen is composed (a session that a
serious adverse event ends at once, a loaded machine): setting it then must not fail
(it raised NoMatches for '#facts' and killed the report worker)."""

from __future__ import annotations

from stimctl.console.summary_screen import SummaryScreen
from stimctl.session.summary import Summary


def test_a_report_set_before_the_screen_is_composed_is_kept() -> None:
    summary = Summary(
        session_id="s", status="stopped-adverse-event", reason="seizure", pulses_delivered=20,
        pulses_planned=100, trains_delivered=1, trains_planned=5, duration_s=12.0,
        planned_duration_s=60.0, onset_errors_s=[], alarms=[], journal="j.jsonl",
    )  # fmt: skip
    screen = SummaryScreen(summary, "writing the report...")
    screen.set_report("/reports/s.html")
    assert screen.report == "/reports/s.html"
