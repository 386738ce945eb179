"""Deliverability on a device: frequency by power, Rapid² energy limits, ceilings."""

from __future__ import annotations

import pytest

from stimctl.device_profiles import load_profile, parse_runs, rapid_energy_j, rapid_max_frequency_hz
from stimctl.errors import ConfigError
from tests.builders import check, rules_at, subject, theta_burst, train

STANDARD = "magstim-rapid2-standard-240v"
SUPER_PLUS = "magstim-rapid2-super-plus-240v"


def test_rapid_tables_match_the_reference_points() -> None:
    standard = load_profile(STANDARD)
    # device-protocols A9 / datasheet: 50 Hz up to 30%, 30 Hz at 50%, 18 Hz at 80%, 15 at 100%
    assert [rapid_max_frequency_hz(standard, p) for p in (30, 50, 80, 100)] == [50, 30, 18, 15]
    assert rapid_energy_j(standard, 50) == 63.0
    assert rapid_energy_j(standard, 100) == 252.0
    # a fractional power rounds up to the stricter entry
    assert rapid_max_frequency_hz(standard, 30.2) == 46


def test_runs_must_cover_every_power() -> None:
    with pytest.raises(ConfigError, match="every power"):
        parse_runs("0-99:50", "x")


def test_frequency_above_the_rapid_maximum_at_that_power_blocks() -> None:
    # 20 Hz at 100% RMT of 80% MSO = 80% MSO: standard Rapid² allows 18 Hz there.
    verdict = check(
        train(20, 100, 1.0, 20.0), subject=subject(rmt=80), device=load_profile(STANDARD)
    )
    assert verdict.verdict.value == "block"
    finding = next(f for f in verdict.findings if f.rule == "DEV-FREQ")
    assert (finding.value, finding.limit) == (20.0, 18.0)
    assert "not deliverable" in finding.message


def test_theta_burst_at_50hz_needs_a_device_that_can() -> None:
    itbs = theta_burst(120)
    low = check(itbs, subject=subject(rmt=55), device=load_profile(STANDARD))  # 66% MSO
    assert "TBS-5" in rules_at(low, "block")
    magpro = check(itbs, subject=subject(rmt=55), device=load_profile("magpro-x100"))
    assert "TBS-5" in rules_at(magpro, "allow")
    assert "TBS-5" not in rules_at(magpro, "block")
    # a Super Rapid² Plus reaches 50 Hz at 66% MSO, but only as a device-timed train:
    # bursts must be triggered one by one, at 1 Hz at most over serial
    plus = check(itbs, subject=subject(rmt=55), device=load_profile(SUPER_PLUS))
    assert "TBS-5" in rules_at(plus, "block")


def test_rapid_minimum_wait_blocks_a_short_interval() -> None:
    # 73% MSO, 25 Hz, 10 s, 250 pulses: E = 134.2 J, t_wait = 21.95 s (TDb087 3.1.1 example)
    p = train(25, 100, 10.0, 10.0)
    verdict = check(p, subject=subject(rmt=73), device=load_profile(SUPER_PLUS), site=None)
    wait = next(f for f in verdict.findings if f.rule == "ITI-7")
    assert wait.severity.value == "block"
    assert wait.limit == pytest.approx(21.95, abs=0.01)


def test_rapid_maximum_on_time_blocks_a_long_train() -> None:
    # same example: t_max_on = 18.78 s; a 20 s train cannot run
    p = train(25, 100, 20.0, 60.0)
    verdict = check(p, subject=subject(rmt=73), device=load_profile(SUPER_PLUS))
    on_time = next(f for f in verdict.findings if f.rule == "DEV-ONTIME")
    assert on_time.severity.value == "block"
    assert on_time.limit == pytest.approx(18.78, abs=0.01)


def test_single_pulse_device_cannot_run_trains() -> None:
    verdict = check(train(10, 100, 4.0, 26.0), device=load_profile("magstim-200"))
    assert "DEV-FREQ" in rules_at(verdict, "block")


def test_without_a_device_only_the_100_percent_ceiling_applies() -> None:
    verdict = check(train(10, 100, 4.0, 26.0), subject=subject(rmt=99.0))
    assert not any(f.rule.startswith(("DEV-", "TBS-5", "ITI-7")) for f in verdict.findings)
    ceiling = next(f for f in verdict.findings if f.rule == "INT-5")
    assert ceiling.limit == 100.0
