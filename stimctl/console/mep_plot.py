"""A small text plot of one MEP trial for the threshold screen (issue 18 item 4).

Each column of the plot covers an equal slice of time from just before the background
window to just after the MEP window; it draws the range of the samples in that slice
(so a fast MEP is never lost between columns). The background window is shaded grey,
the MEP window blue, the pulse is a yellow rule. The title gives the trial's intensity
and peak-to-peak amplitude and says OK or REJECTED; the last line gives the background
level and, for a rejected trial, why.
"""

from __future__ import annotations

from rich.text import Text

from stimctl.lab.mep_window import MepTrace

WIDTH = 34
HEIGHT = 6
MIN_SPAN_UV = 50.0
"""The smallest vertical range drawn: noise alone must not fill the plot."""

BACKGROUND_STYLE = "on grey23"
MEP_STYLE = "on #1c3455"
PULSE_STYLE = "bold yellow"
INK = "bold white"


def _columns(trace: MepTrace, width: int) -> list[tuple[float, float] | None]:
    start, end = trace.windows.trace_start_s, trace.windows.trace_end_s
    step = (end - start) / width
    slices: list[list[float]] = [[] for _ in range(width)]
    for t, v in zip(trace.times_s, trace.values_uv, strict=True):
        column = int((t - start) / step)
        if 0 <= column < width:
            slices[column].append(v)
    return [(min(s), max(s)) if s else None for s in slices]


def _column_style(trace: MepTrace, column: int, width: int) -> str:
    w = trace.windows
    step = (w.trace_end_s - w.trace_start_s) / width
    middle = w.trace_start_s + (column + 0.5) * step
    if w.background_start_s <= middle <= w.background_end_s:
        return BACKGROUND_STYLE
    if w.mep_start_s <= middle <= w.mep_end_s:
        return MEP_STYLE
    return ""


def trace_plot(trace: MepTrace, *, width: int = WIDTH, height: int = HEIGHT) -> Text:
    """Title, `height` plot rows and a status line, as one rich Text."""
    columns = _columns(trace, width)
    values = [v for c in columns if c is not None for v in c]
    centre = (max(values) + min(values)) / 2 if values else 0.0
    span = max(MIN_SPAN_UV, (max(values) - min(values)) if values else 0.0)
    low = centre - span / 2
    pulse_column = int(
        -trace.windows.trace_start_s
        / (trace.windows.trace_end_s - trace.windows.trace_start_s)
        * width
    )

    def row_of(value: float) -> int:  # 0 is the top row
        fraction = (value - low) / span
        return min(height - 1, max(0, int((1.0 - fraction) * height)))

    verdict = (
        Text(" REJECTED ", style="bold white on red")
        if trace.rejected is not None
        else Text(" OK ", style="bold white on dark_green")
    )
    plot = Text.assemble(
        (f"{trace.intensity:3d} % MSO ", "bold"),
        (f"{trace.amplitude_uv:7.1f} µV ", "bold cyan"),
        verdict,
        "\n",
    )
    for row in range(height):
        for index, column in enumerate(columns):
            style = _column_style(trace, index, width)
            if column is not None and row_of(column[1]) <= row <= row_of(column[0]):
                plot.append(
                    "█" if row_of(column[1]) == row_of(column[0]) else "│", f"{INK} {style}".strip()
                )
            elif index == pulse_column:
                plot.append("┆", f"{PULSE_STYLE} {style}".strip())
            else:
                plot.append(" ", style)
        plot.append("\n")
    if trace.rejected is not None:
        plot.append(trace.rejected, style="red")
    else:
        plot.append(
            f"bg {trace.background_rms_uv:.0f} µV rms, {trace.background_peak_uv:.0f} µV peak",
            style="dim",
        )
    return plot
