"""Dialog rules that need no real session: what a key sends, and what it must not."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from stimctl.console.app import ConsoleApp
from stimctl.console.dialogs import IntensityDialog
from tests.console import frozen
from tests.console.harness import FIXED_NOW
from tests.console.test_console_snapshots import SMALL, shipped, start

Steps = Callable[[ConsoleApp, Pilot[Any]], Awaitable[None]]


def drive(tmp_path: Path, steps: Steps) -> frozen.FrozenEngine:
    async def main() -> frozen.FrozenEngine:
        engine = frozen.FrozenEngine(shipped(), tmp_path, frozen.TRAIN)
        app = ConsoleApp(engine, shipped(), wall=lambda: FIXED_NOW, poll_s=3600.0)
        async with app.run_test(size=SMALL) as pilot:
            await start(app, pilot)
            await steps(app, pilot)
        return engine

    return asyncio.run(main())


def test_enter_never_sends_an_increase_only_the_confirm_button_does(tmp_path: Path) -> None:
    async def steps(app: ConsoleApp, pilot: Pilot[Any]) -> None:
        await pilot.press("plus")
        dialog = app.screen
        assert isinstance(dialog, IntensityDialog)
        assert dialog.query_one("#percent", Input).value == "95"
        dialog.query_one("#reason", Input).focus()
        await pilot.press(*"no response", "enter")
        assert app.screen is dialog  # still open: Enter only moved to the button
        assert not [c for c in app.engine.commands if c.startswith("intensity")]  # type: ignore[attr-defined]
        await pilot.press("enter")  # on the focused Confirm INCREASE button
        assert app.screen is not dialog

    engine = drive(tmp_path, steps)
    assert engine.commands == ["intensity 95"]


def test_a_decrease_is_sent_with_enter(tmp_path: Path) -> None:
    async def steps(app: ConsoleApp, pilot: Pilot[Any]) -> None:
        await pilot.press("minus")
        app.screen.query_one("#reason", Input).focus()
        await pilot.press(*"headache", "enter")

    assert drive(tmp_path, steps).commands == ["intensity 85"]


def test_an_intensity_change_needs_a_reason(tmp_path: Path) -> None:
    async def steps(app: ConsoleApp, pilot: Pilot[Any]) -> None:
        await pilot.press("minus")
        await pilot.click("#send")
        assert isinstance(app.screen, IntensityDialog)
        assert "reason is required" in str(app.screen.query_one("#problem").render())

    assert drive(tmp_path, steps).commands == []


def test_a_value_that_is_not_a_number_is_refused_not_clipped(tmp_path: Path) -> None:
    async def steps(app: ConsoleApp, pilot: Pilot[Any]) -> None:
        await pilot.press("minus")
        app.screen.query_one("#percent", Input).value = "eighty"
        app.screen.query_one("#reason", Input).value = "typo"
        await pilot.click("#send")
        assert "positive number" in str(app.screen.query_one("#problem").render())

    assert drive(tmp_path, steps).commands == []


def test_keys_go_to_the_engine(tmp_path: Path) -> None:
    async def steps(app: ConsoleApp, pilot: Pilot[Any]) -> None:
        await pilot.press("space", "s", "k")

    assert drive(tmp_path, steps).commands == ["pause", "stop", "acknowledge"]
