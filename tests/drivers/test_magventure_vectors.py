"""The shared MagPro table (tests/vectors/magventure.toml) against the codec and the
driver's reader thread over a scripted pyserial port."""

from __future__ import annotations

import time
from typing import Any

import pytest

from drivers.magventure import MagProDriver
from drivers.magventure.codec import COMMAND_NAMES, FrameParser, Message, encode
from drivers.magventure.commands import BY_NAME, named
from stimctl import errors
from stimctl.hal import ScriptedPort, Transport
from tests.vectors import hex_bytes, load_cases

CASES = load_cases("magventure")
IDS = [c["id"] for c in CASES]


def _check_message(message: Message, expected: dict[str, Any]) -> None:
    for key, value in expected.items():
        assert getattr(message, key) == value, key


def _wait_latest(driver: MagProDriver, message_id: int) -> Message:
    deadline = time.monotonic() + 2.0
    while (message := driver.latest(message_id)) is None:
        assert time.monotonic() < deadline, f"message {message_id} never arrived"
        time.sleep(0.005)
    return message


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_codec_encodes_the_table_bytes(case: dict[str, Any]) -> None:
    request = encode(case["command"], **case["args"])
    assert request.frame == hex_bytes(case["sent"])
    assert request.awaits == case.get("awaits")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_parser_decodes_the_table_reply(case: dict[str, Any]) -> None:
    events = FrameParser().feed(hex_bytes(case["reply"]))
    if "error" in case and case["error"] != "DeviceTimeout":
        assert any(isinstance(e, getattr(errors, case["error"])) for e in events)
        return
    if "error" in case:
        return
    expected = case["result"]["messages"]
    assert len(events) == len(expected)
    for event, fields in zip(events, expected, strict=True):
        assert isinstance(event, Message)
        _check_message(event, fields)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_driver_exchanges_the_table_over_a_serial_port(case: dict[str, Any]) -> None:
    port = ScriptedPort([(hex_bytes(case["sent"]), hex_bytes(case["reply"]))])
    driver = MagProDriver("scripted://", transport=Transport(port), reply_timeout_s=0.2)
    driver.open_link()
    try:
        if "error" in case:
            with pytest.raises(getattr(errors, case["error"])):
                driver.transact(named(case["command"], **case["args"]))
            return
        reply = driver.transact(named(case["command"], **case["args"]))
        messages = case["result"]["messages"]
        if "awaits" in case:
            assert reply is not None
            _check_message(reply, next(m for m in messages if m["id"] == case["awaits"]))
        else:
            assert reply is None
        for fields in messages:  # unsolicited messages end up in `latest`
            _check_message(_wait_latest(driver, fields["id"]), fields)
        port.assert_done()
    finally:
        driver.close_link()


def test_every_codec_command_has_one_typed_command() -> None:
    assert set(BY_NAME) == COMMAND_NAMES


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_typed_command_sends_the_bytes_of_its_codec_name(case: dict[str, Any]) -> None:
    """Typed commands change no byte: each vector's frame is the same either way."""
    typed = named(case["command"], **case["args"]).request()
    assert typed.frame == encode(case["command"], **case["args"]).frame
    assert typed.frame == hex_bytes(case["sent"])
