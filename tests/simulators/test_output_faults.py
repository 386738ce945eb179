"""Issue 12 item 1 on the simulators: a BiStim² really fires B after A when B has power
and its mode times B from A's trigger; the `ignore_settings` and `sticky_b_power` faults
acknowledge a setting and change nothing; spec keys put a unit in a left-over state."""

from __future__ import annotations

import pytest

from simulators import create_simulator
from simulators.magstim import BiStimSimulator, Magstim200Simulator, RapidSimulator
from simulators.magventure import MagProX100Simulator
from stimctl.clock import VirtualClock
from tests.simulators.conftest import exchange, magpro, magstim

Q = magstim(b"Q@")
J = magstim(b"J@")
ARM, FIRE = magstim(b"EB"), magstim(b"EH")


def _fire(sim: BiStimSimulator | Magstim200Simulator, clock: VirtualClock) -> float:
    exchange(sim, ARM)
    clock.advance(0.95)
    exchange(sim, Q)
    t0 = clock.now()
    exchange(sim, FIRE)
    clock.advance(0.2)
    return t0


def test_bistim_left_at_b_100_and_3_ms_fires_b_after_every_a(clock: VirtualClock) -> None:
    sim = create_simulator("magstim-bistim?power_b=100&interval=3", clock)
    exchange(sim, Q)
    t0 = _fire(sim, clock)  # type: ignore[arg-type]
    assert [(p.channel, p.intensity) for p in sim.pulses] == [("A", 30), ("B", 100)]
    assert sim.pulses[1].time == pytest.approx(t0 + 0.003)


def test_bistim_b_at_high_resolution_follows_in_tenths_of_a_ms(clock: VirtualClock) -> None:
    sim = create_simulator("magstim-bistim?power_b=60&interval=25&high_res=1", clock)
    exchange(sim, Q)
    t0 = _fire(sim, clock)  # type: ignore[arg-type]
    assert [(p.channel, p.intensity) for p in sim.pulses] == [("A", 30), ("B", 60)]
    assert sim.pulses[1].time == pytest.approx(t0 + 0.0025)


def test_bistim_with_b_at_zero_fires_a_only(clock: VirtualClock) -> None:
    sim = BiStimSimulator(clock)
    exchange(sim, Q)
    exchange(sim, magstim(b"A000"))
    _fire(sim, clock)
    assert [(p.channel, p.intensity) for p in sim.pulses] == [("A", 30)]


@pytest.mark.parametrize(("mode", "fires_b"), [("0", False), ("3", False), ("1", True)])
def test_bistim_b_follows_a_only_in_the_master_timing_modes(
    clock: VirtualClock, mode: str, fires_b: bool
) -> None:
    sim = BiStimSimulator(clock)
    sim.set_state(system_mode=mode, power_b=50)
    exchange(sim, Q)
    _fire(sim, clock)
    assert [p.channel for p in sim.pulses] == (["A", "B"] if fires_b else ["A"])


def test_b_pulses_heat_the_coil_too(clock: VirtualClock) -> None:
    with_b = BiStimSimulator(clock, seed=1)
    without_b = BiStimSimulator(clock, seed=1)
    for sim, b in ((with_b, b"A100"), (without_b, b"A000")):
        exchange(sim, Q)
        exchange(sim, magstim(b))
    _fire(with_b, clock)
    _fire(without_b, clock)
    assert max(with_b.coil_temperatures()) > max(without_b.coil_temperatures())


def test_sticky_b_power_acknowledges_and_keeps_b(clock: VirtualClock) -> None:
    sim = create_simulator("magstim-bistim?power_b=100&sticky_b_power=1", clock)
    exchange(sim, Q)
    assert exchange(sim, magstim(b"A000")) == magstim(b"A\x89")  # a normal reply ...
    assert exchange(sim, J) == magstim(b"J\x89" + b"030100010")  # ... B still 100 %
    exchange(sim, magstim(b"@045"))
    assert exchange(sim, J)[2:5] == b"045"  # other settings still work


@pytest.mark.parametrize("frame", [b"@045", b"A000", b"C005", b"Y@"])
def test_ignore_settings_acknowledges_every_setting_and_changes_nothing(
    clock: VirtualClock, frame: bytes
) -> None:
    sim = create_simulator("magstim-bistim?ignore_settings=1", clock)
    exchange(sim, Q)
    before = exchange(sim, J)
    reply = exchange(sim, magstim(frame))
    assert reply == magstim(frame[:1] + b"\x89")
    assert exchange(sim, J) == before
    assert not sim.state.high_res  # type: ignore[attr-defined]


def test_ignore_settings_on_a_rapid_keeps_its_train(clock: VirtualClock) -> None:
    sim = RapidSimulator(clock, version="10.0", unlock_code="abcd-0123abcd-5e")
    sim.set_state(rtms=True, frequency_hz=10.0, pulses=100, duration_s=10.0)
    exchange(sim, magstim(b"Qabcd-0123abcd-5e"))
    sim.faults.ignore_settings = True
    assert exchange(sim, magstim(b"[0000"))[:1] == b"["  # acknowledged ...
    assert sim.rtms and sim.n_pulses == 100  # ... still in train mode


def test_ignore_settings_on_a_magpro_keeps_amplitude_and_mode(clock: VirtualClock) -> None:
    sim = MagProX100Simulator(clock)
    sim.faults.ignore_settings = True
    ack = exchange(sim, magpro(bytes([1, 70, 0])))
    assert ack == magpro(bytes([1, 50, 0, sim.status_byte()]))  # ID 1 with the old value
    exchange(sim, magpro(bytes([9, 1, 1, 0, 0, 0, 3, 0, 100, 0, 100])))  # monophasic
    assert sim.state.waveform == 1 and sim.state.amplitude_a == 50
    assert exchange(sim, magpro(bytes([9]) + bytes(10)))[:3] == bytes([0xFE, 10, 9])  # get


def test_sticky_b_power_on_a_magpro_sets_a_only(clock: VirtualClock) -> None:
    sim = create_simulator("magpro-x100?magoption=1&amplitude_b=100&mode=3", clock)
    sim.faults.sticky_b_power = True
    exchange(sim, magpro(bytes([1, 40, 0])))
    assert (sim.state.amplitude_a, sim.state.amplitude_b) == (40, 100)  # type: ignore[attr-defined]


def test_magpro_spec_keys_set_the_left_over_state(clock: VirtualClock) -> None:
    sim = create_simulator("magpro-x100?waveform=0&direction=1", clock)
    assert (sim.state.waveform, sim.state.direction) == (0, 1)  # type: ignore[attr-defined]
    assert sim.status_byte() & 0x0C == 0  # type: ignore[attr-defined]  # B3 waveform bits
