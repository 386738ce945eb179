"""The shared Magstim table (tests/vectors/magstim.toml) against the codec and the
drivers' I/O layer over a scripted pyserial port."""

from __future__ import annotations

from typing import Any

import pytest

from drivers.magstim import BiStimDriver, Magstim200Driver, RapidDriver
from drivers.magstim._base import MagstimDriver
from drivers.magstim._rapid import parse_version
from drivers.magstim.codec import _COMMANDS, Reply, decode_reply, encode
from drivers.magstim.commands import BY_NAME, named
from stimctl import errors
from stimctl.hal import ScriptedPort, Transport
from tests.vectors import hex_bytes, load_cases

CASES = load_cases("magstim")
DRIVERS: dict[str, type[MagstimDriver]] = {
    "magstim-200": Magstim200Driver,
    "magstim-bistim": BiStimDriver,
    "magstim-rapid2": RapidDriver,
}


def _version(case: dict[str, Any]) -> tuple[int, ...]:
    return parse_version(case.get("versions", ["10.0"])[0])


def _check_result(reply: Reply, expected: dict[str, Any]) -> None:
    for key, value in expected.items():
        got = getattr(reply, key)
        if key == "version":
            got = list(got)
        if isinstance(value, float):
            assert got == pytest.approx(value), key
        else:
            assert got == value, key


def _driver(case: dict[str, Any], port: ScriptedPort) -> MagstimDriver:
    cls = DRIVERS[case["device"]]
    options: dict[str, Any] = {"keepalive": False, "reply_timeout_s": 0.1}
    if cls is RapidDriver:
        options["version"] = _version(case)
    driver = cls("scripted://", transport=Transport(port), **options)
    driver.open_link()
    return driver


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_codec_encodes_the_table_bytes(case: dict[str, Any]) -> None:
    request = encode(case["command"], version=_version(case), **case["args"])
    assert request.frame == hex_bytes(case["sent"])


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c.get("error") != "DeviceTimeout"],
    ids=[c["id"] for c in CASES if c.get("error") != "DeviceTimeout"],
)
def test_codec_decodes_the_table_reply(case: dict[str, Any]) -> None:
    request = encode(case["command"], version=_version(case), **case["args"])
    reply = hex_bytes(case["reply"])
    if "error" in case:
        with pytest.raises(getattr(errors, case["error"])):
            decode_reply(request, reply)
    else:
        _check_result(decode_reply(request, reply), case["result"])


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_driver_exchanges_the_table_over_a_serial_port(case: dict[str, Any]) -> None:
    port = ScriptedPort([(hex_bytes(case["sent"]), hex_bytes(case["reply"]))])
    driver = _driver(case, port)
    if "error" in case:
        with pytest.raises(getattr(errors, case["error"])):
            driver.transact(named(case["command"], **case["args"]))
        return
    _check_result(driver.transact(named(case["command"], **case["args"])), case["result"])
    port.assert_done()


def test_every_codec_command_has_one_typed_command() -> None:
    assert set(BY_NAME) == set(_COMMANDS)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_a_typed_command_sends_the_bytes_of_its_codec_name(case: dict[str, Any]) -> None:
    """Typed commands change no byte: each vector's frame is the same either way."""
    version = _version(case)
    typed = named(case["command"], **case["args"]).request(version)
    assert typed.frame == encode(case["command"], version=version, **case["args"]).frame
    assert typed.frame == hex_bytes(case["sent"])
