"""A small self-contained HTML report of one recruitment curve (inline SVG, no scripts)."""

from __future__ import annotations

import html

from stimctl.rmt.curve import CurveResult

WIDTH, HEIGHT, MARGIN = 640, 400, 56


def render_curve_html(subject: str, result: CurveResult) -> str:
    """The pulses as points, the Boltzmann fit as a line, and the fitted parameters."""
    xs = [p.intensity for p in result.pulses]
    ys = [p.amplitude_uv for p in result.pulses]
    fit = result.fit
    x_lo, x_hi = min(xs) - 5, max(xs) + 5
    y_hi = max(max(ys), fit.plateau_uv) * 1.1 or 1.0

    def sx(x: float) -> float:
        return MARGIN + (x - x_lo) / (x_hi - x_lo) * (WIDTH - 2 * MARGIN)

    def sy(y: float) -> float:
        return HEIGHT - MARGIN - y / y_hi * (HEIGHT - 2 * MARGIN)

    steps = 120
    line = " ".join(
        f"{sx(x):.1f},{sy(fit.mep_uv(x)):.1f}"
        for x in (x_lo + i * (x_hi - x_lo) / steps for i in range(steps + 1))
    )
    points = "\n".join(
        f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="#1f77b4"/>'
        for x, y in zip(xs, ys, strict=True)
    )
    ticks = "\n".join(
        f'<text x="{sx(x):.1f}" y="{HEIGHT - MARGIN + 18}" font-size="11" '
        f'text-anchor="middle">{x}</text>'
        for x in sorted(set(xs))
    )
    title = html.escape(f"Recruitment curve, {subject}")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif">
<h1>{title}</h1>
<p>RMT {result.plan.rmt:g} % MSO; levels {", ".join(map(str, result.plan.levels_percent_rmt))}
% RMT, {result.plan.per_level} pulses each, random order; cap {result.plan.max_intensity} % MSO.</p>
<table>
<tr><th align="left">S50</th><td>{fit.s50:.1f} % MSO</td></tr>
<tr><th align="left">slope parameter k</th><td>{fit.k:.2f} % MSO</td></tr>
<tr><th align="left">steepest slope</th>
<td>{fit.max_slope_uv_per_percent:.0f} µV per % MSO</td></tr>
<tr><th align="left">plateau</th><td>{fit.plateau_uv:.0f} µV</td></tr>
<tr><th align="left">RMS residual</th><td>{fit.rms_residual_uv:.0f} µV</td></tr>
</table>
<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}"
 role="img" aria-label="MEP amplitude against intensity">
<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" y2="{HEIGHT - MARGIN}"
 stroke="black"/>
<line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{HEIGHT - MARGIN}" stroke="black"/>
{ticks}
<text x="{WIDTH / 2}" y="{HEIGHT - 12}" font-size="12" text-anchor="middle">% MSO</text>
<text x="14" y="{HEIGHT / 2}" font-size="12" transform="rotate(-90 14 {HEIGHT / 2})"
 text-anchor="middle">MEP, µV (max {y_hi:.0f})</text>
<polyline points="{line}" fill="none" stroke="#d62728" stroke-width="2"/>
{points}
</svg>
</body></html>
"""
