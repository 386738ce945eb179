"""The MEP measurement and the background-EMG rule, on known signals (issue 18 item 3).

Defaults: MEP peak-to-peak in 15..50 ms; reject at >= 50 µV RMS or >= 200 µV peak in
-50..-5 ms (BEST: 200 µV in that window; ecosystem.md 10.2)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stimctl.errors import ConfigError
from stimctl.lab.mep_window import MepWindows, WindowGap, measure

RATE = 2000.0
TIMES = np.arange(-0.1, 0.1, 1 / RATE)


def trial(
    *, mep_uv: float = 0.0, background: np.ndarray | None = None, dc: float = 0.0
) -> np.ndarray:
    values = np.full(TIMES.size, dc)
    inside = (TIMES >= 0.021) & (TIMES < 0.036)
    values[inside] += mep_uv / 2 * np.sin(2 * np.pi * (TIMES[inside] - 0.021) / 0.015)
    if background is not None:
        values += background
    return values


def burst(rms: float, start: float = -0.06, end: float = -0.0) -> np.ndarray:
    out = np.zeros(TIMES.size)
    inside = (start <= TIMES) & (end > TIMES)
    out[inside] = rms * np.where(np.arange(inside.sum()) % 2 == 0, 1.0, -1.0)  # RMS = rms
    return out


def spike(peak: float, at: float = -0.02) -> np.ndarray:
    out = np.zeros(TIMES.size)
    out[np.argmin(abs(TIMES - at))] = peak
    return out


@pytest.mark.parametrize(
    ("background", "rejected_by"),
    [
        (None, None),
        (burst(49.0), None),
        (burst(50.0), "RMS"),  # the limit itself rejects (>=)
        (burst(120.0), "RMS"),
        (spike(190.0), None),
        (spike(205.0), "peak"),  # one spike: RMS stays low, the peak rule catches it
        (burst(200.0, start=0.06, end=0.09), None),  # activity after the MEP window: not background
    ],
)
def test_background_rule(background: np.ndarray | None, rejected_by: str | None) -> None:
    trace = measure(
        TIMES,
        trial(mep_uv=300.0, background=background),
        intensity=60,
        rate_hz=RATE,
        windows=MepWindows(),
    )
    if rejected_by is None:
        assert trace.rejected is None
    else:
        assert trace.rejected is not None and rejected_by in trace.rejected
        assert "-50..-5 ms" in trace.rejected


@given(
    amplitude=st.floats(0.0, 5000.0),
    dc=st.floats(-5000.0, 5000.0),
)
def test_amplitude_is_peak_to_peak_and_offset_free(amplitude: float, dc: float) -> None:
    trace = measure(
        TIMES, trial(mep_uv=amplitude, dc=dc), intensity=50, rate_hz=RATE, windows=MepWindows()
    )
    assert trace.amplitude_uv == pytest.approx(amplitude, rel=0.02, abs=1e-6)
    assert trace.rejected is None  # a DC offset is not muscle activity


def test_a_configured_window_moves_the_measurement() -> None:
    late = MepWindows(mep_start_s=0.040, mep_end_s=0.080)
    trace = measure(TIMES, trial(mep_uv=300.0), intensity=50, rate_hz=RATE, windows=late)
    assert trace.amplitude_uv == 0.0  # the MEP at 21-36 ms lies outside 40-80 ms


def test_missing_samples_are_a_gap_not_a_small_mep() -> None:
    keep = ~((TIMES > 0.02) & (TIMES < 0.045))
    with pytest.raises(WindowGap, match="expected"):
        measure(
            TIMES[keep], trial(mep_uv=300.0)[keep], intensity=50, rate_hz=RATE, windows=MepWindows()
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mep_start_s": 0.05, "mep_end_s": 0.015},
        {"mep_start_s": -0.01},
        {"background_end_s": 0.01},
        {"background_rms_uv": 0.0},
        {"background_peak_uv": float("nan")},
    ],
)
def test_bad_windows_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        MepWindows(**kwargs)
