"""Motor hotspot search: a few pulses per coil position on a grid, the position with the
largest median MEP proposed (issue 19 item 4).

The operator moves the coil over named grid positions (later: positions from a
navigator); at each one, `per_position` pulses at one fixed intensity, paced like the
hunts. The median MEP per position is robust to a single large or lost response
(MEPs vary from pulse to pulse by a factor of several, Goetz 2014, safety-limits 4.2).
Hotspot placement varies between and within observers by about 8-10 mm (Sollmann et al.
2013, safety-limits 4.2), so the grid spacing should be of that order.

The position is proposed, not adopted: the operator marks it on the head (or in the
navigator) and takes the threshold there.
"""

from __future__ import annotations

import math
import random
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from stimctl.clock import Clock
from stimctl.errors import ConfigError, SafetyViolation
from stimctl.rmt.methods.base import ABSOLUTE_MAX_PERCENT_MSO
from stimctl.rmt.readings import MepSource
from stimctl.rmt.runner import PulseInterval

MAX_POSITIONS = 100
ROW_NAMES = "ABCDEFGHIJ"


@dataclass(frozen=True)
class GridPosition:
    """A named coil position, in mm from the grid's centre (x lateral, y anterior)."""

    name: str
    x_mm: float
    y_mm: float


def square_grid(rows: int, columns: int, spacing_mm: float) -> tuple[GridPosition, ...]:
    """Rows A, B, ... (posterior to anterior) by columns 1, 2, ...; the centre is (0, 0)."""
    if not (1 <= rows <= len(ROW_NAMES) and 1 <= columns <= 10):
        raise ConfigError(f"grid must be 1-10 x 1-10 positions, got {rows} x {columns}")
    if not (math.isfinite(spacing_mm) and 1.0 <= spacing_mm <= 50.0):
        raise ConfigError(f"grid spacing must be 1-50 mm, got {spacing_mm!r}")
    return tuple(
        GridPosition(
            f"{ROW_NAMES[r]}{c + 1}",
            (c - (columns - 1) / 2) * spacing_mm,
            (r - (rows - 1) / 2) * spacing_mm,
        )
        for r in range(rows)
        for c in range(columns)
    )


_GRID = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


def parse_grid(text: str, spacing_mm: float) -> tuple[GridPosition, ...]:
    """`ROWSxCOLUMNS`, e.g. `5x5`."""
    match = _GRID.match(text)
    if match is None:
        raise ConfigError(f"--grid {text!r}: expected ROWSxCOLUMNS like 5x5")
    return square_grid(int(match.group(1)), int(match.group(2)), spacing_mm)


def parse_positions(text: str) -> tuple[GridPosition, ...]:
    """Lines `NAME,X_MM,Y_MM` (a navigator export or a hand-made list); `#` comments."""
    positions: list[GridPosition] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split(",")]
        try:
            name, x, y = parts[0], float(parts[1]), float(parts[2])
        except (IndexError, ValueError):
            raise ConfigError(f"positions line {number}: expected NAME,X_MM,Y_MM") from None
        if len(parts) != 3 or not name or not (math.isfinite(x) and math.isfinite(y)):
            raise ConfigError(f"positions line {number}: expected NAME,X_MM,Y_MM")
        positions.append(GridPosition(name, x, y))
    return tuple(positions)


