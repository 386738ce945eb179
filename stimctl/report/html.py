"""The HTML report: Jinja2 with autoescape, one self-contained file with inline SVG plots.

Only the plots (SVG that matplotlib wrote) go in unescaped; every value from the journal
is escaped, so a subject id or an annotation cannot inject markup.
"""

from __future__ import annotations

import datetime as dt

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from stimctl.report import plots
from stimctl.report.content import report_dict
from stimctl.report.model import SessionData

GENERATED_PREFIX = "Generated "
"""The one line of the HTML that differs between two renderings of the same journal."""

PRIORITY_MARK = {"high": "***", "medium": "**", "low": "*"}


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("stimctl.report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["seconds"] = _seconds
    env.filters["num"] = _num
    env.filters["duration"] = _duration
    env.filters["span"] = _span
    return env


def render_html(data: SessionData, *, generated: dt.datetime | None = None) -> str:
    content = report_dict(data)
    warn_c = content["coil_temperature"]["warn_c"]
    stop_c = content["coil_temperature"]["stop_c"]
    figures = {
        "timeline": Markup(plots.timeline(data)),
        "intensity": Markup(plots.intensity(data)),
        "coil": Markup(
            plots.coil_temperature(data, warn_c, stop_c) if data.coil_temperature else ""
        ),
        "timing": Markup(plots.timing_error(data)),
    }
    moment = generated or dt.datetime.now(dt.UTC)
    template = _environment().get_template("report.html.j2")
    return template.render(
        r=content,
        figures=figures,
        marks=PRIORITY_MARK,
        generated=f"{GENERATED_PREFIX}{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC",
    )


def _seconds(value: object) -> str:
    if not isinstance(value, int | float):
        return "n/a"
    total = float(value)
    minutes, seconds = divmod(abs(total), 60.0)
    sign = "-" if total < 0 else ""
    return f"{sign}{int(minutes)}:{seconds:06.3f}" if minutes else f"{sign}{seconds:.3f} s"


def _duration(value: object) -> str:
    """A planned or actual length: `19 min 35 s`."""
    if not isinstance(value, int | float):
        return "n/a"
    minutes, seconds = divmod(float(value), 60.0)
    if minutes < 1:
        return f"{seconds:.1f} s"
    return f"{int(minutes)} min {seconds:.0f} s"


def _span(value: object) -> str:
    """[low, high] as "45" or "40-45"; n/a when nothing was delivered."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        return "n/a"
    low, high = (_num(v) for v in value)
    return low if low == high else f"{low}-{high}"


def _num(value: object, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
        return text or "0"
    return str(value)
