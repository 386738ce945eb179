"""Issue 12 item 1, per driver family: a device left in another output state by an
earlier study is put back to the planned (single-pulse) state before arming, and a device
that does not take a setting - its read-back differs - is never armed.

Every driver against its byte-level simulator over `stimsim://`, on a virtual clock
(the `rig` fixture of test_conformance). The simulator's own pulse log is the judge.
"""

from __future__ import annotations

from typing import Any

import pytest

from stimctl.errors import OutputStateMismatch
from tests.drivers.test_conformance import Rig, rig  # noqa: F401  (the fixture)

# What an earlier study may have left on each model, and the read-back parameter that
# must then differ when the device ignores the host's settings.
LEFT_OVER: dict[str, tuple[dict[str, Any], str, object, object]] = {
    # the front panel changed power A after the host set it
    "magstim-200": ({"power_a": 55}, "power_a", 42, 55),
    # a paired-pulse study: B at 100 % MSO, 3 ms (the example)
    "magstim-bistim": ({"power_b": 100, "interval": 3}, "power_b", 0, 100),
    # a device-timed rTMS train still loaded: one trigger would run all 100 pulses
    "magstim-rapid2": (
        {"rtms": True, "frequency_hz": 10.0, "pulses": 100, "duration_s": 10.0},
        "train_mode",
        False,
        True,
    ),
    # a monophasic study on a biphasic site
    "magpro-x100": ({"waveform": 0}, "waveform", 1, 0),
}


def _fire_once(rig: Rig) -> None:  # noqa: F811
    rig.driver.arm()
    rig.driver.wait_ready(timeout_s=5.0, poll_s=0.2)
    rig.driver.fire()
    rig.clock.advance(0.5)
    rig.driver.status()


def test_a_left_over_output_state_is_restored_before_arming(rig: Rig) -> None:  # noqa: F811
    left, _, _, _ = LEFT_OVER[rig.sim.model]
    rig.driver.open()
    rig.driver.set_intensity(42)
    rig.sim.set_state(**left)  # an earlier study / the front panel
    _fire_once(rig)
    # pulse for pulse: one trigger, one pulse, on A, at the planned intensity
    assert [(p.channel, p.intensity) for p in rig.sim.pulses] == [("A", 42)]


def test_a_device_that_ignores_a_setting_is_never_armed(rig: Rig) -> None:  # noqa: F811
    left, parameter, wanted, read = LEFT_OVER[rig.sim.model]
    rig.driver.open()
    rig.driver.set_intensity(42)
    rig.sim.set_state(**left)
    rig.sim.faults.ignore_settings = True
    with pytest.raises(OutputStateMismatch) as info:
        rig.driver.arm()
    assert (info.value.parameter, info.value.wanted, info.value.read) == (parameter, wanted, read)
    assert f"{parameter} reads {read!r}, planned {wanted!r}" in str(info.value)
    assert "not arming" in str(info.value)
    assert not rig.device_may_be_armed()
    assert rig.sim.pulses == []


def test_an_intensity_the_device_ignores_is_an_error_at_once(rig: Rig) -> None:  # noqa: F811
    rig.driver.open()
    rig.sim.faults.ignore_settings = True
    with pytest.raises(OutputStateMismatch, match="power_a reads") as info:
        rig.driver.set_intensity(42)
    assert info.value.wanted == 42
    with pytest.raises(OutputStateMismatch):  # and arming stays refused
        rig.driver.arm()
    assert not rig.device_may_be_armed()
    assert rig.sim.pulses == []


def test_a_bistim_behind_a_200_profile_with_b_powered_is_never_armed() -> None:
    """The wrong profile: the 200² driver cannot set B, but reads it in `J` and refuses."""
    import itertools

    import serial

    from stimctl.clock import VirtualClock
    from stimctl.hal import Transport, load_driver

    simulators = pytest.importorskip("simulators")
    simulators.install_url_handler()
    clock = VirtualClock()
    name = f"bistim-as-200-{next(itertools.count())}"
    simulators.register_clock(name, clock)
    port = serial.serial_for_url(f"stimsim://magstim-bistim?power_b=100&clock={name}", timeout=0.02)
    driver = load_driver("magstim-200")("stimsim://", clock=clock, transport=Transport(port))
    try:
        driver.open()
        driver.set_intensity(42)
        with pytest.raises(OutputStateMismatch, match="power_b reads 100, planned 0"):
            driver.arm()
        assert not port.simulator.armed and port.simulator.pulses == []
    finally:
        driver.close()
        simulators.unregister_clock(name)