@dataclass(frozen=True)
class HotspotPlan:
    positions: tuple[GridPosition, ...]
    intensity: int
    per_position: int = 3
    max_intensity: int = ABSOLUTE_MAX_PERCENT_MSO

    def __post_init__(self) -> None:
        if not 1 <= len(self.positions) <= MAX_POSITIONS:
            raise ConfigError(f"a hotspot search needs 1-{MAX_POSITIONS} positions")
        names = [p.name for p in self.positions]
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise ConfigError(f"position names must be unique; repeated: {', '.join(twice)}")
        if not 1 <= self.per_position <= 20:
            raise ConfigError(f"pulses per position must be 1-20, got {self.per_position}")
        if not 0 < self.max_intensity <= ABSOLUTE_MAX_PERCENT_MSO:
            raise ConfigError(f"intensity cap must be in 1..100 % MSO, got {self.max_intensity}")
        if isinstance(self.intensity, bool) or not isinstance(self.intensity, int):
            raise ConfigError(f"the search intensity must be a whole % MSO, got {self.intensity!r}")
        if not 1 <= self.intensity <= self.max_intensity:
            raise ConfigError(
                f"search intensity {self.intensity} % MSO is above the intensity cap "
                f"{self.max_intensity} % MSO (or below 1); lower it or the cap deliberately"
            )

    def as_dict(self) -> dict[str, Any]:
        return {
            "intensity": self.intensity,
            "per_position": self.per_position,
            "max_intensity": self.max_intensity,
            "positions": [{"name": p.name, "x_mm": p.x_mm, "y_mm": p.y_mm} for p in self.positions],
        }


@dataclass(frozen=True)
class HotspotPulse:
    index: int
    position: str
    intensity: int
    amplitude_uv: float
    time_s: float


@dataclass(frozen=True)
class HotspotResult:
    plan: HotspotPlan
    pulses: tuple[HotspotPulse, ...]

    def medians(self) -> dict[str, float]:
        """Median MEP per position, µV, in grid order."""
        return {
            p.name: statistics.median(x.amplitude_uv for x in self.pulses if x.position == p.name)
            for p in self.plan.positions
        }

    @property
    def proposed(self) -> GridPosition:
        """The position with the largest median MEP (the first in grid order on a tie)."""
        medians = self.medians()
        best = max(medians.values())
        name = next(n for n, m in medians.items() if m == best)
        return next(p for p in self.plan.positions if p.name == name)

    def as_dict(self) -> dict[str, Any]:
        medians = self.medians()
        return {
            **self.plan.as_dict(),
            "proposed": self.proposed.name,
            "median_uv": {k: round(v, 1) for k, v in medians.items()},
            "pulses": [
                {
                    "index": p.index,
                    "position": p.position,
                    "intensity": p.intensity,
                    "amplitude_uv": p.amplitude_uv,
                    "time_s": p.time_s,
                }
                for p in self.pulses
            ],
        }


def run_hotspot(
    plan: HotspotPlan,
    source: MepSource,
    *,
    clock: Clock,
    move: Callable[[GridPosition], None],
    stimulate: Callable[[int], None] | None = None,
    interval: PulseInterval | None = None,
    rng: random.Random | None = None,
    on_pulse: Callable[[HotspotPulse], None] | None = None,
) -> HotspotResult:
    """Visit every position in order: `move` there (the operator confirms, or the virtual
    coil moves), then `per_position` paced pulses at the plan's intensity."""
    interval = interval or PulseInterval()
    rng = rng or random.Random()
    pulses: list[HotspotPulse] = []
    last: float | None = None
    for position in plan.positions:
        move(position)
        for _ in range(plan.per_position):
            if plan.intensity > plan.max_intensity:  # the plan refuses this; checked again
                raise SafetyViolation(
                    f"refusing {plan.intensity} % MSO above the cap {plan.max_intensity}",
                    rule="rmt-intensity-cap",
                )
            if last is not None:
                clock.sleep_until(last + interval.draw(rng))
            if stimulate is not None:
                stimulate(plan.intensity)
            last = clock.now()
            reading = source.response(plan.intensity)
            if reading.amplitude_uv is None:
                raise ConfigError("a hotspot search needs MEP amplitudes in µV, not yes/no")
            pulse = HotspotPulse(len(pulses) + 1, position.name, plan.intensity,
                                 reading.amplitude_uv, last)  # fmt: skip
            pulses.append(pulse)
            if on_pulse is not None:
                on_pulse(pulse)
    return HotspotResult(plan, tuple(pulses))


def grid_shape(positions: Sequence[GridPosition]) -> tuple[list[float], list[float]]:
    """The distinct x and y coordinates (for the heat map's layout)."""
    return sorted({p.x_mm for p in positions}), sorted({p.y_mm for p in positions})
