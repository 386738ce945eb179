"""One trial of EMG around a pulse: the MEP and the background-EMG rule (issue 18).

Times are seconds relative to the pulse. The MEP is the peak-to-peak amplitude in the
measurement window (default 15-50 ms: a hand muscle's MEP starts about 20 ms after a
motor-cortex pulse). A trial is rejected when the muscle was not at rest just before the
pulse: background RMS >= 50 µV or peak >= 200 µV in -50..-5 ms (BEST rejects at >= 200
µV in that window; ecosystem.md 10.2). RMS and peak are taken about the window's mean, so
an amplifier's DC offset does not count as activity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stimctl.errors import ConfigError

FloatArray = npt.NDArray[np.float64]

MIN_COVERAGE = 0.8
"""Fraction of the expected samples a window must hold; fewer means a gap in the stream."""


@dataclass(frozen=True)
class MepWindows:
    """Where to measure and what counts as background activity (seconds, µV)."""

    mep_start_s: float = 0.015
    mep_end_s: float = 0.050
    background_start_s: float = -0.050
    background_end_s: float = -0.005
    background_rms_uv: float = 50.0
    background_peak_uv: float = 200.0

    def __post_init__(self) -> None:
        values = (
            self.mep_start_s,
            self.mep_end_s,
            self.background_start_s,
            self.background_end_s,
            self.background_rms_uv,
            self.background_peak_uv,
        )
        if not all(math.isfinite(v) for v in values):
            raise ConfigError("MEP and background windows must be finite numbers")
        if not 0 <= self.mep_start_s < self.mep_end_s <= 1.0:
            raise ConfigError(
                f"MEP window {self.mep_start_s * 1e3:g}..{self.mep_end_s * 1e3:g} ms must "
                "lie after the pulse, start before it ends, and end within 1000 ms"
            )
        if not -1.0 <= self.background_start_s < self.background_end_s <= 0:
            raise ConfigError(
                f"background window {self.background_start_s * 1e3:g}.."
                f"{self.background_end_s * 1e3:g} ms must lie before the pulse (within 1 s)"
            )
        if self.background_rms_uv <= 0 or self.background_peak_uv <= 0:
            raise ConfigError("background limits must be > 0 µV")

    @property
    def trace_start_s(self) -> float:
        return self.background_start_s - 0.010

    @property
    def trace_end_s(self) -> float:
        return self.mep_end_s + 0.005  # short: the hunt waits for this sample


@dataclass(frozen=True)
class MepTrace:
    """One measured trial: the samples shown on the console and what was made of them."""

    intensity: int
    times_s: tuple[float, ...]
    """Sample times relative to the pulse."""
    values_uv: tuple[float, ...]
    windows: MepWindows
    amplitude_uv: float
    background_rms_uv: float
    background_peak_uv: float
    rejected: str | None
    """Why the trial was rejected (one line), or None when it counts."""
    seq: int | None = None
    """The journal sequence number of the pulse."""


class WindowGap(ValueError):
    """A window holds too few samples: the stream dropped data around the pulse."""


def _window(
    times: FloatArray, values: FloatArray, start: float, end: float, rate_hz: float
) -> FloatArray:
    inside = values[(times >= start) & (times <= end)]
    expected = (end - start) * rate_hz
    if rate_hz > 0 and inside.size < MIN_COVERAGE * expected:
        raise WindowGap(
            f"{inside.size} samples in {start * 1e3:+.0f}..{end * 1e3:+.0f} ms where "
            f"{expected:.0f} were expected at {rate_hz:g} Hz"
        )
    if inside.size < 2:
        raise WindowGap(f"fewer than 2 samples in {start * 1e3:+.0f}..{end * 1e3:+.0f} ms")
    return inside


def measure(
    times_s: FloatArray,
    values_uv: FloatArray,
    *,
    intensity: int,
    rate_hz: float,
    windows: MepWindows,
    seq: int | None = None,
) -> MepTrace:
    """Measure one trial; `times_s` relative to the pulse. Raises `WindowGap`."""
    background = _window(
        times_s, values_uv, windows.background_start_s, windows.background_end_s, rate_hz
    )
    response = _window(times_s, values_uv, windows.mep_start_s, windows.mep_end_s, rate_hz)
    centred = background - float(np.mean(background))
    rms = float(np.sqrt(np.mean(centred * centred)))
    peak = float(np.max(np.abs(centred)))
    amplitude = float(np.max(response) - np.min(response))
    rejected = None
    if rms >= windows.background_rms_uv:
        rejected = (
            f"background EMG {rms:.0f} µV RMS >= {windows.background_rms_uv:g} µV in "
            f"{windows.background_start_s * 1e3:+.0f}..{windows.background_end_s * 1e3:+.0f} ms"
        )
    elif peak >= windows.background_peak_uv:
        rejected = (
            f"background EMG peak {peak:.0f} µV >= {windows.background_peak_uv:g} µV in "
            f"{windows.background_start_s * 1e3:+.0f}..{windows.background_end_s * 1e3:+.0f} ms"
        )
    shown = (times_s >= windows.trace_start_s) & (times_s <= windows.trace_end_s)
    return MepTrace(
        intensity=intensity,
        times_s=tuple(float(t) for t in times_s[shown]),
        values_uv=tuple(float(v) for v in values_uv[shown]),
        windows=windows,
        amplitude_uv=amplitude,
        background_rms_uv=rms,
        background_peak_uv=peak,
        rejected=rejected,
        seq=seq,
    )
