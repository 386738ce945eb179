"""Magstim 200^2 / BiStim^2 / Rapid^2 wire format: frames, checksums, reply parsing.

Pure functions, no I/O. Every fact cites /work/shared/reference/device-protocols.md by
section (A2 framing, A3 status bytes, A4 command table, A5 Rapid replies).

A command is `command char + data + checksum`; a reply is `echo + status + data +
checksum` (except the version reply, A5, and the bare `?`, A2.1). The checksum is
NOT(sum of the preceding bytes) & 0xFF on both directions (A2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stimctl.errors import (
    ChecksumError,
    DeviceRejected,
    EncodingError,
    ProtocolError,
    SafetyViolation,
)
from stimctl.hal import ArmState

Version = tuple[int, ...]

PAD = b"@"  # data of commands that carry none; the device ignores it (A2)
UNKNOWN_COMMAND = 0x3F  # `?`: the whole reply to an unknown command byte (A2.1)
INVALID_DATA = 0x3F  # `<cmd>?<crc>` (A2.1)
CONFLICT = 0x53  # `<cmd>S<crc>` (A2.1)
NEWEST = (99, 0)  # version assumed for rows/commands that do not depend on it


def checksum(data: bytes) -> int:
    """device-protocols A2: bitwise NOT of the byte sum, low 8 bits."""
    return ~sum(data) & 0xFF


def frame(body: bytes) -> bytes:
    return body + bytes([checksum(body)])


# -- status bytes (A3) ------------------------------------------------------------


@dataclass(frozen=True)
class InstrumentStatus:
    """Byte 1 of every normal reply (A3 table)."""

    raw: int

    def bit(self, n: int) -> bool:
        return bool(self.raw >> n & 1)

    @property
    def standby(self) -> bool:
        return self.bit(0)

    @property
    def armed(self) -> bool:
        return self.bit(1)

    @property
    def ready(self) -> bool:
        return self.bit(2)

    @property
    def coil_present(self) -> bool:
        return self.bit(3)

    @property
    def replace_coil(self) -> bool:
        return self.bit(4)

    @property
    def error(self) -> bool:
        return self.bit(5)

    @property
    def fatal_error(self) -> bool:
        return self.bit(6)

    @property
    def remote(self) -> bool:
        return self.bit(7)

    @property
    def arm_state(self) -> ArmState:
        """Exactly one of standby/armed/ready must be set; anything else is UNKNOWN.

        Once ready, the armed bit is 0 (A3 observed values), so READY stands alone.
        """
        flags = (self.standby, self.armed, self.ready)
        if flags == (True, False, False):
            return ArmState.STANDBY
        if flags == (False, True, False):
            return ArmState.ARMED
        if flags == (False, False, True):
            return ArmState.READY
        return ArmState.UNKNOWN


@dataclass(frozen=True)
class RapidStatus:
    """Byte 2 of the Rapid replies (A3 "Rapid status byte")."""

    raw: int

    def bit(self, n: int) -> bool:
        return bool(self.raw >> n & 1)

    @property
    def enhanced_power(self) -> bool:
        return self.bit(0)

    @property
    def train_running(self) -> bool:
        return self.bit(1)

    @property
    def wait(self) -> bool:
        return self.bit(2)

    @property
    def single_pulse(self) -> bool:
        return self.bit(3)

    @property
    def hv_psu(self) -> bool:
        return self.bit(4)

    @property
    def coil_ready(self) -> bool:
        return self.bit(5)

    @property
    def theta_psu(self) -> bool:
        return self.bit(6)

    @property
    def modified_coil_algorithm(self) -> bool:
        return self.bit(7)


# Extended status word from `x` (A3): LSB bits. MP reads the MSB by mistake (A11.4).
EXT_PLUS1 = 1 << 0
EXT_SPECIAL_TRIGGER = 1 << 1
EXT_CHARGE_DELAY_SET = 1 << 2


# -- parsed replies ---------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """A decoded reply. Fields a command does not return stay None."""

    command: str
    instr: int | None = None
    rapid: int | None = None
    ext: int | None = None
    power_a: int | None = None
    power_b: int | None = None
    interval: int | None = None
    coil1_c: float | None = None
    coil2_c: float | None = None
    mode_char: str | None = None
    power: int | None = None
    frequency_hz: float | None = None
    pulses: int | None = None
    duration_s: float | None = None
    wait_s: float | None = None
    version: Version | None = None
    error_source: str | None = None
    error_code: str | None = None
    charge_delay_ms: int | None = None

    @property
    def status(self) -> InstrumentStatus:
        if self.instr is None:
            raise ProtocolError(f"{self.command} reply carries no status byte")
        return InstrumentStatus(self.instr)


Parser = Callable[[str, bytes], Reply]


@dataclass(frozen=True)
class Request:
    """A framed command and what its reply looks like.

    `reply_length` is the full reply length in bytes (A4 "Reply len"); None means the
    reply is terminated by a NUL and then a checksum (the version reply, A5).
    """

    name: str
    frame: bytes
    reply_length: int | None
    parse: Parser

    @property
    def echo(self) -> int:
        return self.frame[0]


# -- reply decoding ---------------------------------------------------------------


def decode_reply(request: Request, data: bytes) -> Reply:
    """Check and parse one complete reply to `request`.

    Raises `DeviceRejected` for the documented error replies (A2.1), `ChecksumError` for a
    checksum mismatch and `ProtocolError` for anything else malformed.
    """
    if data == bytes([UNKNOWN_COMMAND]):
        raise DeviceRejected(f"{request.name}: device does not know command {request.frame[:1]!r}")
    if len(data) < 2:
        raise ProtocolError(f"{request.name}: reply too short: {data.hex(' ')}")
    if data[0] != request.echo:
        raise ProtocolError(
            f"{request.name}: reply starts with {data[0]:02x}, not the echo {request.echo:02x}"
        )
    if checksum(data[:-1]) != data[-1]:
        raise ChecksumError(
            f"{request.name}: checksum {data[-1]:02x}, expected {checksum(data[:-1]):02x} "
            f"in {data.hex(' ')}"
        )
    if len(data) == 3 and data[1] in (INVALID_DATA, CONFLICT):
        # `<cmd>?<crc>` / `<cmd>S<crc>` (A2.1). A real status byte never reads 0x3F or 0x53:
        # under remote control bit 7 is set, and without it those values are contradictory
        # (standby + armed + ... at once, A2.2 consequences).
        kind = "invalid data" if data[1] == INVALID_DATA else "conflicts with the device state"
        raise DeviceRejected(f"{request.name}: device refused ({kind})")
    if request.reply_length is not None and len(data) != request.reply_length:
        raise ProtocolError(
            f"{request.name}: reply has {len(data)} bytes, expected {request.reply_length}"
        )
    return request.parse(request.name, data)


def remaining_after(request: Request, head: bytes) -> int | None:
    """How many more bytes to read after the first two reply bytes `head`.

    None: read to the NUL terminator, then one checksum byte (the version reply).
    The bare `?` reply to an unknown command is one byte and never gets here (A2.1).
    """
    if head[1] in (INVALID_DATA, CONFLICT) and head[0] == request.echo:
        return 1  # `<cmd>?<crc>` / `<cmd>S<crc>` (A2.1, A2.2 step 2)
    if request.reply_length is None:
        return None
    return max(request.reply_length - 2, 0)


# -- field parsers ----------------------------------------------------------------


def _number(field: bytes, what: str) -> int:
    if not field or not all(0x30 <= b <= 0x39 for b in field):
        raise ProtocolError(f"{what}: expected ASCII digits, got {field.hex(' ')}")
    return int(field.decode("ascii"))


def _status_only(name: str, data: bytes) -> Reply:
    return Reply(name, instr=data[1])


def _with_rapid(name: str, data: bytes) -> Reply:
    return Reply(name, instr=data[1], rapid=data[2])


def _with_rapid_ext(name: str, data: bytes) -> Reply:
    return Reply(name, instr=data[1], rapid=data[2], ext=data[3] << 8 | data[4])


def _parameters(name: str, data: bytes) -> Reply:
    body = data[2:-1]  # powerA(3) powerB(3) interval(3) (A4 `J`)
    return Reply(
        name,
        instr=data[1],
        power_a=_number(body[0:3], "power A"),
        power_b=_number(body[3:6], "power B"),
        interval=_number(body[6:9], "interval"),
    )


def _temperature(name: str, data: bytes) -> Reply:
    body = data[2:-1]  # two windings, 3 digits each, 0.1 degC (A4 `F`)
    return Reply(
        name,
        instr=data[1],
        coil1_c=_number(body[0:3], "coil 1 temperature") / 10,
        coil2_c=_number(body[3:6], "coil 2 temperature") / 10,
    )


def _system_mode(name: str, data: bytes) -> Reply:
    return Reply(name, instr=data[1], mode_char=chr(data[2]))


def _error_code(name: str, data: bytes) -> Reply:
    source = chr(data[2])
    if source not in "UCE":
        raise ProtocolError(f"error source {source!r} is not U, C or E (A4 `I`)")
    # Both digits kept (MP drops the last one, A11.3).
    return Reply(
        name,
        instr=data[1],
        error_source=source,
        error_code=f"{_number(data[3:5], 'error code'):02d}",
    )


def _version(name: str, data: bytes) -> Reply:
    text = data[1:-2]  # drop echo, NUL and checksum (A5)
    if data[-2] != 0:
        raise ProtocolError("version reply is not NUL-terminated")
    try:
        decoded = text.decode("ascii")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"version {text!r} is not ASCII") from exc
    parts = decoded.lstrip("Vv").split(".")
    if not all(p.isdigit() for p in parts):
        raise ProtocolError(f"cannot read a version from {decoded!r}")
    return Reply(name, version=tuple(int(p) for p in parts))


def _charge_delay(name: str, data: bytes) -> Reply:
    return Reply(name, instr=data[1], charge_delay_ms=_number(data[2:-1], "charge delay"))


def _rapid_parameters(widths: tuple[int, int, int, int, int]) -> Parser:
    def parse(name: str, data: bytes) -> Reply:
        body = data[3:-1]
        fields: list[int] = []
        start = 0
        for width in widths:
            fields.append(_number(body[start : start + width], "Rapid parameter"))
            start += width
        power, tenth_hz, pulses, tenth_s, wait_tenth_s = fields
        return Reply(
            name,
            instr=data[1],
            rapid=data[2],
            power=power,
            frequency_hz=tenth_hz / 10,
            pulses=pulses,
            duration_s=tenth_s / 10,
            wait_s=wait_tenth_s / 10,
        )

    return parse


# -- argument encoders ------------------------------------------------------------


def digits(value: int, width: int, what: str) -> bytes:
    """Zero-padded decimal ASCII; out of range is refused, never truncated."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise EncodingError(f"{what} must be an integer, got {value!r}")
    if not 0 <= value < 10**width:
        raise EncodingError(f"{what} {value} does not fit {width} digits")
    return str(value).zfill(width).encode("ascii")


