"""MagPro simulator: unsolicited messages, CRC handling, trains on the clock, modes
(device-protocols PART B, PART E)."""

from __future__ import annotations

import pytest

from simulators.magventure import MagProR30Simulator, MagProX100Simulator
from stimctl.clock import VirtualClock
from tests.simulators.conftest import exchange, magpro, split_magpro

ENABLE, DISABLE = magpro(b"\x02\x01"), magpro(b"\x02\x00")
FIRE = magpro(b"\x03\x01")
STATUS = magpro(b"\x00")


def ids(data: bytes) -> list[int]:
    return [payload[0] for payload in split_magpro(data)]


def test_crc8_maxim_check_value_of_the_test_helper() -> None:
    from tests.simulators.conftest import crc8

    assert crc8(b"123456789") == 0xA1  # V16


def test_enable_then_trigger_sends_didt_and_logs_the_pulse(clock: VirtualClock) -> None:
    sim = MagProX100Simulator(clock)
    assert ids(exchange(sim, ENABLE)) == [1, 3, 1]
    assert exchange(sim, magpro(b"\x01\x46")) == magpro(bytes([1, 70, 0, 0x34]))
    t0 = clock.now()
    reply = split_magpro(exchange(sim, FIRE))
    assert reply == [bytes([2, 112, 0, 0x34])]  # di/dt 1.6 A/us per %
    assert [(p.time, p.intensity) for p in sim.pulses] == [(t0, 70)]


def test_trigger_when_disabled_does_nothing(clock: VirtualClock) -> None:
    sim = MagProX100Simulator(clock)
    assert exchange(sim, FIRE) == b""
    assert sim.pulses == []


def test_bad_crc_and_bad_end_byte_frames_are_ignored(clock: VirtualClock) -> None:
    sim = MagProX100Simulator(clock)
    assert exchange(sim, bytes.fromhex("FE 01 00 01 FF")) == b""
    assert exchange(sim, bytes.fromhex("FE 01 00 00 FE")) == b""
    # The next good frame still works: the parser resynchronises on the start byte.
    assert ids(exchange(sim, STATUS)) == [0]


def test_garbage_before_a_frame_is_skipped(clock: VirtualClock) -> None:
    sim = MagProX100Simulator(clock)
    assert ids(exchange(sim, b"\x00\x13\xff" + STATUS)) == [0]


def test_frame_split_across_writes_is_assembled(clock: VirtualClock) -> None:
    sim = MagProX100Simulator(clock)
    assert exchange(sim, STATUS[:2]) == b""
    assert ids(exchange(sim, STATUS[2:])) == [0]


def test_train_runs_on_the_timing_page_with_one_didt_per_pulse(clock: VirtualClock) -> None:
    sim = MagProX100Simulator(clock)
    exchange(sim, ENABLE)
    assert split_magpro(exchange(sim, magpro(b"\x07\x02\x00"))) == [bytes([8, 2, 0, 0x34])]
    # 10 pps, 5 pulses, 2 trains, ITI 1.0 s
    assert exchange(sim, magpro(bytes.fromhex("06 0064 0005 0002 000A"))) == b""
    t0 = clock.now()
    assert split_magpro(exchange(sim, magpro(b"\x04"))) == [bytes([8, 2, 1, 0x34])]
    clock.advance(3.0)
    messages = split_magpro(sim.read(10_000))
    assert [m[0] for m in messages] == [2] * 10 + [8]
    assert messages[-1] == bytes([8, 2, 0, 0x34])  # train stopped
    start = t0 + 0.01
    expected = [start + i * 0.1 for i in range(5)] + [start + 1.4 + i * 0.1 for i in range(5)]
    assert [p.time for p in sim.pulses] == pytest.approx(expected)
    assert [p.train for p in sim.pulses] == [0] * 5 + [1] * 5


def test_train_needs_the_timing_page_and_enable(clock: VirtualClock) -> None:
    sim = MagProX100Simulator(clock)
    assert exchange(sim, magpro(b"\x04")) == b""
    exchange(sim, ENABLE)
    assert exchange(sim, magpro(b"\x04")) == b""  # Main page
    clock.advance(5.0)
    assert sim.pulses == []


def test_disable_stops_a_train(clock: VirtualClock) -> None:
    sim = MagProX100Simulator(clock)
    exchange(sim, ENABLE)
    exchange(sim, magpro(b"\x07\x02\x00"))
    exchange(sim, magpro(bytes.fromhex("06 0064 0064 0001 000A")))  # 100 pulses
    exchange(sim, magpro(b"\x04"))
    clock.advance(0.25)
    sim.read(10_000)
    assert ids(exchange(sim, DISABLE)) == [3, 8]
    clock.advance(20.0)
    assert sim.read(10_000) == b"" and len(sim.pulses) == 3


def test_set_train_outside_the_timing_page_is_ignored(clock: VirtualClock) -> None:
    sim = MagProX100Simulator(clock)
    exchange(sim, magpro(bytes.fromhex("06 0064 0005 0001 000A")))
    assert sim.state.train_pulses == 5  # default unchanged, and nothing sent
    exchange(sim, magpro(bytes.fromhex("06 0064 0007 0001 000A")))
    assert sim.state.train_pulses == 5


