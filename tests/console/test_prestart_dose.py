"""The pre-start screen shows the dose the device will get, as a % of the threshold it
refers to (issue 15): SAINT's 90% is of the depth-adjusted RMT, cTBS's 80% of the AMT."""

from __future__ import annotations

import datetime as dt
from io import StringIO

from rich.console import Console

from stimctl.console.prestart import PreStartScreen
from stimctl.session.runner import prepare
from stimctl.testing.expected import expected_site, typical_subject

NOW = dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC)


def _intensity_row(name: str, device: str) -> str:
    prepared = prepare(name, typical_subject(NOW.date()), device, site=expected_site(), now=NOW)
    screen = PreStartScreen(prepared, None, "nurse-kim")
    out = StringIO()
    Console(file=out, width=120).print(screen._facts(0, 90.0 if "saint" in name else 80.0))
    return next(line for line in out.getvalue().splitlines() if "Intensity" in line)


def test_saint_shows_the_depth_adjusted_dose() -> None:
    # RMT 55 + 3 x (20 - 18) = 61% MSO; 90% of it = 54.9 -> 54% MSO (rounded down)
    row = _intensity_row("dep-saint", "magpro-x100")
    assert "90% RMT (depth-adjusted) = 54% MSO" in row


def test_ctbs_shows_the_dose_of_the_amt() -> None:
    # 80% of the 44% MSO AMT = 35.2 -> 35% MSO
    assert "80% AMT = 35% MSO" in _intensity_row("ctbs-m1", "magpro-x100")
