"""A virtual subject under the simulated coil: each logged pulse carries its MEP."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import serial

from simulators import SimSpecError, SimulatorBase, create_simulator
from simulators.magstim import BiStimSimulator, Magstim200Simulator
from simulators.magventure import MagProX100Simulator
from simulators.virtual_subject import VirtualSubject
from stimctl.clock import VirtualClock
from tests.simulators.conftest import exchange, magpro, magstim, sim_of

ENABLE = magpro(b"\x02\x01")
MAGPRO_FIRE = magpro(b"\x03\x01")
Q, ARM, FIRE = magstim(b"Q@"), magstim(b"EB"), magstim(b"EH")


@dataclass
class RecordingSubject:
    """Answers intensity * 10 µV and remembers every intensity it was stimulated at."""

    asked: list[float] = field(default_factory=list)

    def mep_uv(self, intensity_percent_mso: float) -> float:
        self.asked.append(intensity_percent_mso)
        return intensity_percent_mso * 10.0


def magpro_pulse(sim: SimulatorBase, clock: VirtualClock, intensity: int) -> None:
    exchange(sim, magpro(bytes([1, intensity])))
    exchange(sim, MAGPRO_FIRE)
    clock.advance(1.0)  # past the single-trigger rate limit


def magstim_pulse(sim: SimulatorBase, clock: VirtualClock, intensity: int) -> None:
    exchange(sim, Q)
    exchange(sim, magstim(f"@{intensity:03d}".encode()))
    exchange(sim, ARM)
    for _ in range(3):  # ready within about a second, keep-alive on the way
        clock.advance(0.4)
        exchange(sim, Q)
    exchange(sim, FIRE)


def test_without_a_subject_a_pulse_has_no_mep(clock: VirtualClock) -> None:
    sim = MagProX100Simulator(clock)
    exchange(sim, ENABLE)
    magpro_pulse(sim, clock, 70)
    assert sim.subject is None
    assert [(p.intensity, p.mep_uv) for p in sim.pulses] == [(70, None)]


def test_spec_subject_draws_the_same_meps_as_that_seeded_subject(clock: VirtualClock) -> None:
    sim = create_simulator("magpro-x100?subject_rmt=55&subject_seed=4", clock)
    exchange(sim, ENABLE)
    for intensity in (40, 55, 80):
        magpro_pulse(sim, clock, intensity)
    twin = VirtualSubject(55, 4)
    expected = [twin.mep_uv(x) for x in (40, 55, 80)]
    assert [p.mep_uv for p in sim.pulses] == pytest.approx(expected)


def test_meps_follow_the_subjects_threshold(clock: VirtualClock) -> None:
    sim = create_simulator("magpro-x100?subject_rmt=50&subject_seed=1", clock)
    exchange(sim, ENABLE)
    for intensity in (25, 25, 25, 90, 90, 90):
        magpro_pulse(sim, clock, intensity)
    meps = [p.mep_uv or 0.0 for p in sim.pulses]
    assert all(m < 50 for m in meps[:3]), meps  # half the threshold: baseline only
    assert all(m > 50 for m in meps[3:]), meps  # far above it: a response every time


def test_attach_subject_reports_its_meps_and_detaching_stops_them(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    subject = RecordingSubject()
    sim.attach_subject(subject)
    assert sim.subject is subject
    magstim_pulse(sim, clock, 62)
    sim.attach_subject(None)
    clock.advance(4.0)
    magstim_pulse(sim, clock, 62)
    assert subject.asked == [62]
    assert [p.mep_uv for p in sim.pulses] == [620.0, None]


def test_each_bistim_unit_draws_an_mep_at_its_own_intensity(clock: VirtualClock) -> None:
    sim = BiStimSimulator(clock)
    subject = RecordingSubject()
    sim.attach_subject(subject)
    exchange(sim, Q)
    exchange(sim, magstim(b"@030"))
    exchange(sim, magstim(b"A040"))
    exchange(sim, magstim(b"C025"))  # 25 ms between the units
    exchange(sim, ARM)
    for _ in range(3):
        clock.advance(0.4)
        exchange(sim, Q)
    exchange(sim, FIRE)
    clock.advance(0.1)
    assert [(p.channel, p.intensity, p.mep_uv) for p in sim.pulses] == [
        ("A", 30, 300.0),
        ("B", 40, 400.0),
    ]


def test_every_pulse_of_a_device_timed_train_draws_an_mep(clock: VirtualClock) -> None:
    sim = create_simulator("magpro-x100?subject_rmt=60", clock)
    subject = RecordingSubject()
    sim.attach_subject(subject)
    exchange(sim, ENABLE)
    exchange(sim, magpro(bytes([1, 45])))
    exchange(sim, magpro(b"\x07\x02\x00"))  # Timing page
    exchange(sim, magpro(bytes.fromhex("06 000A 0005 0001 000A")))  # 1 pps, 5 pulses, 1 train
    exchange(sim, magpro(b"\x04"))
    clock.advance(30.0)
    sim.poll()
    assert len(sim.pulses) == 5
    assert subject.asked == [45] * 5
    assert [p.mep_uv for p in sim.pulses] == [450.0] * 5


def test_the_url_handler_takes_the_subject_keys(url_clock: str) -> None:
    port = serial.serial_for_url(
        f"stimsim://magstim-200?subject_rmt=61.5&subject_seed=7&clock={url_clock}"
    )
    subject = sim_of(port).subject
    assert isinstance(subject, VirtualSubject)
    assert subject.true_rmt == 61.5
    port.close()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("subject_seed=3", "subject_seed needs subject_rmt"),
        ("subject_rmt=0", "above 0"),
        ("subject_rmt=-5", "subject_rmt must be"),
        ("subject_rmt=250", "subject_rmt must be"),
        ("subject_rmt=abc", "must be a number"),
        ("subject_rmt=50&subject_seed=x", "must be an integer"),
    ],
)
def test_bad_subject_keys_are_spec_errors(query: str, message: str) -> None:
    with pytest.raises(SimSpecError, match=message):
        create_simulator(f"magstim-200?{query}", VirtualClock())
