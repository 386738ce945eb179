"""Magstim 200² / BiStim² / Rapid² simulators: state machine on a virtual clock, reply
lengths, error replies, unlock code, heating (device-protocols PART A, PART E)."""

from __future__ import annotations

import pytest

from simulators import create_simulator
from simulators.magstim import BiStimSimulator, Magstim200Simulator, RapidSimulator
from stimctl.clock import VirtualClock
from tests.simulators.conftest import exchange, magstim

Q = magstim(b"Q@")
X = magstim(b"x@")
ARM, DISARM, FIRE = magstim(b"EB"), magstim(b"EA"), magstim(b"EH")
CODE = b"abcd-0123abcd-5e"


def status(reply: bytes) -> int:
    assert len(reply) >= 3 and reply[-1] == ~sum(reply[:-1]) & 0xFF, reply.hex(" ")
    return reply[1]


def under_control(sim: Magstim200Simulator | BiStimSimulator) -> None:
    assert status(exchange(sim, Q)) & 0x80


def armed_and_ready(sim: Magstim200Simulator, clock: VirtualClock) -> None:
    under_control(sim)
    assert exchange(sim, ARM)[:2] == b"E\x89"
    clock.advance(0.5)
    exchange(sim, Q)
    clock.advance(0.45)
    assert status(exchange(sim, Q)) == 0x8C


# --- arming, readiness, recharge --------------------------------------------------------


