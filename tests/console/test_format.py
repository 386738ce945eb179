"""The console's pure pieces: words, countdowns, trend bars, today's findings."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from stimctl.console.format import (
    clock_text,
    expected_end,
    link_text,
    percent_mso_for,
    remaining_s,
    sparkline,
    state_word,
)
from stimctl.console.prestart import todays_findings
from stimctl.safety.verdict import Finding, Severity
from stimctl.session.plan import compile_plan
from stimctl.session.runner import Prepared
from tests.console import frozen
from tests.console.test_console_snapshots import shipped


@pytest.fixture(scope="module")
def prepared() -> Prepared:
    return shipped()


def test_every_state_has_one_distinct_word() -> None:
    words = [
        state_word(s)
        for s in (
            "idle",
            "ready",
            "armed",
            "train",
            "intertrain",
            "paused",
            "stopping",
            "completed",
            "aborted",
            "estopped",
            "fault",
        )
    ]
    assert len(set(words)) == len(words)
    assert state_word("train") == "STIMULATING"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "--:--"), (0, "0:00"), (59.6, "1:00"), (754.0, "12:34"), (3725.0, "1:02:05")],
)
def test_clock_text(seconds: float | None, text: str) -> None:
    assert clock_text(seconds) == text


def test_remaining_time_between_trains_counts_the_wait_and_what_is_planned_after(
    prepared: Prepared,
) -> None:
    plan = compile_plan(prepared.protocol, 55.0, device_timed_trains=True)
    # 40 trains of 5 s every 30 s: from train 3's onset 37 trains remain = 1175 - 90 s.
    between = dataclasses.replace(frozen.TRAIN, state="intertrain", next_train_in_s=12.0)
    assert remaining_s(between, plan, None) == pytest.approx(12.0 + 1175.0 - 90.0)
    during = frozen.TRAIN  # train 3 (0-based index 3) running
    assert remaining_s(during, plan, 2.0) == pytest.approx(1175.0 - 90.0 - 2.0)
    ended = dataclasses.replace(frozen.TRAIN, state="completed")
    assert remaining_s(ended, plan, None) == 0.0


def test_expected_end_adds_the_remaining_time() -> None:
    now = dt.datetime(2026, 11, 24, 9, 59, 30)
    assert expected_end(now, 45.0) == "10:00:15"
    assert expected_end(now, None) == "--:--"


def test_intensity_preview_rounds_down_like_the_engine() -> None:
    assert percent_mso_for(90, 55) == 49  # 49.5 -> 49, never above the checked dose
    assert percent_mso_for(100, 50) == 50


def test_trend_uses_a_fixed_scale_so_small_wobbles_look_flat() -> None:
    assert sparkline([24.0, 24.1, 24.0], 20.0, 40.0, 10) == "▂▂▂"
    assert sparkline([20.0, 30.0, 40.0], 20.0, 40.0, 10) == "▁▅█"
    assert sparkline([45.0], 20.0, 40.0, 10) == "█"  # above the limit: the top bar
    assert len(sparkline([25.0] * 100, 20.0, 40.0, 30)) == 30  # the most recent readings


def test_todays_checks_pick_history_screening_and_rmt_findings() -> None:
    def finding(rule: str, message: str) -> Finding:
        return Finding(rule, Severity.ALLOW, message, None, None, "src")

    picked = todays_findings(
        (
            finding("SES-1", "1 session today <= 1"),
            finding("SCR-4", "screening valid"),
            finding("PUL-7", "2000 pulses today <= 3000"),
            finding("INT-6", "RMT measured 40 days ago"),
            finding("INT-1", "90% RMT within the cap"),
            finding("PUL-6", "2000 pulses per session <= 3000"),
        )
    )
    assert [f.rule for f in picked] == ["SES-1", "SCR-4", "PUL-7", "INT-6"]


def test_link_age_during_a_train_is_not_drawn_as_a_fault() -> None:
    during = dataclasses.replace(frozen.TRAIN, last_reply_age_s=3.0)
    assert link_text(during) == ("reply 3.00 s ago, 0 errors (train)", True)
    between = dataclasses.replace(frozen.TRAIN, state="intertrain", last_reply_age_s=3.0)
    assert link_text(between)[1] is False
    errors = dataclasses.replace(frozen.TRAIN, link_errors=2)
    assert link_text(errors) == ("reply 0.12 s ago, 2 errors", False)
