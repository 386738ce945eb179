"""Properties: arbitrary bytes never crash or wedge a simulator."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators import MODELS, create_simulator
from stimctl.clock import VirtualClock
from tests.simulators.conftest import magpro, magstim, split_magpro

SPECS = [
    "magstim-200",
    "magstim-bistim",
    "magstim-rapid2?version=6",
    "magstim-rapid2?version=8",
    "magstim-rapid2?version=9",
    "magstim-rapid2?version=10&unlock_code=abcd-0123abcd-5e",
    "magpro-r30?magoption=1",
    "magpro-x100",
]

chunks = st.lists(
    st.tuples(st.binary(max_size=40), st.floats(min_value=0.0, max_value=3.0)), max_size=25
)


def test_every_model_is_covered() -> None:
    assert {spec.split("?")[0] for spec in SPECS} == set(MODELS)


@pytest.mark.parametrize("spec", SPECS)
@settings(max_examples=150, deadline=None)
@given(data=chunks)
def test_arbitrary_bytes_never_crash_or_wedge(spec: str, data: list[tuple[bytes, float]]) -> None:
    clock = VirtualClock()
    sim = create_simulator(f"{spec}{'&' if '?' in spec else '?'}seed=1", clock=clock)
    out = bytearray()
    for chunk, pause in data:
        sim.write(chunk)
        clock.advance(pause)
        out += sim.read(100_000)
    # Whatever came before, after a pause longer than the inter-byte timeout the device
    # answers a well-formed status query again.
    clock.advance(1.0)
    sim.read(100_000)
    if spec.startswith("magpro"):
        sim.write(magpro(b"\x00"))
        clock.advance(0.02)
        replies = split_magpro(sim.read(100_000))
        assert replies and replies[-1][0] == 0
        assert all(len(p) in (4, 8, 9, 10, 14, 15) for p in split_magpro(bytes(out)))
    else:
        sim.write(magstim(b"F@"))
        reply = sim.read(100_000)
        assert len(reply) == 9 and reply[0] == ord("F"), reply.hex(" ")


MAGSTIM_200_COMMANDS = {
    b"Q@": 3,
    b"R@": 3,
    b"@030": 3,
    b"@090": 3,
    b"EB": 3,
    b"EA": 3,
    b"EH": 3,
    b"J@": 12,
    b"F@": 9,
    b"I@": 6,
}


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(sorted(MAGSTIM_200_COMMANDS)),
            st.floats(min_value=0.0, max_value=2.0),
        ),
        max_size=60,
    )
)
def test_valid_commands_get_documented_lengths_and_pulses_only_follow_accepted_fires(
    steps: list[tuple[bytes, float]],
) -> None:
    clock = VirtualClock()
    sim = create_simulator("magstim-200?recharge_s=0.5", clock=clock)
    accepted_fires = 0
    for command, pause in steps:
        sim.write(magstim(command))
        reply = sim.read(100)
        if reply[1:2] in (b"?", b"S"):
            assert len(reply) == 3 and reply == magstim(command[:1] + reply[1:2])
        else:
            assert len(reply) == MAGSTIM_200_COMMANDS[command], (command, reply.hex(" "))
            assert reply == magstim(reply[:-1])
            accepted_fires += command == b"EH"
        clock.advance(pause)
    assert len(sim.pulses) == accepted_fires