def test_arm_becomes_ready_within_about_a_second(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    under_control(sim)
    exchange(sim, ARM)
    assert status(exchange(sim, Q)) == 0x8A  # armed, not yet ready
    clock.advance(0.5)
    assert status(exchange(sim, Q)) == 0x8A
    clock.advance(0.45)
    assert status(exchange(sim, Q)) == 0x8C  # ready: armed bit clear (A3)


def test_fire_logs_one_pulse_at_the_clock_time_then_recharges(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    exchange(sim, magstim(b"Q@"))
    exchange(sim, magstim(b"@070"))
    armed_and_ready(sim, clock)
    fired_at = clock.now()
    assert exchange(sim, FIRE) == magstim(b"E\x8c")  # pre-change status
    assert [(p.time, p.intensity, p.channel) for p in sim.pulses] == [(fired_at, 70, "A")]
    assert status(exchange(sim, Q)) == 0x8A  # recharging
    assert exchange(sim, FIRE) == magstim(b"ES")  # not ready: conflict, no pulse
    for _ in range(3):  # 70 % -> 3 s recharge (MP-virt model)
        clock.advance(0.9)
        exchange(sim, Q)
    clock.advance(0.4)
    assert status(exchange(sim, Q)) == 0x8C
    assert len(sim.pulses) == 1


def test_post_change_status_reports_the_new_state(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock, status_report="post")
    under_control(sim)
    assert exchange(sim, ARM) == magstim(b"E\x8a")


def test_arm_twice_is_a_conflict(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    under_control(sim)
    exchange(sim, ARM)
    assert exchange(sim, ARM) == bytes.fromhex("45 53 67")


def test_disarm_works_without_remote_control_but_arm_does_not(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    assert exchange(sim, ARM) == magstim(b"ES")
    under_control(sim)
    exchange(sim, ARM)
    exchange(sim, magstim(b"R@"))
    assert exchange(sim, DISARM) == magstim(b"E\x0a")
    assert not sim.armed


def test_power_increase_while_ready_drops_ready_for_10_ms_per_percent(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    armed_and_ready(sim, clock)
    exchange(sim, magstim(b"@050"))  # 30 -> 50 %: 0.2 s
    assert status(exchange(sim, Q)) == 0x8A
    clock.advance(0.21)
    assert status(exchange(sim, Q)) == 0x8C


# --- watchdogs ---------------------------------------------------------------------------


def test_auto_disarm_after_60_s_armed_without_a_pulse(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    armed_and_ready(sim, clock)
    for _ in range(59 * 2):
        clock.advance(0.5)
        exchange(sim, Q)
    assert status(exchange(sim, Q)) == 0x8C
    clock.advance(0.5)
    exchange(sim, Q)
    clock.advance(0.5)
    assert status(exchange(sim, Q)) == 0x89  # standby, still under remote control


def test_keepalive_lapse_when_armed_disarms_and_drops_remote_control(
    clock: VirtualClock,
) -> None:
    sim = Magstim200Simulator(clock)
    armed_and_ready(sim, clock)
    clock.advance(1.01)
    assert status(exchange(sim, Q)) == 0x89  # the Q re-enables control; unit is disarmed
    assert not sim.armed


def test_keepalive_lapse_in_standby_after_10_s(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    under_control(sim)
    clock.advance(9.9)
    assert sim.state.remote
    clock.advance(0.2)
    sim.poll()
    assert not sim.state.remote


def test_keepalive_never_lapses_fault_keeps_the_unit_armed(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    sim.faults.keepalive_never_lapses = True
    armed_and_ready(sim, clock)
    clock.advance(30.0)
    assert sim.armed and sim.state.remote


def test_error_replies_do_not_count_as_keepalive(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    armed_and_ready(sim, clock)
    clock.advance(0.6)
    assert exchange(sim, magstim(b"@ABC")) == bytes.fromhex("40 3F 80")
    clock.advance(0.6)
    sim.poll()
    assert not sim.armed


# --- heating ----------------------------------------------------------------------------


def test_coil_heats_with_pulses_locks_out_at_40_c_and_cools_back(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(
        clock, recharge_s=0.5, coil_temp_c=38.0, ambient_c=24.0, heat_c_per_j=0.0015
    )
    exchange(sim, magstim(b"Q@"))
    exchange(sim, magstim(b"@100"))
    fired = 0
    while fired < 20:
        armed = exchange(sim, ARM)
        if armed == magstim(b"ES") and not sim.armed:
            break  # refused: locked out
        clock.advance(0.95)
        exchange(sim, Q)
        if exchange(sim, FIRE) == magstim(b"E\x8c"):
            fired += 1
        clock.advance(0.5)
        exchange(sim, Q)
        exchange(sim, DISARM)
    assert 0 < fired < 20
    assert max(sim.coil_temperatures()) >= 40.0
    assert not sim.armed
    assert exchange(sim, ARM) == magstim(b"ES")
    clock.advance(600.0)  # cools towards 24 °C, below the 39 °C release
    exchange(sim, Q)
    assert max(sim.coil_temperatures()) < 39.0
    assert exchange(sim, ARM)[:2] == b"E\x89"


def test_temperature_reply_reports_the_set_temperature(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    sim.set_coil_temperature(41.5)
    reply = exchange(sim, magstim(b"F@"))
    assert len(reply) == 9 and reply[2:8] == b"415415"


def test_overheating_while_armed_disarms(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    armed_and_ready(sim, clock)
    sim.set_coil_temperature(40.0)
    assert not sim.armed


# --- reply lengths and error replies --------------------------------------------------


LENGTHS = [
    ("magstim-200", b"J@", 12),
    ("magstim-200", b"F@", 9),
    ("magstim-200", b"I@", 6),
    ("magstim-bistim", b"J@", 12),
    ("magstim-bistim", b"X@", 4),
    ("magstim-bistim", b"A050", 3),
    ("magstim-bistim", b"C010", 3),
    ("magstim-bistim", b"Y@", 3),
    ("magstim-rapid2?version=8", b"\\@", 22),
    ("magstim-rapid2?version=6", b"\\@", 21),
    ("magstim-rapid2?version=9", b"\\@", 24),
    ("magstim-rapid2?version=9", b"x@", 6),
    ("magstim-rapid2?version=9", b"o@", 7),
    ("magstim-rapid2?version=10", b"o@", 8),
    ("magstim-rapid2?version=9", b"n0500", 4),
    ("magstim-rapid2?version=10", b"n00500", 6),
    ("magstim-rapid2?version=9", b"B0100", 4),
    ("magstim-rapid2?version=9", b"D00100", 4),
    ("magstim-rapid2?version=8", b"D0100", 4),
    ("magstim-rapid2?version=9", b"^@", 4),
    ("magstim-rapid2?version=9", b"b@", 3),
    ("magstim-rapid2?version=10.1", b"ND", 8),
]


@pytest.mark.parametrize(("spec", "command", "length"), LENGTHS)
def test_reply_has_the_documented_length(spec: str, command: bytes, length: int) -> None:
    sim = create_simulator(spec, clock=VirtualClock())
    sim.set_state(remote=True)
    reply = exchange(sim, magstim(command))
    assert len(reply) == length, reply.hex(" ")
    assert reply[0] == command[0]
    assert reply[-1] == ~sum(reply[:-1]) & 0xFF


@pytest.mark.parametrize(
    ("spec", "command"),
    [
        ("magstim-200", b"\\@"),  # Rapid-only
        ("magstim-200", b"A050"),  # BiStim-only
        ("magstim-rapid2?version=8", b"x@"),  # v9+ only
        ("magstim-rapid2", b"J@"),  # 200²/BiStim only
    ],
)
def test_commands_of_other_models_get_the_bare_question_mark(spec: str, command: bytes) -> None:
    sim = create_simulator(spec, clock=VirtualClock())
    sim.set_state(remote=True)
    assert exchange(sim, command[:1]) == b"?"


def test_bad_host_checksum_is_invalid_data(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    under_control(sim)
    assert exchange(sim, b"@050\x00") == magstim(b"@?")


def test_out_of_range_power_is_invalid_data_not_clipped(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    under_control(sim)
    assert exchange(sim, magstim(b"@101")) == magstim(b"@?")
    assert sim.state.power_a == 30


def test_partial_frame_is_dropped_after_the_inter_byte_timeout(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    assert exchange(sim, b"Q") == b""
    clock.advance(1.0)
    assert exchange(sim, Q) == magstim(b"Q\x89")


def test_bistim_fires_both_units_with_the_interval(clock: VirtualClock) -> None:
    sim = BiStimSimulator(clock)
    exchange(sim, Q)
    exchange(sim, magstim(b"A040"))
    exchange(sim, magstim(b"C025"))  # 25 ms, low-resolution timing
    exchange(sim, ARM)
    clock.advance(0.95)
    exchange(sim, Q)
    t0 = clock.now()
    exchange(sim, FIRE)
    assert [(p.channel, p.intensity) for p in sim.pulses] == [("A", 30), ("B", 40)]
    assert sim.pulses[1].time == pytest.approx(t0 + 0.025)


def test_bistim_timing_mode_cannot_change_while_armed(clock: VirtualClock) -> None:
    sim = BiStimSimulator(clock)
    exchange(sim, Q)
    exchange(sim, ARM)
    assert exchange(sim, magstim(b"Y@")) == magstim(b"YS")


# --- Rapid: unlock code, trains, energy limits -----------------------------------------------


def test_rapid_v9_ignores_commands_until_a_valid_unlock_code(clock: VirtualClock) -> None:
    sim = RapidSimulator(clock, version="9.0", unlock_code=CODE.decode())
    assert exchange(sim, magstim(b"@050")) == b""  # needs remote: silent
    assert exchange(sim, Q) == b""  # Q@ without a code: silent (A11.1)
    assert exchange(sim, magstim(b"Q" + b"ffff-0123abcd-5e")) == b""  # wrong code
    assert exchange(sim, magstim(b"Q" + CODE)) == bytes.fromhex("51 89 25")
    assert exchange(sim, magstim(b"@050"))[:1] == b"@"
    assert exchange(sim, X) == magstim(b"x\x89\x38\x00\x00")


def test_rapid_v9_not_silent_when_configured(clock: VirtualClock) -> None:
    sim = RapidSimulator(clock, version="9.0", silent_without_remote=False)
    assert exchange(sim, magstim(b"@050")) == magstim(b"@S")
    assert exchange(sim, Q) == magstim(b"Q?")


def test_rapid_pre_v9_takes_plain_q(clock: VirtualClock) -> None:
    sim = RapidSimulator(clock, version="8.0")
    assert exchange(sim, Q) == bytes.fromhex("51 89 25")


def rapid_ready_for_train(clock: VirtualClock, **kwargs: object) -> RapidSimulator:
    sim = RapidSimulator(clock, version="10.0", **kwargs)  # type: ignore[arg-type]
    exchange(sim, magstim(b"Q" + CODE))
    exchange(sim, magstim(b"@050"))
    assert exchange(sim, magstim(b"[0010"))[2] == 0x38  # pre-change: still single pulse
    exchange(sim, magstim(b"B0100"))  # 10 Hz
    exchange(sim, magstim(b"D00020"))  # 20 pulses
    exchange(sim, ARM)
    clock.advance(0.95)
    assert status(exchange(sim, X)) == 0x8C
    return sim


def test_rapid_train_delivers_its_pulses_on_the_clock(clock: VirtualClock) -> None:
    sim = rapid_ready_for_train(clock)
    t0 = clock.now()
    exchange(sim, FIRE)
    assert exchange(sim, X)[2] & 0x02  # train running
    clock.advance(0.95)
    exchange(sim, X)
    assert len(sim.pulses) == 10
    clock.advance(0.5)
    exchange(sim, X)
    clock.advance(0.5)
    reply = exchange(sim, X)
    assert [p.time for p in sim.pulses] == pytest.approx([t0 + i / 10 for i in range(20)])
    assert {p.intensity for p in sim.pulses} == {50} and {p.train for p in sim.pulses} == {0}
    assert reply[2] & 0x04  # post-train wait
    assert exchange(sim, magstim(b"B0050")) == magstim(b"BS")  # no changes during the wait
    clock.advance(0.6)
    assert status(exchange(sim, X)) == 0x8C  # 0.5 s minimum wait is over


def test_rapid_disarm_stops_a_running_train(clock: VirtualClock) -> None:
    sim = rapid_ready_for_train(clock)
    exchange(sim, FIRE)
    clock.advance(0.35)
    exchange(sim, DISARM)
    clock.advance(5.0)
    exchange(sim, X)
    assert len(sim.pulses) == 4


def test_rapid_frequency_above_the_table_for_the_power_is_refused(clock: VirtualClock) -> None:
    sim = RapidSimulator(clock, version="10.0")
    exchange(sim, magstim(b"Q" + CODE))
    exchange(sim, magstim(b"@100"))
    assert exchange(sim, magstim(b"B0160")) == magstim(b"B?")  # 240 V standard: 15 Hz max
    assert exchange(sim, magstim(b"B0150"))[:1] == b"B"


def test_rapid_super_plus_allows_higher_frequency_and_reports_plus1(clock: VirtualClock) -> None:
    sim = RapidSimulator(clock, version="10.0", rapid_type="super-plus")
    exchange(sim, magstim(b"Q" + CODE))
    exchange(sim, magstim(b"@100"))
    assert exchange(sim, magstim(b"B0410"))[:1] == b"B"
    assert exchange(sim, X)[4] & 0x01


def test_rapid_train_above_max_on_time_is_refused(clock: VirtualClock) -> None:
    sim = RapidSimulator(clock, version="10.0")
    exchange(sim, magstim(b"Q" + CODE))
    exchange(sim, magstim(b"@073"))
    exchange(sim, magstim(b"[0100"))
    exchange(sim, magstim(b"B0180"))  # 18 Hz at 73 %: t_max_on = 26 s
    exchange(sim, magstim(b"D00600"))  # 33 s of train
    exchange(sim, ARM)
    clock.advance(0.95)
    exchange(sim, X)
    assert exchange(sim, FIRE) == magstim(b"ES")
    assert sim.pulses == []


def test_rapid_enhanced_power_allows_110_and_clamps_back(clock: VirtualClock) -> None:
    sim = RapidSimulator(clock, version="10.0")
    exchange(sim, magstim(b"Q" + CODE))
    assert exchange(sim, magstim(b"@110")) == magstim(b"@?")
    exchange(sim, magstim(b"^@"))
    assert exchange(sim, magstim(b"@110"))[:1] == b"@"
    exchange(sim, magstim(b"_@"))
    assert sim.state.power_a == 100


def test_error_code_sets_status_bits_and_fatal_blocks_arming(clock: VirtualClock) -> None:
    sim = RapidSimulator(clock, version="8.0")
    exchange(sim, Q)
    sim.set_error("C12", fatal=True)
    reply = exchange(sim, magstim(b"I@"))
    assert reply[1] & 0x60 == 0x60 and reply[2:5] == b"C12"
    assert exchange(sim, ARM) == magstim(b"ES")
    sim.clear_error()
    assert exchange(sim, ARM)[:1] == b"E" and sim.armed


def test_a_clock_jumping_backwards_does_not_replay_the_past(clock: VirtualClock) -> None:
    sim = Magstim200Simulator(clock)
    armed_and_ready(sim, clock)
    exchange(sim, FIRE)
    clock.jump(-10.0)
    assert status(exchange(sim, Q)) == 0x8A  # still recharging, nothing undone
    assert len(sim.pulses) == 1
    clock.jump(10.0)
    for _ in range(5):
        clock.advance(0.5)
        exchange(sim, Q)
    assert status(exchange(sim, Q)) == 0x8C
