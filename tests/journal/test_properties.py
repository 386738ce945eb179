"""Property: no single-byte change to a valid journal goes unnoticed."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from stimctl.journal import verify_bytes

from .conftest import write_session


@cache
def _journal() -> tuple[bytes, str]:
    with tempfile.TemporaryDirectory() as directory:
        path, head = write_session(Path(directory), pulses=3, close=True)
        return path.read_bytes(), head


def _changed(data: bytes, position: int, delta: int) -> bytes:
    mutated = bytearray(data)
    mutated[position] = (mutated[position] + delta) % 256  # delta in 1..255: always differs
    return bytes(mutated)


@settings(max_examples=400, deadline=None)
@given(fraction=st.floats(0, 1, exclude_max=True), delta=st.integers(1, 255))
def test_any_single_byte_change_is_detected_with_the_stored_head(
    fraction: float, delta: int
) -> None:
    data, head = _journal()
    mutated = _changed(data, int(fraction * len(data)), delta)
    assert not verify_bytes(mutated, expected_head=head).ok


@settings(max_examples=400, deadline=None)
@given(fraction=st.floats(0, 1, exclude_max=True), delta=st.integers(1, 255))
def test_any_single_byte_change_before_the_last_record_is_detected_by_the_chain_alone(
    fraction: float, delta: int
) -> None:
    data, _ = _journal()
    last_line_start = data.rstrip(b"\n").rfind(b"\n") + 1
    # The newline ending the second-to-last line is included; the last line is not.
    mutated = _changed(data, int(fraction * last_line_start), delta)
    assert not verify_bytes(mutated).ok


def test_every_position_flipped_is_detected_with_the_stored_head() -> None:
    # Exhaustive over positions (hypothesis samples them): flip a low bit, a case bit and
    # the top bit (which makes invalid UTF-8) of every byte.
    data, head = _journal()
    for position in range(len(data)):
        for mask in (0x01, 0x20, 0x80):
            mutated = bytearray(data)
            mutated[position] ^= mask
            assert not verify_bytes(bytes(mutated), expected_head=head).ok, (position, mask)
