"""The default coil model: what the energy rules allow runs, more than that locks out."""

from __future__ import annotations

from simulators.magstim.tables import joules
from simulators.thermal import CoilThermal


def run(rate_hz: float, power: int, seconds: float) -> CoilThermal:
    coil = CoilThermal(0.0, 24.0, 24.0)
    for i in range(int(rate_hz * seconds)):
        coil.heat(i / rate_hz, joules(power))
    return coil


def test_a_30_minute_1_hz_session_at_55_percent_stays_cool() -> None:
    coil = run(1.0, 55, 1800)
    assert coil.hottest(1800) < 30.0
    assert not coil.locked_out(1800)


def test_continuous_power_beyond_the_rapid_limit_locks_out_within_minutes() -> None:
    coil = run(10.0, 80, 600)  # 1612 J/s, over the 1050 J/s continuous limit (A9)
    assert coil.locked_out(600)


def test_lockout_holds_until_the_release_temperature() -> None:
    coil = CoilThermal(0.0, 40.0, 24.0)
    assert coil.locked_out(0.0)
    assert coil.locked_out(10.0)  # 39.5 °C: still above the 39 °C release
    assert not coil.locked_out(60.0)
