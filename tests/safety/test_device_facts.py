"""Device facts of safety-limits 13.1 (issue 15 item 6), each against its source.

- standard Rapid² profiles: 50 Hz at 240 V (datasheet "Upper Frequency Single PSU - 50Hz",
  SciCrunch SCR_026437 [V2], = MagPy's 240 V table) and MagPy's 115 V table maximum;
- the dual-supply unit at 80% output: the lower of MagPy (35 Hz) and the datasheet
  (30 Hz);
- outputs above 100% (enhanced power) have no energy data: refused, never extrapolated.
"""

from __future__ import annotations

import pytest

from drivers.magstim import rapid_tables as driver_tables
from stimctl.device_profiles import load_profile, rapid_max_frequency_hz
from tests.builders import check, subject, train

# (profile, expected max_frequency_hz, source of the number)
PROFILE_MAXIMA = [
    ("magstim-rapid2-standard-240v", 50.0, "datasheet single PSU 50 Hz = MagPy 240 V table"),
    ("magstim-rapid2-standard-115v", 36.0, "MagPy 115 V standard table maximum"),
    ("magstim-rapid2-super-240v", 100.0, "datasheet dual PSU 100 Hz = MagPy"),
]


@pytest.mark.parametrize(("name", "expected", "why"), PROFILE_MAXIMA)
def test_profile_maximum_frequency_matches_its_source(name: str, expected: float, why: str) -> None:
    profile = load_profile(name)
    assert profile.max_frequency_hz == expected, why
    # the profile's maximum is never above what the power table itself allows
    table_max = max(rapid_max_frequency_hz(profile, p) or 0.0 for p in range(101))
    assert profile.max_frequency_hz <= table_max


@pytest.mark.parametrize("mains", [240, 115])
def test_standard_profile_maximum_is_the_magpy_table_maximum(mains: int) -> None:
    profile = load_profile(f"magstim-rapid2-standard-{mains}v")
    assert profile.max_frequency_hz == max(
        driver_tables.max_frequency_hz(mains, 0, p) for p in range(101)
    )


# (profile, dose % MSO, frequency, expected DEV-FREQ severity, expected limit)
DATASHEET_POINTS = [
    # Super Rapid² (dual PSU), 240 V: MagPy gives 35 Hz at 80%, the datasheet 30 Hz
    ("magstim-rapid2-super-240v", 80.0, 32.0, "block", 30.0),
    ("magstim-rapid2-super-240v", 80.0, 30.0, "allow", 30.0),
    # above 80% the datasheet point still caps (frequency never rises with power)
    ("magstim-rapid2-super-240v", 85.0, 31.0, "block", 30.0),
    # below 80% MagPy's own entry governs
    ("magstim-rapid2-super-240v", 79.0, 36.0, "allow", 36.0),
    # single PSU: datasheet 18 Hz at 80% = MagPy, no change
    ("magstim-rapid2-standard-240v", 80.0, 18.0, "allow", 18.0),
]


@pytest.mark.parametrize(("name", "dose", "hz", "severity", "limit"), DATASHEET_POINTS)
def test_dual_supply_80_percent_point_takes_the_lower_value(
    name: str, dose: float, hz: float, severity: str, limit: float
) -> None:
    p = train(hz, 100, 1.0, 10.0, trains=2)
    verdict = check(p, subject=subject(rmt=dose), device=load_profile(name))
    finding = next(f for f in verdict.findings if f.rule == "DEV-FREQ")
    assert (finding.severity.value, finding.limit) == (severity, limit)
    if limit == 30.0:
        assert "datasheet" in finding.message
        assert "SCR_026437" in finding.source


@pytest.mark.parametrize("rmt", [53.0, 55.0])
def test_enhanced_power_outputs_are_refused_for_lack_of_energy_data(rmt: float) -> None:
    # 200% RMT of 53-55% MSO = 106-110% MSO: inside the enhanced-power range (101-110%)
    verdict = check(
        train(1, 200, 5.0, 10.0, trains=2),
        subject=subject(rmt=rmt),
        device=load_profile("magstim-rapid2-super-240v"),
        site=None,
    )
    finding = next(f for f in verdict.findings if f.rule == "INT-5")
    assert finding.severity.value == "block"
    assert "no energy data" in finding.message
    assert "extrapolat" in finding.message
