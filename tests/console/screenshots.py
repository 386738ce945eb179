"""Console pictures for docs/screenshots.md: pre-start, live, paused and summary at 80x24
and 120x40, drawn from fixed snapshots (tests/console/frozen.py) like the snapshot tests,
written as SVG and turned into PNG with headless Chromium.

    .venv/bin/python -m tests.console.screenshots docs/img

(needs `chromium` on PATH; docs/screenshots.md says how to install it.)
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from stimctl.console.app import ConsoleApp
from stimctl.console.summary_screen import SummaryScreen
from stimctl.session.runner import Prepared
from stimctl.session.summary import Snapshot
from tests.console import frozen
from tests.console.test_console_snapshots import needing_override, picture, shipped

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
CELL_PX = (12.35, 25.0)
"""Roughly what one terminal cell takes in Textual's SVG at 100% zoom (+ window chrome)."""

Steps = Callable[[ConsoleApp, Pilot[Any]], Awaitable[None]]


async def _prestart(app: ConsoleApp, pilot: Pilot[Any]) -> None:
    await pilot.press("f5")  # unticked: F5 says what is missing


async def _live(app: ConsoleApp, pilot: Pilot[Any]) -> None:
    await pilot.press("space")
    await pilot.press("f5")
    await pilot.pause(0.3)


async def _summary(app: ConsoleApp, pilot: Pilot[Any]) -> None:
    report = "/var/lib/stimctl/reports/20261124T090000Z-0123abcd.html"
    await app.push_screen(SummaryScreen(frozen.SUMMARY, report))


SCREENS: dict[str, tuple[Snapshot, Steps]] = {
    "prestart": (frozen.TRAIN, _prestart),
    "live": (frozen.TRAIN, _live),
    "paused": (dataclasses.replace(frozen.TRAIN, state="paused", next_train_in_s=None), _live),
    "summary": (frozen.TRAIN, _summary),
    "alarm-medium": (frozen.WARM, _live),
    "alarm-high": (frozen.LINK_LOST, _live),
    "prestart-override": (frozen.TRAIN, _prestart),
}
PICTURES = [
    *((name, label) for name in ("prestart", "live", "paused", "summary") for label in SIZES),
    ("alarm-medium", "80x24"),
    ("alarm-high", "80x24"),
    ("prestart-override", "80x24"),
]


def svg(name: str, size: tuple[int, int], directory: Path) -> str:
    snapshot, steps = SCREENS[name]
    prepared: Prepared = needing_override(directory) if name == "prestart-override" else shipped()

    async def steps_then_settle(app: ConsoleApp, pilot: Pilot[Any]) -> None:
        await steps(app, pilot)
        await pilot.pause(0.2)  # a picture for people: let the last redraw land

    return picture(directory, prepared, snapshot, size, steps_then_settle)


def main(out: Path) -> list[Path]:
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    if chrome is None:
        raise SystemExit("chromium is not on PATH (see docs/screenshots.md)")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, label in PICTURES:
            size = SIZES[label]
            folder = Path(tmp) / f"{name}-{label}"
            folder.mkdir()
            path = Path(tmp) / f"{name}-{label}.svg"
            path.write_text(svg(name, size, folder))
            png = out / f"console-{name}-{label}.png"
            width = int(size[0] * CELL_PX[0]) + 6
            height = int(size[1] * CELL_PX[1]) + 36
            subprocess.run(
                [chrome, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 f"--window-size={width},{height}", f"--screenshot={png}", str(path)],
                check=True, capture_output=True, timeout=120,
            )  # fmt: skip
            _shrink(png)
            written.append(png)
    return written


def _shrink(png: Path) -> None:
    """64 colours keep the repository small; terminal pictures have few anyway."""
    from PIL import Image

    with Image.open(png) as image:
        small = image.convert("RGB").quantize(colors=64)
    small.save(png, optimize=True)


if __name__ == "__main__":
    for path in main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img")):
        print(path)
