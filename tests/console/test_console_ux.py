"""The console's issue 16 items, driven headless with Textual's pilot: events in time
order, the coil trend with its scale and stop limit, "Resume" on the key bar while
paused, the optional audible cue before each train, and the engine's own train
countdown when its snapshot carries one."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from pytest_mock import MockerFixture
from textual.widgets import Static

from stimctl.console.app import ConsoleApp
from stimctl.console.format import in_time_order, train_left_s
from stimctl.session.summary import Snapshot
from tests.console import frozen
from tests.console.harness import FIXED_NOW, live_session
from tests.console.test_console_session import start_and_hold_after_first_train, start_session
from tests.console.test_console_snapshots import SMALL, shipped, start

SHUFFLED = [
    "    0.000  idle -> ready",
    "    5.000  train -> intertrain",
    "    0.000  armed -> train",  # appended late by another thread
    "   30.000  intertrain -> train",
    "   29.500  operator pause",
]


def on_frozen(tmp_path: Path, snapshot: Snapshot) -> dict[str, Any]:
    """Start the console on a fixed snapshot; what the test looks at afterwards."""

    async def main() -> dict[str, Any]:
        engine = frozen.FrozenEngine(shipped(), tmp_path, snapshot)
        app = ConsoleApp(engine, shipped(), wall=lambda: FIXED_NOW, flash=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await start(app, pilot)
            view = app.view
            bar = app.screen.active_bindings
            return {
                "events": str(view.query_one("#events", Static).render()),
                "trend": str(view.query_one("#coil-trend", Static).render()),
                "countdown": str(view.query_one("#countdown", Static).render()),
                "pulses": str(view.query_one("#pulses", Static).render()),
                "space": bar["space"].binding.description if "space" in bar else None,
            }

    return asyncio.run(main())


def test_events_are_shown_in_time_order(tmp_path: Path) -> None:
    seen = on_frozen(tmp_path, dataclasses.replace(frozen.TRAIN, events=SHUFFLED))
    times = [float(line.split()[0]) for line in seen["events"].splitlines()]
    assert times == sorted(times) and len(times) == len(SHUFFLED)


def test_in_time_order_keeps_equal_times_and_untimed_lines_in_place() -> None:
    lines = ["  1.0  a", "  1.0  b", "note without a time", "  0.5  c"]
    assert in_time_order(lines) == ["  0.5  c", "  1.0  a", "  1.0  b", "note without a time"]


def test_the_coil_trend_shows_its_scale_and_stop_limit(tmp_path: Path) -> None:
    trend = on_frozen(tmp_path, frozen.TRAIN)["trend"]
    assert trend.startswith("Trend   20°C ") and trend.rstrip().endswith("40°C stop")
    assert any(bar in trend for bar in "▁▂▃▄▅▆▇█")


def test_the_key_bar_says_resume_while_paused_and_pause_otherwise(tmp_path: Path) -> None:
    assert on_frozen(tmp_path / "a", frozen.TRAIN)["space"] == "Pause"
    paused = dataclasses.replace(frozen.TRAIN, state="paused")
    assert on_frozen(tmp_path / "b", paused)["space"] == "Resume"
    requested = dataclasses.replace(frozen.TRAIN, pause_requested=True)
    assert on_frozen(tmp_path / "c", requested)["space"] == "Resume"


def test_space_pauses_then_the_bar_says_resume_and_space_resumes(tmp_path: Path) -> None:
    async def main() -> None:
        with live_session(tmp_path) as s:
            async with s.app.run_test(size=SMALL) as pilot:
                await pilot.pause()
                await start_and_hold_after_first_train(s, pilot)
                await pilot.pause(0.1)
                assert s.app.screen.active_bindings["space"].binding.description == "Pause"
                await pilot.press("space")
                s.hold_when(lambda snap: snap.state == "paused")
                s.held()
                await pilot.pause(0.2)
                assert s.app.screen.active_bindings["space"].binding.description == "Resume"
                await pilot.press("space")
                s.hold_when(lambda snap: snap.state == "train")
                s.held()
                await pilot.pause(0.2)
                assert s.app.screen.active_bindings["space"].binding.description == "Pause"
                assert s.wait_end().status == "completed"

    asyncio.run(main())


def test_the_audible_cue_rings_once_a_few_seconds_before_a_train(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    async def main() -> None:
        with live_session(tmp_path) as s:
            s.app.cue_s = 3.0
            bell = mocker.spy(s.app, "bell")
            async with s.app.run_test(size=SMALL) as pilot:
                await pilot.pause()
                # hold in the pause after train 1, 2.5 s before train 2 (5 s interval)
                s.hold_when(
                    lambda snap: (
                        snap.state == "intertrain"
                        and snap.trains_delivered == 1
                        and snap.next_train_in_s is not None
                        and snap.next_train_in_s <= 2.5
                    )
                )
                await start_session(s, pilot)
                s.held()
                await pilot.pause(0.3)  # several polls while time stands still
                assert bell.call_count == 1 and s.app.cues_given == 1
                s.wait_end()

    asyncio.run(main())


def test_the_cue_is_off_by_default(tmp_path: Path, mocker: MockerFixture) -> None:
    async def main() -> None:
        with live_session(tmp_path, trains=2) as s:
            assert s.app.cue_s is None
            bell = mocker.spy(s.app, "bell")
            async with s.app.run_test(size=SMALL) as pilot:
                await pilot.pause()
                await start_session(s, pilot)
                s.wait_end()
                await pilot.pause(0.2)
            assert bell.call_count == 0 and s.app.cues_given == 0

    asyncio.run(main())


def test_the_engines_own_train_countdown_is_shown_when_the_snapshot_has_one(
    tmp_path: Path,
) -> None:
    snap = dataclasses.replace(frozen.TRAIN, train_remaining_s=1.25)
    plan = frozen.FrozenEngine(shipped(), tmp_path, snap).plan
    assert train_left_s(snap, plan, train_elapsed_s=0.0) == 1.25
    assert train_left_s(frozen.TRAIN, plan, train_elapsed_s=1.0) == plan.trains[3].duration_s - 1
    seen = on_frozen(tmp_path / "c", snap)
    assert "1.2 s left" in seen["countdown"] or "1.3 s left" in seen["countdown"]


def test_pulses_counted_by_the_clock_say_so(tmp_path: Path) -> None:
    exact = dataclasses.replace(frozen.TRAIN, pulses_estimated=False)
    assert on_frozen(tmp_path / "a", exact)["pulses"] == "Pulses    170 / 2000"
    by_clock = dataclasses.replace(frozen.TRAIN, pulses_estimated=True)
    assert on_frozen(tmp_path / "b", by_clock)["pulses"] == "Pulses    170 / 2000 (by clock)"
