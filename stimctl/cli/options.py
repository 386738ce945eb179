"""Option types shared by several commands.

Every number and date an option takes has a plausible range (stimctl.plausible,
docs/protocol-limits.md); anything outside is a usage error (exit 2), never clipped.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import click

from stimctl import plausible
from stimctl.errors import ConfigError


class PercentMso(click.ParamType[float]):
    """A resting motor threshold in % of maximum stimulator output (10-100)."""

    name = "PCT_MSO"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            self.fail(f"{text!r} is not a number of % MSO (write 55, not 55% or 0.55)", param, ctx)
        try:
            return plausible.rmt_percent_mso(number, "threshold")
        except ConfigError as exc:
            self.fail(str(exc), param, ctx)


class IsoDate(click.ParamType[dt.date]):
    """A calendar date (YYYY-MM-DD) between 1985 and today: measured, answered, happened."""

    name = "YYYY-MM-DD"

    def __init__(self, *, course_start: bool = False) -> None:
        self.course_start = course_start

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{str(value)[:40]!r} is not a date in YYYY-MM-DD form", param, ctx)
        try:
            if self.course_start:
                return plausible.course_start(day)
            return plausible.past_date(day, "date")
        except ConfigError as exc:
            self.fail(str(exc), param, ctx)


class Bounded(click.FloatRange):
    """A finite float within [low, high]: click's FloatRange lets nan through."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


PERCENT_MSO = PercentMso()
ISO_DATE = IsoDate()
COURSE_START = IsoDate(course_start=True)