def test_r30_refuses_a_rate_above_30_pps(clock: VirtualClock) -> None:
    sim = MagProR30Simulator(clock)
    exchange(sim, magpro(b"\x07\x02\x00"))
    exchange(sim, magpro(bytes.fromhex("06 0190 0005 0001 000A")))  # 40 pps
    assert sim.state.rate == 10
    exchange(sim, magpro(bytes.fromhex("06 012C 0005 0001 000A")))  # 30 pps
    assert sim.state.rate == 300


def test_status_byte_carries_model_enable_waveform_mode(clock: VirtualClock) -> None:
    assert MagProR30Simulator(clock).status_byte() == 0x04
    assert MagProR30Simulator(clock, magoption=True).status_byte() == 0x44
    assert MagProX100Simulator(clock, magoption=True).status_byte() == 0x64


def test_twin_mode_needs_magoption(clock: VirtualClock) -> None:
    twin = bytes.fromhex("09 01 01 02 00 01 03 0064 0064")
    plain = MagProX100Simulator(clock)
    exchange(plain, magpro(twin))
    assert plain.state.mode == 0
    option = MagProX100Simulator(clock, magoption=True)
    exchange(option, magpro(twin))
    assert (option.state.mode, option.state.ipi_index, option.state.ba_index) == (2, 170, 80)
    reply = split_magpro(exchange(option, magpro(bytes(11).replace(b"\x00", b"\x09", 1))))
    assert reply == [bytes([9, 0, 3, 2, 0, 1, 3, 170, 0, 80])]


def test_burst_trigger_logs_every_pulse_of_the_burst(clock: VirtualClock) -> None:
    sim = MagProX100Simulator(clock)
    exchange(sim, magpro(bytes.fromhex("09 01 01 00 00 03 02 00C8 0064")))  # 3 x 20 ms
    exchange(sim, ENABLE)
    t0 = clock.now()
    assert ids(exchange(sim, FIRE)) == [2]
    assert [p.time for p in sim.pulses] == pytest.approx([t0, t0 + 0.02, t0 + 0.04])


def test_coil_removal_and_overheating_send_id3_and_disable(clock: VirtualClock) -> None:
    sim = MagProX100Simulator(clock)
    exchange(sim, ENABLE)
    sim.remove_coil()
    assert split_magpro(sim.read(100)) == [bytes([3, 25, 0, 0x24])]
    assert exchange(sim, ENABLE) == b""
    sim.attach_coil()
    assert split_magpro(sim.read(100)) == [bytes([3, 25, 60, 0x24])]
    exchange(sim, ENABLE)
    sim.set_coil_temperature(40.0)
    assert split_magpro(sim.read(100)) == [bytes([3, 40, 60, 0x24])]
    assert not sim.armed


def test_pulses_heat_the_coil(clock: VirtualClock) -> None:
    sim = MagProX100Simulator(clock, coil_temp_c=25.0, heat_c_per_j=0.0015)
    exchange(sim, ENABLE)
    exchange(sim, magpro(b"\x01\x64"))
    for _ in range(20):
        exchange(sim, FIRE)
        clock.advance(0.1)
    assert sim.coil_temperatures()[0] > 30.0


def test_answer_mode_set_option_echoes_id9(clock: VirtualClock) -> None:
    sim = MagProX100Simulator(clock, answer_mode_set=True)
    reply = exchange(sim, magpro(bytes.fromhex("09 01 01 00 00 03 02 00C8 0064")))
    assert split_magpro(reply) == [bytes([9, 1, 1, 0, 0, 3, 2, 80, 0, 80])]


def test_front_panel_change_arrives_unsolicited_before_the_next_reply(
    clock: VirtualClock,
) -> None:
    sim = MagProX100Simulator(clock)
    sim.front_panel(amplitude_a=60, amplitude_b=40)
    reply = exchange(sim, STATUS)
    assert reply == bytes.fromhex(
        "FE 04 01 3C 28 24 1F FF FE 09 00 24 01 23 45 19 3C 3C 28 1B FF"
    )  # vector S-status-unsolicited-first
    with pytest.raises(ValueError, match="page"):
        sim.front_panel(page=13)


def test_undocumented_delay_and_timing_reads(clock: VirtualClock) -> None:
    sim = MagProX100Simulator(clock)
    exchange(sim, magpro(bytes.fromhex("08 000A FFCE 0064 0000")))  # V12
    assert split_magpro(exchange(sim, magpro(b"\x0a\x00"))) == [
        bytes.fromhex("0A 00 000A FFCE 0064")
    ]
    exchange(sim, magpro(b"\x07\x02\x00"))
    exchange(sim, magpro(bytes.fromhex("06 000A 03E8 0002 0064")))  # V10
    assert split_magpro(exchange(sim, magpro(b"\x0b\x00"))) == [
        bytes.fromhex("0B 00 00 000A 03E8 0002 0064 00 00 00")
    ]
