"""Inline SVG plots of the course report: dose per session and outcome scores."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib
from matplotlib.ticker import MaxNLocator

from stimctl.records.scales import SCALES
from stimctl.report.plots import DELIVERED, PLANNED, SHORT, STYLE, _empty, _figure, _svg

if TYPE_CHECKING:
    from stimctl.records.outcomes import OutcomeRecord
    from stimctl.report.course import SessionLine


def dose(sessions: list[SessionLine]) -> str:
    """Pulses planned (grey) and delivered (blue; orange when short) per session, with the
    delivered intensity in % MT (dots) against the prescribed (crosses)."""
    real = [s for s in sessions if not s.simulated]
    with matplotlib.rc_context(STYLE):
        fig = _figure(2.4)
        ax = fig.add_subplot()
        if not real:
            _empty(ax, "no session delivered yet")
            return _svg(fig)
        xs = [s.number for s in real]
        ax.bar(xs, [s.pulses_planned for s in real], width=0.8, color=PLANNED, label="planned")
        colours = [DELIVERED if s.pulses_delivered >= s.pulses_planned else SHORT for s in real]
        ax.bar(xs, [s.pulses_delivered for s in real], width=0.5, color=colours, label="delivered")
        ax.set_ylabel("pulses")
        ax.set_xlabel("session")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        right = ax.twinx()
        right.spines["right"].set_visible(True)
        mt = [(s.number, s.intensity_mt) for s in real if s.intensity_mt is not None]
        if mt:
            right.plot(*zip(*mt, strict=True), "o", color="#333333", ms=3, label="% MT delivered")
        given = [(s.number, s.prescribed_mt) for s in real if s.prescribed_mt is not None]
        if given:
            right.plot(*zip(*given, strict=True), "x", color="#c0392b", label="% MT prescribed")
        right.set_ylabel("% MT")
        top = max([v for _, v in mt + given] or [100.0])
        right.set_ylim(0, top * 1.35)  # room above the bars for the legend and the dots
        ax.set_ylim(0, max(s.pulses_planned for s in real) * 1.35)
        ax.legend(loc="upper left", fontsize=7, frameon=False, ncols=2)
        if mt or given:
            right.legend(loc="upper right", fontsize=7, frameon=False, ncols=2)
        return _svg(fig)


def outcomes(records: list[OutcomeRecord]) -> str:
    """Each scale's scores over time, one line a scale, on its own range."""
    keys = sorted({r.scale for r in records})
    with matplotlib.rc_context(STYLE):
        fig = _figure(1.2 + 1.3 * max(1, len(keys)))
        if not keys:
            _empty(fig.add_subplot(), "no outcome score on record")
            return _svg(fig)
        axes = fig.subplots(len(keys), 1, squeeze=False, sharex=True)
        for ax, key in zip(axes[:, 0], keys, strict=True):
            points = [(r.measured_on, r.value) for r in records if r.scale == key]
            ax.plot(*zip(*points, strict=True), "o-", color=DELIVERED, ms=4)
            scale = SCALES[key]
            ax.set_ylim(scale.low, scale.high)
            ax.set_ylabel(key.upper())
        fig.autofmt_xdate()
        return _svg(fig)
