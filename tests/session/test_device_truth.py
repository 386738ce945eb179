"""One source of device truth (issue 14 item 2): at open the driver's report is compared
with the device profile, and a unit that is not the profiled one is refused, both values
named, before anything is set or armed."""

from __future__ import annotations

from pathlib import Path

import pytest

from stimctl.clock import SimulatedClock
from stimctl.device_profiles import load_profile
from stimctl.errors import ConfigError
from stimctl.hal import Capabilities, DeviceIdentity
from stimctl.safety import MotorThreshold, SiteRules, Subject
from stimctl.session.device_truth import disagreements
from stimctl.session.runner import prepare
from stimctl.session.simulation import SimulatedDevice, open_simulated_session
from tests.session.harness import NOW, TRAINS, write_protocol


def test_a_simulator_of_another_model_is_refused_with_both_models_named(
    tmp_path: Path,
) -> None:
    """An X100 profile whose driver options do not pin the model (a site's copy): the
    driver then reports what the unit says, here an R30, and the profile's `model` refuses
    it, before the journal and before anything is set or armed."""
    import dataclasses

    protocol = write_protocol(tmp_path, TRAINS.format(trains=1))
    subject = Subject(MotorThreshold(40.0, "emg", NOW.date()))
    prepared = prepare(protocol, subject, "magpro-x100", site=SiteRules(), now=NOW)
    options = {k: v for k, v in prepared.device.driver_options.items() if k != "model"}
    unpinned = prepared.device.model_copy(update={"driver_options": options})
    prepared = dataclasses.replace(prepared, device=unpinned)
    sim = SimulatedDevice(load_profile("magpro-r30"), SimulatedClock())
    try:
        with pytest.raises(ConfigError) as refused:
            open_simulated_session(prepared, sim, journal_dir=tmp_path / "journals")
        message = str(refused.value)
        assert "model: profile 'MagPro X100', device 'MagPro R30'" in message
        assert "train frequency: profile 0.1-100 Hz, device 0.1-30 Hz" in message
        assert sim.check_disarmed()
        assert sim.pulse_log() == []
        journals = tmp_path / "journals"
        assert not journals.exists() or not any(journals.iterdir())
    finally:
        sim.__exit__(None, None, None)


def _caps(**changes: object) -> Capabilities:
    base: dict[str, object] = {
        "model": "MagPro X100",
        "output_range_pct": (0, 100),
        "frequency_range_hz": (0.1, 100.0),
        "device_timed_trains": True,
        "keepalive_period_s": None,
    }
    base.update(changes)
    return Capabilities(**base)  # type: ignore[arg-type]


IDENTITY = DeviceIdentity(vendor="MagVenture", model="MagPro X100")


@pytest.mark.parametrize(
    ("caps", "identity", "named"),
    [
        (_caps(), IDENTITY, []),
        (
            _caps(model="MagPro R30"),
            IDENTITY,
            ["model: profile 'MagPro X100', device 'MagPro R30'"],
        ),
        (_caps(), DeviceIdentity("Magstim", "MagPro X100"), ["vendor: profile 'magventure'"]),
        (_caps(output_range_pct=(0, 90)), IDENTITY, ["profile 100% MSO, device 90%"]),
        (
            _caps(frequency_range_hz=(0.1, 30.0)),
            IDENTITY,
            ["profile 0.1-100 Hz, device 0.1-30 Hz"],
        ),
    ],
)
def test_each_disagreement_names_both_values(
    caps: Capabilities, identity: DeviceIdentity, named: list[str]
) -> None:
    found = disagreements(load_profile("magpro-x100"), identity, caps)
    assert len(found) == len(named)
    for text, expected in zip(found, named, strict=True):
        assert expected in text


@pytest.mark.parametrize(
    "name",
    [p.stem for p in sorted((Path(__file__).parents[2] / "configs" / "devices").glob("*.toml"))],
)
def test_every_shipped_profile_agrees_with_its_own_simulator(name: str) -> None:
    """The shipped profiles and drivers say the same thing (else every session is refused)."""
    from stimctl.clock import driving
    from stimctl.hal._registry import load_allowed_driver

    profile = load_profile(name)
    clock = SimulatedClock()
    sim = SimulatedDevice(profile, clock)
    driver_cls, _ = load_allowed_driver(profile.driver, None)
    try:
        with driving(clock):
            driver = driver_cls(
                sim.url,
                clock=clock,
                transport=sim.open_transport(),
                **{**profile.driver_options, **sim.driver_options},
            )
            driver.open()
            try:
                assert disagreements(profile, driver.identify(), driver.capabilities()) == []
            finally:
                driver.close()
    finally:
        sim.__exit__(None, None, None)
