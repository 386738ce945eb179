"""Hypothesis: every decoder meets arbitrary bytes with a typed error, never a crash or
a hang; valid frames survive any chunking."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.magstim import Magstim200Driver
from drivers.magstim.codec import checksum, decode_reply, encode
from drivers.magstim.commands import GetParameters
from drivers.magventure import MagProDriver
from drivers.magventure.codec import (
    MAX_PAYLOAD,
    FrameParser,
    Message,
    crc8,
    decode_payload,
    encode_frame,
)
from drivers.magventure.commands import GetStatus
from stimctl.errors import DriverError, ProtocolError
from stimctl.hal import ScriptedPort, Transport
from tests.vectors import load_cases

MAGSTIM_REQUESTS = [
    encode(c["command"], version=(10, 0), **c["args"])
    for c in load_cases("magstim")
    if not c["command"].startswith("raw")
]


@given(request=st.sampled_from(MAGSTIM_REQUESTS), data=st.binary(max_size=40))
def test_magstim_decoder_returns_or_raises_protocol_error(request: Any, data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_reply(request, data)


@given(request=st.sampled_from(MAGSTIM_REQUESTS), data=st.binary(max_size=30))
def test_magstim_decoder_never_accepts_a_bad_checksum(request: Any, data: bytes) -> None:
    body = bytes([request.echo]) + data
    corrupted = body + bytes([(checksum(body) + 1) & 0xFF])
    try:
        decode_reply(request, corrupted)
    except ProtocolError:
        return
    raise AssertionError(f"accepted {corrupted.hex(' ')}")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=16))
def test_magstim_link_meets_garbage_with_a_driver_error(data: bytes) -> None:
    port = ScriptedPort([(encode("get_parameters").frame, data)])
    driver = Magstim200Driver(
        "scripted://", transport=Transport(port), keepalive=False, reply_timeout_s=0.03
    )
    driver.open_link()
    with contextlib.suppress(DriverError):
        driver.transact(GetParameters())


@given(data=st.binary(max_size=200))
def test_frame_parser_is_total_and_bounded(data: bytes) -> None:
    parser = FrameParser()
    events = parser.feed(data)
    assert all(isinstance(e, Message | ProtocolError) for e in events)
    assert parser.pending <= MAX_PAYLOAD + 3


payloads = st.binary(min_size=1, max_size=20)


@given(frames=st.lists(payloads, min_size=1, max_size=6), cuts=st.lists(st.integers(0, 200)))
def test_valid_frames_survive_any_chunking(frames: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(encode_frame(p) for p in frames)
    parser = FrameParser()
    events: list[Any] = []
    start = 0
    for cut in sorted({c for c in cuts if c < len(stream)}):
        events += parser.feed(stream[start:cut])
        start = cut
    events += parser.feed(stream[start:])
    # Each frame comes out once, in order: as a message, or as an error if the payload is
    # too short for its id's layout.
    assert len(events) == len(frames)
    for event, payload in zip(events, frames, strict=True):
        assert event.raw == payload if isinstance(event, Message) else _undecodable(payload)


def _undecodable(payload: bytes) -> bool:
    try:
        decode_payload(payload)
    except ProtocolError:
        return True
    return False


@given(garbage=st.binary(max_size=30).filter(lambda b: 0xFE not in b), payload=payloads)
def test_parser_resynchronises_after_garbage(garbage: bytes, payload: bytes) -> None:
    events = FrameParser().feed(garbage + encode_frame(payload))
    tail = events[-1]
    assert isinstance(tail, Message | ProtocolError)
    if isinstance(tail, Message):
        assert tail.raw == payload


@given(payload=payloads)
def test_crc_of_a_frame_detects_any_single_bit_flip(payload: bytes) -> None:
    crc = crc8(payload)
    for i in range(len(payload)):
        for bit in range(8):
            flipped = bytearray(payload)
            flipped[i] ^= 1 << bit
            assert crc8(bytes(flipped)) != crc


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(noise=st.binary(max_size=40))
def test_magpro_driver_meets_garbage_with_a_driver_error(noise: bytes) -> None:
    port = ScriptedPort([(encode_frame(b"\x00"), noise)])
    driver = MagProDriver("scripted://", transport=Transport(port), reply_timeout_s=0.05)
    driver.open_link()
    try:
        driver.transact(GetStatus())
    except DriverError:
        pass
    finally:
        driver.close_link()
