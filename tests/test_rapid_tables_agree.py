"""The Rapid² maximum-frequency and energy tables exist three times on purpose: in
configs/ for the safety engine, in the driver and in the simulator, which must not
share code (ARCHITECTURE rule 1: a shared table would share its mistakes silently).
This test is where the three copies meet, entry by entry, so none can drift."""

from __future__ import annotations

import pytest

from drivers.magstim import rapid_tables as driver_tables
from simulators.magstim import tables as simulator_tables
from stimctl.device_profiles import energy_joules, load_profile, rapid_max_frequency_hz

TYPES = {"standard": 0, "super": 1, "super-plus": 2}


@pytest.mark.parametrize("mains", [240, 115])
@pytest.mark.parametrize("kind", sorted(TYPES))
def test_maximum_frequency_by_power_agrees(kind: str, mains: int) -> None:
    profile = load_profile(f"magstim-rapid2-{kind}-{mains}v")
    for power in range(101):
        config = rapid_max_frequency_hz(profile, power)
        driver = driver_tables.max_frequency_hz(mains, TYPES[kind], power)
        simulator = simulator_tables.max_frequency_hz(mains, TYPES[kind], power)
        assert config == driver == simulator, (kind, mains, power)


def test_energy_per_pulse_agrees() -> None:
    config = energy_joules("rapid2-joules")
    assert config == tuple(simulator_tables.joules(p) for p in range(101))
