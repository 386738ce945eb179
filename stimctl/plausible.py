"""Plausible physical ranges of the numbers and dates people type (issue 12 item 10).

A value outside these ranges is not a protocol or a record that anyone meant: `1e-300` s
trains, `1e23` trains, a threshold from 2099. Such values are refused as bad input (exit 2)
before any rule runs or any device is opened, so the safety rules only ever see numbers
of the right order. The ranges are wide on purpose (several times the largest published
value): refusing a real protocol would be worse than taking a silly one to the rules.
`docs/protocol-limits.md` lists every field with its unit, range and why.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Final

from stimctl.errors import ConfigError

# --- a session ------------------------------------------------------------------------

MAX_PULSES_PER_SESSION: Final = 10_000
"""About 3x the largest per-session count of any published protocol (3000: NeuroStar
10 Hz, Attal 2021; SAINT 1800), safety-limits 9.4. The rules warn far below it."""

MAX_SESSION_DURATION_S: Final = 7_200.0
"""Two hours: about 3x the longest published session (37.5 min, FDA-cleared 10 Hz)."""

MIN_FREQUENCY_HZ: Final = 0.1
"""The slowest repetition rate any supported stimulator times (MagPro 0.1 pps, device-
protocols B4); slower than this is single-pulse work, not a repetitive protocol."""

MAX_FREQUENCY_HZ: Final = 250.0
MAX_DURATION_S: Final = 3_600.0
"""A train, or a pause between trains, longer than an hour is not a session layout."""

MIN_TRAIN_DURATION_S: Final = 0.001
MIN_INTERVAL_S: Final = 0.01

MIN_PERCENT_RMT: Final = 10.0
"""Below a tenth of the threshold nothing is stimulated; sham is a coil, not a dose."""

MAX_PERCENT_RMT: Final = 300.0

MAX_PERCENT_MSO: Final = 110.0
"""Enhanced-power Rapid² output is the highest setting of any supported device."""

MAX_SESSIONS_PER_DAY: Final = 20
"""SAINT gives 10 a day (Cole 2020), the most of any published schedule."""

MAX_COURSE_SESSIONS: Final = 365

# --- a subject --------------------------------------------------------------------------

MIN_RMT_PERCENT_MSO: Final = 10.0
"""Published resting thresholds lie around 30-80% MSO (Goetz 2019 model: 5th percentile
52.5%); a threshold below 10% MSO is a typing error (0.55 for 55) or a unit mix-up."""

MAX_RMT_PERCENT_MSO: Final = 100.0

MAX_HUNT_PULSES: Final = 1_000
"""Twice the largest hunt budget (10 of 20 relative frequency: 500 pulses)."""

EARLIEST_DATE: Final = dt.date(1985, 1, 1)
"""TMS was introduced in 1985 (Barker et al., Lancet 1:1106): no threshold, screening or
adverse event on record can be older."""

MAX_COURSE_START_AHEAD_DAYS: Final = 366
"""A course may be prescribed to start later, but not more than a year ahead."""

FUTURE_TOLERANCE: Final = dt.timedelta(hours=14)
"""A date is "not in the future" if it is today somewhere on Earth: UTC+14 (Line Islands)
is the zone furthest ahead, so a local date typed anywhere is accepted, and a date at
most one calendar day ahead of the site's is the largest error let through."""

CLOCK_SKEW: Final = dt.timedelta(minutes=5)
"""An instant (adverse event time with zone) may be this far past the host clock: the
clock of whoever noted it may run a little ahead."""


def latest_date(now: dt.datetime | None = None) -> dt.date:
    """The latest calendar date that is "today" somewhere on Earth at `now` (aware)."""
    moment = now or dt.datetime.now(dt.UTC)
    return (moment.astimezone(dt.UTC) + FUTURE_TOLERANCE).date()


def past_date(day: dt.date, what: str, now: dt.datetime | None = None) -> dt.date:
    """`day` if it lies between 1985 and today; a ConfigError naming `what` if not."""
    if day > latest_date(now):
        raise ConfigError(f"{what} {day.isoformat()} is in the future")
    if day < EARLIEST_DATE:
        raise ConfigError(f"{what} {day.isoformat()} is before {EARLIEST_DATE.year} (before TMS)")
    return day


def past_moment(moment: dt.datetime, what: str, now: dt.datetime | None = None) -> dt.datetime:
    """A timezone-aware instant not after now (plus CLOCK_SKEW) and not before 1985."""
    current = now or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ConfigError(f"{what} {moment.isoformat()} has no time zone")
    if moment > current + CLOCK_SKEW:
        raise ConfigError(f"{what} {moment.isoformat()} is in the future")
    past_date(moment.astimezone(dt.UTC).date(), what, current)
    return moment


def course_start(day: dt.date, now: dt.datetime | None = None) -> dt.date:
    """A course start: after 1985 and at most MAX_COURSE_START_AHEAD_DAYS ahead."""
    ahead = latest_date(now) + dt.timedelta(days=MAX_COURSE_START_AHEAD_DAYS)
    if day > ahead:
        raise ConfigError(
            f"course start {day.isoformat()} is more than {MAX_COURSE_START_AHEAD_DAYS} days ahead"
        )
    if day < EARLIEST_DATE:
        raise ConfigError(f"course start {day.isoformat()} is before {EARLIEST_DATE.year}")
    return day


def rmt_percent_mso(value: float, what: str = "motor threshold") -> float:
    """A resting motor threshold in % MSO within the plausible range; never clipped."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{what} {value!r} is not a number of % MSO")
    if not MIN_RMT_PERCENT_MSO <= value <= MAX_RMT_PERCENT_MSO:
        raise ConfigError(
            f"{what} {value:g}% MSO is outside {MIN_RMT_PERCENT_MSO:g}-{MAX_RMT_PERCENT_MSO:g}"
            " % MSO (write 55, not 0.55)"
        )
    return float(value)
