"""Pictures of the main screens, compared with stored SVGs (snapshots/).

The console draws from snapshots only, so a fixed snapshot gives a fixed picture. After
an intended change of the layout, regenerate with

    STIMCTL_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/console/test_console_snapshots.py

and look at the new pictures (docs/screenshots.md turns them into PNGs) before committing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from stimctl.console.app import ConsoleApp
from stimctl.console.live import AlarmBanner
from stimctl.console.summary_screen import SummaryScreen
from stimctl.safety import MotorThreshold, SiteRules, Subject
from stimctl.session.runner import Override, Prepared, prepare
from stimctl.session.summary import Snapshot
from stimctl.session.watchdog import Action, Alarm, Priority
from tests.console import frozen
from tests.console.harness import FIXED_NOW, SMALL_PROTOCOL

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("STIMCTL_UPDATE_SNAPSHOTS") == "1"
SMALL = (80, 24)
LARGE = (160, 48)


def shipped(rmt: float = 55.0) -> Prepared:
    subject = Subject(MotorThreshold(rmt, "emg", dt.date(2026, 11, 20)), subject_id="S-001")
    return prepare(
        "np-m1-10hz-90", subject, "magstim-rapid2-super-plus-240v", site=SiteRules(), now=FIXED_NOW
    )


def needing_override(tmp_path: Path) -> Prepared:
    path = tmp_path / "short-iti.toml"
    text = SMALL_PROTOCOL.format(percent_rmt=90, trains=4).replace(
        "inter_train_interval_s = 5.0", "inter_train_interval_s = 4.0"
    )
    path.write_text(text)
    subject = Subject(MotorThreshold(50.0, "emg", FIXED_NOW.date()), subject_id="S-002")
    return prepare(
        str(path),
        subject,
        "magstim-rapid2-super-plus-240v",
        site=SiteRules(),
        override=Override("dr-lee", "4 s interval approved by the study protocol"),
        now=FIXED_NOW,
    )


def picture(
    tmp_path: Path,
    prepared: Prepared,
    snapshot: Snapshot,
    size: tuple[int, int],
    steps: Callable[[ConsoleApp, Pilot[Any]], Awaitable[None]],
) -> str:
    async def main() -> str:
        engine = frozen.FrozenEngine(prepared, tmp_path, snapshot)
        app = ConsoleApp(
            engine, prepared, operator="nurse-kim", wall=lambda: FIXED_NOW, flash=False
        )
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await steps(app, pilot)
            await pilot.pause()
            return app.export_screenshot(title="stimctl")

    return asyncio.run(main())


def assert_snapshot(svg: str, name: str) -> None:
    path = SNAPSHOTS / f"{name}.svg"
    if UPDATE or not path.exists():
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(svg)
        if not UPDATE:
            pytest.fail(f"{path.name} did not exist: written now, look at it and re-run")
        return
    assert svg == path.read_text(), (
        f"the console no longer looks like {path} (see the module docstring to update)"
    )


async def nothing(app: ConsoleApp, pilot: Pilot[Any]) -> None:
    return None


async def start(app: ConsoleApp, pilot: Pilot[Any]) -> None:
    await pilot.press("space")
    await pilot.press("f5")
    await pilot.pause(0.3)


def test_pre_start_screen(tmp_path: Path) -> None:
    svg = picture(tmp_path, shipped(), frozen.TRAIN, SMALL, nothing)
    assert "Safety verdict: ALLOW" in svg.replace("&#160;", " ")
    assert_snapshot(svg, "prestart_80x24")


def test_pre_start_screen_with_an_override_to_sign(tmp_path: Path) -> None:
    svg = picture(tmp_path, needing_override(tmp_path), frozen.TRAIN, SMALL, nothing)
    assert "OVERRIDE" in svg
    assert_snapshot(svg, "prestart_override_80x24")


def test_pre_start_screen_shows_a_locally_modified_table(tmp_path: Path) -> None:
    from stimctl.config_state import ConfigFile

    edited = ConfigFile("safety table", "safety/limits.toml", "/x/limits.toml", "a" * 64, "b" * 64)
    prepared = dataclasses.replace(shipped(), configs=(edited,))
    svg = picture(tmp_path, prepared, frozen.TRAIN, LARGE, nothing)
    text = svg.replace("&#160;", " ").replace("\xa0", " ")
    assert "locally modified: safety/limits.toml" in text


@pytest.mark.parametrize(("size", "name"), [(SMALL, "live_80x24"), (LARGE, "live_160x48")])
def test_live_session_screen(tmp_path: Path, size: tuple[int, int], name: str) -> None:
    svg = picture(tmp_path, shipped(), frozen.TRAIN, size, start)
    assert "STIMULATING" in svg
    assert_snapshot(svg, name)


def test_medium_alarm(tmp_path: Path) -> None:
    svg = picture(tmp_path, shipped(), frozen.WARM, SMALL, start)
    assert "MEDIUM&#160;DEV-2" in svg
    assert_snapshot(svg, "alarm_medium_80x24")


def test_high_alarm(tmp_path: Path) -> None:
    svg = picture(tmp_path, shipped(), frozen.LINK_LOST, SMALL, start)
    assert "HIGH&#160;DEV-3" in svg
    assert_snapshot(svg, "alarm_high_80x24")


def test_summary_screen(tmp_path: Path) -> None:
    async def show_summary(app: ConsoleApp, pilot: Pilot[Any]) -> None:
        report = "/var/lib/stimctl/reports/20261124T090000Z-0123abcd.html"
        await app.push_screen(SummaryScreen(frozen.SUMMARY, report))

    svg = picture(tmp_path, shipped(), frozen.TRAIN, SMALL, show_summary)
    assert "COMPLETED" in svg
    assert_snapshot(svg, "summary_80x24")


def flashing(tmp_path: Path, snapshot: Snapshot, polls: int) -> tuple[list[bool], list[str]]:
    """Drive the poll by hand (0.25 s apart) and record whether the banner is lit."""

    async def main() -> tuple[list[bool], list[str]]:
        engine = frozen.FrozenEngine(shipped(), tmp_path, snapshot)
        app = ConsoleApp(engine, shipped(), wall=lambda: FIXED_NOW, poll_s=3600.0)
        async with app.run_test(size=SMALL) as pilot:
            await start(app, pilot)
            banner = app.view.query_one(AlarmBanner)
            lit = []
            for _ in range(polls):
                app.poll()
                lit.append(not banner.has_class("flash-off"))
            return lit, sorted(c for c in banner.classes if c.startswith("alarm-"))

    return asyncio.run(main())


def test_a_high_alarm_flashes_at_2_hz_and_a_medium_one_at_half_a_hertz(tmp_path: Path) -> None:
    high, high_classes = flashing(tmp_path / "high", frozen.LINK_LOST, 8)
    assert high_classes == ["alarm-high"]
    assert high == [False, True] * 4  # toggles every 0.25 s poll: 2 Hz
    medium, medium_classes = flashing(tmp_path / "medium", frozen.WARM, 8)
    assert medium_classes == ["alarm-medium"]
    assert medium[:8] == [True, True, True, False, False, False, False, True]  # 1 s on/off


def test_a_low_alarm_is_steady_cyan(tmp_path: Path) -> None:
    low = dataclasses.replace(
        frozen.TRAIN,
        alarms=[Alarm("RMT-AGE", Priority.LOW, "RMT due for a re-check", Action.NONE)],
    )
    lit, classes = flashing(tmp_path, low, 6)
    assert classes == ["alarm-low"]
    assert all(lit)
