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