def tenths(value: float, what: str) -> int:
    """A value in units of 0.1 that must be exact (no silent rounding, trap 4.9/4.10)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise EncodingError(f"{what} must be a number, got {value!r}")
    scaled = value * 10
    if abs(scaled - round(scaled)) > 1e-6:
        raise SafetyViolation(f"{what} {value} is not a multiple of 0.1", rule="device-resolution")
    return round(scaled)


def at_least(version: Version, major: int) -> bool:
    return version >= (major,)


def rapid_parameters_length(version: Version) -> int:
    """A5: 24 bytes from v9, 22 for v7-v8, 21 before v7."""
    if at_least(version, 9):
        return 24
    return 22 if at_least(version, 7) else 21


def encode(command: str, *, version: Version = NEWEST, **args: Any) -> Request:
    """Build the request for a codec command (names as in tests/vectors/magstim.toml)."""
    builder = _COMMANDS.get(command)
    if builder is None:
        raise ProtocolError(f"no Magstim command named {command!r}")
    return builder(version, args)


def _simple(
    name: str, char: bytes, length: int, parse: Parser
) -> Callable[[Version, dict[str, Any]], Request]:
    def build(version: Version, args: dict[str, Any]) -> Request:
        return Request(name, frame(char + PAD), length, parse)

    return build


def _mode(name: str, mode_byte: bytes) -> Callable[[Version, dict[str, Any]], Request]:
    # A3 mode-setting byte: `A` disarm, `B` arm, `H` fire (data of `E`).
    def build(version: Version, args: dict[str, Any]) -> Request:
        return Request(name, frame(b"E" + mode_byte), 3, _status_only)

    return build


def _power(name: str, char: bytes) -> Callable[[Version, dict[str, Any]], Request]:
    def build(version: Version, args: dict[str, Any]) -> Request:
        return Request(name, frame(char + digits(args["percent"], 3, "power")), 3, _status_only)

    return build


def _enable_remote(version: Version, args: dict[str, Any]) -> Request:
    code = args.get("unlock_code")
    if code is None:
        return Request("enable_remote", frame(b"Q" + PAD), 3, _status_only)
    # A8.1: Q + the 16-char code as given (with hyphens, without its trailing CRC char).
    raw = code.encode("ascii")
    if len(raw) != 16:
        raise EncodingError(f"unlock code must be 16 characters, got {len(raw)}")
    return Request("enable_remote", frame(b"Q" + raw), 3, _status_only)


def _set_interval(version: Version, args: dict[str, Any]) -> Request:
    return Request(
        "set_interval", frame(b"C" + digits(args["raw"], 3, "interval")), 3, _status_only
    )


def _set_frequency(version: Version, args: dict[str, Any]) -> Request:
    # A4 `B`: 4 digits in 0.1 Hz.
    body = b"B" + digits(tenths(args["hz"], "frequency"), 4, "frequency x10")
    return Request("set_frequency", frame(body), 4, _with_rapid)


def _set_pulses(version: Version, args: dict[str, Any]) -> Request:
    width = 5 if at_least(version, 9) else 4  # A4 `D`
    return Request(
        "set_pulses", frame(b"D" + digits(args["count"], width, "pulses")), 4, _with_rapid
    )


def _set_duration(version: Version, args: dict[str, Any]) -> Request:
    width = 4 if at_least(version, 9) else 3  # A4 `[`, 0.1 s
    body = b"[" + digits(tenths(args["seconds"], "duration"), width, "duration x10")
    return Request("set_duration", frame(body), 4, _with_rapid)


def _set_charge_delay(version: Version, args: dict[str, Any]) -> Request:
    if not at_least(version, 9):
        raise ProtocolError("charge delay needs Rapid software v9 or later (A4 `n`)")
    if at_least(version, 10):
        return Request(
            "set_charge_delay",
            frame(b"n" + digits(args["ms"], 5, "charge delay")),
            6,
            _with_rapid_ext,
        )
    return Request(
        "set_charge_delay", frame(b"n" + digits(args["ms"], 4, "charge delay")), 4, _with_rapid
    )


def _get_charge_delay(version: Version, args: dict[str, Any]) -> Request:
    if not at_least(version, 9):
        raise ProtocolError("charge delay needs Rapid software v9 or later (A4 `o`)")
    # v9: 7 bytes, v10+: 8 (MP expects 8 on v9 and hangs, A11.2).
    return Request(
        "get_charge_delay", frame(b"o" + PAD), 8 if at_least(version, 10) else 7, _charge_delay
    )


def _get_rapid_parameters(version: Version, args: dict[str, Any]) -> Request:
    if at_least(version, 9):
        widths = (3, 4, 5, 4, 4)
    elif at_least(version, 7):
        widths = (3, 4, 4, 3, 4)
    else:
        widths = (3, 4, 4, 3, 3)
    return Request(
        "get_rapid_parameters",
        frame(b"\\" + PAD),
        rapid_parameters_length(version),
        _rapid_parameters(widths),
    )


def _get_system_status(version: Version, args: dict[str, Any]) -> Request:
    if not at_least(version, 9):
        raise ProtocolError("system status needs Rapid software v9 or later (A4 `x`)")
    return Request("get_system_status", frame(b"x" + PAD), 6, _with_rapid_ext)


def _get_version(version: Version, args: dict[str, Any]) -> Request:
    return Request("get_version", frame(b"ND"), None, _version)  # `D` selects BASE (A4 `N`)


def _raw(version: Version, args: dict[str, Any]) -> Request:
    body = bytes.fromhex(args["data"])
    return Request("raw", frame(body), args.get("reply_length", 3), _status_only)


def _raw_unframed(version: Version, args: dict[str, Any]) -> Request:
    body = bytes.fromhex(args["data"])
    return Request("raw_unframed", body, args.get("reply_length", 3), _status_only)


_COMMANDS: dict[str, Callable[[Version, dict[str, Any]], Request]] = {
    "enable_remote": _enable_remote,
    "disable_remote": _simple("disable_remote", b"R", 3, _status_only),
    "set_power_a": _power("set_power_a", b"@"),
    "set_power_b": _power("set_power_b", b"A"),
    "set_interval": _set_interval,
    "high_res_on": _simple("high_res_on", b"Y", 3, _status_only),
    "high_res_off": _simple("high_res_off", b"Z", 3, _status_only),
    "arm": _mode("arm", b"B"),
    "disarm": _mode("disarm", b"A"),
    "fire": _mode("fire", b"H"),
    "get_parameters": _simple("get_parameters", b"J", 12, _parameters),
    "get_temperature": _simple("get_temperature", b"F", 9, _temperature),
    "get_system_mode": _simple("get_system_mode", b"X", 4, _system_mode),
    "get_rapid_parameters": _get_rapid_parameters,
    "set_frequency": _set_frequency,
    "set_pulses": _set_pulses,
    "set_duration": _set_duration,
    "enhanced_power_on": _simple("enhanced_power_on", b"^", 4, _with_rapid),
    "enhanced_power_off": _simple("enhanced_power_off", b"_", 4, _with_rapid),
    "ignore_coil_interlock": _simple("ignore_coil_interlock", b"b", 3, _status_only),
    "get_version": _get_version,
    "get_error_code": _simple("get_error_code", b"I", 6, _error_code),
    "get_system_status": _get_system_status,
    "set_charge_delay": _set_charge_delay,
    "get_charge_delay": _get_charge_delay,
    "raw": _raw,
    "raw_unframed": _raw_unframed,
}

COMMAND_NAMES = frozenset(_COMMANDS)
