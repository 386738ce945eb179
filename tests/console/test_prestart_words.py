"""The pre-start screen shows the protocol's layout, and its checklist speaks in words
(issue 16): frequency, pulses per train, pause, trains and duration; ticked and unticked
differ in text, not only in colour; F5 while unticked says what is missing."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Checkbox, Footer, Label

from stimctl.console.app import ConsoleApp
from stimctl.console.prestart import TICKED, UNTICKED, PreStartScreen
from tests.console import frozen
from tests.console.test_console_snapshots import LARGE, picture, shipped


def test_pre_start_facts_show_the_pattern_and_duration() -> None:
    screen = PreStartScreen(shipped(), None, "nurse-kim")
    out = StringIO()
    Console(file=out, width=120).print(screen._facts(4, 90.0))
    text = out.getvalue()
    assert "Pattern    40 train(s) of 50 pulses at 10 Hz (5 s), 25 s pauses" in text
    assert "Duration   2000 pulses in 19 min 35 s" in text


def test_the_checklist_says_ticked_or_not_and_f5_says_what_is_missing(tmp_path: Path) -> None:
    seen: dict[str, str] = {}

    async def steps(app: ConsoleApp, pilot: Pilot[Any]) -> None:
        box = app.screen.query_one("#checked", Checkbox)
        seen["before"] = str(box.label)
        await pilot.press("f5")
        await pilot.pause()
        seen["problem"] = str(app.screen.query_one("#problem", Label).render())
        seen["started"] = str(app.started)
        await pilot.press("space")
        await pilot.pause()
        seen["after"] = str(box.label)
        seen["problem_after"] = str(app.screen.query_one("#problem", Label).render())

    picture(tmp_path, shipped(), frozen.TRAIN, LARGE, steps)
    assert seen["before"] == UNTICKED and UNTICKED.startswith("NOT CHECKED:")
    assert seen["after"] == TICKED and TICKED.startswith("CHECKED:")
    assert seen["started"] == "False"
    assert "tick the pre-session check first" in seen["problem"]
    assert seen["problem_after"] == ""


def test_what_f5_says_is_on_screen_above_the_key_bar(tmp_path: Path) -> None:
    """The message used to sit on the footer's row (two widgets docked at the bottom
    overlap in Textual): the operator pressed F5 and saw nothing (seen in the 80x24 and
    120x40 screenshots)."""
    seen: dict[str, Any] = {}

    async def steps(app: ConsoleApp, pilot: Pilot[Any]) -> None:
        await pilot.press("f5")
        await pilot.pause()
        problem = app.screen.query_one("#problem", Label).region
        footer = app.screen.query_one(Footer).region
        seen["overlap"] = problem.overlaps(footer)
        seen["inside"] = app.screen.region.contains_region(problem)
        seen["height"] = problem.height

    for size in ((80, 24), (120, 40)):
        picture(tmp_path / f"{size[0]}", shipped(), frozen.TRAIN, size, steps)
        assert seen == {"overlap": False, "inside": True, "height": 1}, size
