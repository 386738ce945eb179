"""Inline SVG plots for the report (matplotlib without pyplot, deterministic).

The same journal must give the same bytes: a fixed `svg.hashsalt` makes the element ids
repeatable, `svg.fonttype = none` keeps text as text (no glyph paths that differ between
font caches), and the `Date` metadata is dropped.
"""

from __future__ import annotations

import io
from functools import partial
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from stimctl.report.model import SessionData

STYLE: Any = {  # Any: matplotlib types rc keys as a Literal union
    "svg.hashsalt": "stimctl-report",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,  # the % RMT axis draws its own
}
WIDTH_IN = 8.0
PLANNED = "#b8c2cc"
DELIVERED = "#1f6fb2"
SHORT = "#d9822b"


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    # Inline: drop the XML declaration and DOCTYPE, keep the <svg> element.
    return text[text.index("<svg") :]


def _figure(height_in: float) -> Figure:
    # A bare Figure (no pyplot): no global figure registry, no GUI backend, and safe to
    # draw from the console's worker thread; savefig uses the Agg-based SVG canvas.
    return Figure(figsize=(WIDTH_IN, height_in))


def timeline(data: SessionData) -> str:
    """Trains planned (grey) vs delivered (blue; orange when cut short)."""
    with matplotlib.rc_context(STYLE):
        fig = _figure(1.9)
        ax = fig.add_subplot()
        ax.broken_barh(data.planned_trains, (1.1, 0.8), facecolors=PLANNED)
        delivered = [
            (t.actual_onset_s, max((t.end_s or t.actual_onset_s) - t.actual_onset_s, 0.05))
            for t in data.trains
        ]
        colours = [DELIVERED if t.complete else SHORT for t in data.trains]
        ax.broken_barh(delivered, (0.1, 0.8), facecolors=colours)
        ax.set_yticks([0.5, 1.5], ["delivered", "planned"])
        ax.set_ylim(0, 2)
        ax.set_xlabel("session time (s)")
        ax.set_xlim(left=0)
        return _svg(fig)


def intensity(data: SessionData) -> str:
    """The intensity the device was set to, as steps over session time: % MSO on the left,
    the same in % RMT on the right (from the journaled RMT)."""
    with matplotlib.rc_context(STYLE):
        fig = _figure(2.0)
        ax = fig.add_subplot()
        end = _end_time(data)
        if data.intensity:
            xs = [t for t, _, _ in data.intensity] + [end]
            ys = [m for _, m, _ in data.intensity]
            ys.append(ys[-1])
            ax.step(xs, ys, where="post", color=DELIVERED)
            ax.set_ylim(0, max(ys) * 1.25 + 1)
            rmt = _rmt(data)
            if rmt:
                scale = 100.0 / rmt
                right = ax.secondary_yaxis(
                    "right", functions=(partial(_times, scale), partial(_times, 1.0 / scale))
                )
                right.set_ylabel("% RMT")
        else:
            _empty(ax, "no intensity was set")
        ax.set_ylabel("% MSO")
        ax.set_xlabel("session time (s)")
        return _svg(fig)


def _times(factor: float, values: Any) -> Any:
    """Axis conversion (values is a numpy array; kept untyped like matplotlib's API)."""
    return values * factor


def _rmt(data: SessionData) -> float | None:
    subject = data.start.get("subject")
    value = subject.get("rmt_percent_mso") if isinstance(subject, dict) else None
    return float(value) if isinstance(value, int | float) and value > 0 else None


def coil_temperature(data: SessionData, warn_c: float | None, stop_c: float | None) -> str:
    """Coil temperature samples against the warning and stop limits."""
    with matplotlib.rc_context(STYLE):
        fig = _figure(2.0)
        ax = fig.add_subplot()
        if data.coil_temperature:
            ax.plot(
                [t for t, _ in data.coil_temperature],
                [c for _, c in data.coil_temperature],
                color=DELIVERED,
            )
        else:
            _empty(ax, "the journal holds no coil temperature samples")
        # Each limit line carries its label and value on the plot (issue 16).
        for value, color, label in (
            (warn_c, SHORT, "warning limit"),
            (stop_c, "#c0392b", "stop limit"),
        ):
            if value is None:
                continue
            ax.axhline(value, color=color, linestyle="--", linewidth=1)
            ax.text(
                0.01,
                value,
                f"{label} {value:g} °C",
                color=color,
                fontsize=7,
                va="bottom",
                ha="left",
                transform=ax.get_yaxis_transform(),
            )
        ax.set_ylabel("coil °C")
        ax.set_xlabel("session time (s)")
        return _svg(fig)


def timing_error(data: SessionData) -> str:
    """Train onset minus planned onset, per train (ms)."""
    with matplotlib.rc_context(STYLE):
        fig = _figure(2.0)
        ax = fig.add_subplot()
        if data.trains:
            ax.bar(
                [t.index + 1 for t in data.trains],
                [t.onset_error_ms for t in data.trains],
                color=DELIVERED,
                width=0.8,
            )
            ax.axhline(0, color="#333333", linewidth=0.8)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        else:
            _empty(ax, "no train was delivered")
        ax.set_ylabel("onset error (ms)")
        ax.set_xlabel("train")
        return _svg(fig)


def _end_time(data: SessionData) -> float:
    ends = [t.end_s for t in data.trains if t.end_s is not None]
    times = [m.t_s for m in data.states]
    return max([*ends, *times, *(t for t, _, _ in data.intensity), 0.0])


def _empty(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666666")
    ax.set_xticks([])
    ax.set_yticks([])
