"""A small self-contained HTML heat map of one hotspot search (inline SVG, no scripts).

Each position is a square at its (x, y) in mm, shaded by its median MEP on a log scale
(MEPs span decades between the edge of the grid and the hotspot), labelled with its
name and median; the proposed position is outlined. Anterior is up, lateral to the right.
"""

from __future__ import annotations

import html
import itertools
import math

from stimctl.rmt.hotspot import HotspotResult

CELL, MARGIN = 64, 40


def _shade(value: float, low: float, high: float) -> str:
    """White (smallest median) to dark red (largest), on log10 of the median."""
    lo, hi = math.log10(max(low, 1.0)), math.log10(max(high, 1.0))
    t = 0.0 if hi <= lo else (math.log10(max(value, 1.0)) - lo) / (hi - lo)
    t = min(1.0, max(0.0, t))
    red = 255 - round(t * (255 - 165))
    other = 255 - round(t * 255)
    return f"#{red:02x}{other:02x}{other:02x}"


def render_hotspot_html(subject: str, result: HotspotResult) -> str:
    medians = result.medians()
    positions = result.plan.positions
    xs = sorted({p.x_mm for p in positions})
    ys = sorted({p.y_mm for p in positions})
    x_lo, x_hi, y_lo, y_hi = xs[0], xs[-1], ys[0], ys[-1]
    steps = [b - a for a, b in itertools.pairwise(xs)] + [b - a for a, b in itertools.pairwise(ys)]
    step = min(steps) if steps else 10.0
    scale = CELL / step  # px per mm
    width = round((x_hi - x_lo) * scale) + CELL + 2 * MARGIN
    height = round((y_hi - y_lo) * scale) + CELL + 2 * MARGIN
    low, high = min(medians.values()), max(medians.values())
    proposed = result.proposed.name
    cells = []
    for p in positions:
        left = MARGIN + (p.x_mm - x_lo) * scale
        top = MARGIN + (y_hi - p.y_mm) * scale  # anterior up
        stroke = 'stroke="#000" stroke-width="3"' if p.name == proposed else 'stroke="#999"'
        value = medians[p.name]
        ink = "#fff" if value > math.sqrt(max(low, 1.0) * max(high, 1.0)) else "#000"
        cells.append(
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{CELL - 4}" height="{CELL - 4}" '
            f'fill="{_shade(value, low, high)}" {stroke}/>\n'
            f'<text x="{left + CELL / 2 - 2:.1f}" y="{top + 24:.1f}" font-size="12" '
            f'text-anchor="middle" fill="{ink}">{html.escape(p.name)}</text>\n'
            f'<text x="{left + CELL / 2 - 2:.1f}" y="{top + 42:.1f}" font-size="11" '
            f'text-anchor="middle" fill="{ink}">{value:.0f}</text>'
        )
    rows = "\n".join(
        f"<tr><td>{html.escape(name)}</td><td>{value:.1f}</td></tr>"
        for name, value in medians.items()
    )
    title = html.escape(f"Hotspot search, {subject}")
    plan = result.plan
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif">
<h1>{title}</h1>
<p>{len(positions)} positions, {plan.per_position} pulses each at {plan.intensity} % MSO
(cap {plan.max_intensity} % MSO). Median MEP per position in µV, log shading; anterior up.</p>
<p><strong>Proposed hotspot: {html.escape(proposed)}</strong> (largest median MEP,
{medians[proposed]:.0f} µV). Mark it and take the threshold there.</p>
<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"
 role="img" aria-label="median MEP per coil position">
{chr(10).join(cells)}
</svg>
<table><tr><th align="left">position</th><th align="left">median MEP, µV</th></tr>
{rows}
</table>
</body></html>
"""
