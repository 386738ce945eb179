"""Option types shared by several commands."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click


class PercentMso(click.ParamType[float]):
    """A motor threshold in % of maximum stimulator output: a number in (0, 100]."""

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
        if not 0 < number <= 100:
            self.fail(f"{number:g} is outside (0, 100] % MSO", param, ctx)
        return number


class IsoDate(click.ParamType[dt.date]):
    name = "YYYY-MM-DD"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date in YYYY-MM-DD form", param, ctx)


PERCENT_MSO = PercentMso()
ISO_DATE = IsoDate()
