"""MagVenture MagPro wire format: frames, CRC-8/MAXIM, message decoding. No I/O.

Frame (device-protocols B2): ``FE LEN payload[LEN] CRC8(payload) FF``; payload[0] is the
command or message id. There is no escaping, so FE/FF occur inside payloads: frames are
cut by LEN and confirmed by the CRC and the end byte, never split on FF (MCP's bug, B2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stimctl.errors import ChecksumError, EncodingError, ProtocolError, SafetyViolation

START = 0xFE
END = 0xFF
MAX_PAYLOAD = 64  # longest documented message is ID 11 (>= 14 payload bytes); B5

MODELS = ("R30", "X100", "R30+Option", "X100+Option", "R30+Option+Mono", "MST")  # B3
MODES = ("Standard", "Power", "Twin", "Dual")
WAVEFORMS = ("Monophasic", "Biphasic", "Half Sine", "Biphasic Burst")
PAGES = {1: "Main", 2: "Timing", 3: "Trig", 4: "Config", 6: "Download", 7: "Protocol"}
PAGES |= {8: "MEP", 13: "Service", 15: "Treatment", 16: "Treat Select", 17: "Service2"}
PAGES |= {19: "Calculator"}
SETTABLE_PAGES = (1, 2, 3, 4, 7)  # B3: only these through command 7
TIMING_PAGE = 2


def crc8(data: bytes) -> int:
    """CRC-8/MAXIM: reflected polynomial 0x8C, init 0, no final XOR (B2)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
    return crc


def encode_frame(payload: bytes) -> bytes:
    if not 1 <= len(payload) <= MAX_PAYLOAD:
        raise ProtocolError(f"payload length {len(payload)} is outside 1-{MAX_PAYLOAD}")
    return bytes([START, len(payload)]) + payload + bytes([crc8(payload), END])


@dataclass(frozen=True)
class StatusByte:
    """B3: bits 1-0 mode, 3-2 waveform, 4 enabled, 7-5 model."""

    raw: int

    @property
    def mode(self) -> int:
        return self.raw & 0x03

    @property
    def waveform(self) -> int:
        return self.raw >> 2 & 0x03

    @property
    def enabled(self) -> bool:
        return bool(self.raw & 0x10)

    @property
    def model(self) -> int:
        return self.raw >> 5 & 0x07

    @property
    def model_name(self) -> str:
        return MODELS[self.model] if self.model < len(MODELS) else f"model {self.model}"


@dataclass(frozen=True)
class Message:
    """One decoded device message (B5). Fields a message id lacks stay None."""

    id: int
    raw: bytes
    status: int | None = None
    serial: int | None = None
    coil_temp_c: int | None = None
    coil_type: int | None = None
    amplitude_a: int | None = None
    amplitude_b: int | None = None
    original_a: int | None = None
    original_b: int | None = None
    factor_a: int | None = None
    factor_b: int | None = None
    page: int | None = None
    running: bool | None = None
    didt_a: int | None = None
    didt_b: int | None = None
    rw: int | None = None
    model: int | None = None
    mode: int | None = None
    direction: int | None = None
    waveform: int | None = None
    burst_index: int | None = None
    ipi_index: int | None = None
    ba_index: int | None = None
    mep_max_uv: int | None = None
    mep_min_uv: int | None = None
    mep_time_us: int | None = None

    @property
    def status_byte(self) -> StatusByte | None:
        return None if self.status is None else StatusByte(self.status)


def _need(payload: bytes, n: int) -> None:
    if len(payload) < n:
        raise ProtocolError(f"message {payload[0]} has {len(payload)} payload bytes, needs {n}")


def _status_message(p: bytes) -> dict[str, Any]:  # ID 0, and the first part of ID 5
    _need(p, 9)
    return {
        "status": p[1],
        "serial": p[2] << 16 | p[3] << 8 | p[4],
        "coil_temp_c": p[5],
        "coil_type": p[6],
        "amplitude_a": p[7],
        "amplitude_b": p[8],
    }


def _long_status(p: bytes) -> dict[str, Any]:  # ID 5: KOP/XL layout (page byte 15, running 16)
    _need(p, 15)
    return _status_message(p) | {
        "original_a": p[9],
        "original_b": p[10],
        "factor_a": p[11],
        "factor_b": p[12],
        "page": p[13],
        "running": bool(p[14]),
    }


def _three(*names: str) -> Callable[[bytes], dict[str, Any]]:
    def parse(p: bytes) -> dict[str, Any]:
        _need(p, 4)
        return {names[0]: p[1], names[1]: p[2], "status": p[3]}

    return parse


def _page_message(p: bytes) -> dict[str, Any]:  # ID 8
    _need(p, 4)
    return {"page": p[1], "running": bool(p[2]), "status": p[3]}


def _mode_message(p: bytes) -> dict[str, Any]:  # ID 9; IPI index little-endian (B5)
    _need(p, 10)
    return {
        "rw": p[1],
        "model": p[2],
        "mode": p[3],
        "direction": p[4],
        "waveform": p[5],
        "burst_index": p[6],
        "ipi_index": p[7] | p[8] << 8,
        "ba_index": p[9],
    }


def _mep_message(p: bytes) -> dict[str, Any]:  # ID 4, uint32 big-endian (UNCERTAIN, B5)
    _need(p, 13)
    return {
        "mep_max_uv": int.from_bytes(p[1:5], "big"),
        "mep_min_uv": int.from_bytes(p[5:9], "big"),
        "mep_time_us": int.from_bytes(p[9:13], "big"),
    }


_DECODERS: dict[int, Callable[[bytes], dict[str, Any]]] = {
    0: _status_message,
    1: _three("amplitude_a", "amplitude_b"),
    2: _three("didt_a", "didt_b"),
    3: _three("coil_temp_c", "coil_type"),
    4: _mep_message,
    5: _long_status,
    6: _three("original_a", "original_b"),
    7: _three("factor_a", "factor_b"),
    8: _page_message,
    9: _mode_message,
}


def decode_payload(payload: bytes) -> Message:
    """Decode a CRC-checked payload. Unknown ids (10-12, 240, ...) keep only `raw`."""
    if not payload:
        raise ProtocolError("empty payload")
    decoder = _DECODERS.get(payload[0])
    fields = decoder(payload) if decoder is not None else {}
    return Message(id=payload[0], raw=bytes(payload), **fields)


class FrameParser:
    """Incremental frame splitter: feed bytes, get messages and errors in order.

    Pure and total: any byte sequence yields only `Message`s and `ProtocolError`s, never
    raises, and holds at most one partial frame (MAX_PAYLOAD + 4 bytes).
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Message | ProtocolError]:
        self._buf += data
        out: list[Message | ProtocolError] = []
        while self._buf:
            if self._buf[0] != START:
                skipped = self._skip_to_start()
                out.append(
                    ProtocolError(
                        f"skipped {len(skipped)} bytes outside a frame: {skipped.hex(' ')}"
                    )
                )
                continue
            if len(self._buf) < 2:
                break
            length = self._buf[1]
            if not 1 <= length <= MAX_PAYLOAD:
                out.append(ProtocolError(f"frame length {length} is outside 1-{MAX_PAYLOAD}"))
                del self._buf[0]
                continue
            total = length + 4
            if len(self._buf) < total:
                break
            candidate = bytes(self._buf[:total])
            payload = candidate[2 : 2 + length]
            if candidate[-1] != END:
                out.append(ProtocolError(f"frame does not end in FF: {candidate.hex(' ')}"))
                del self._buf[0]  # resynchronise on the next FE
                continue
            if crc8(payload) != candidate[-2]:
                expected = crc8(payload)
                got = f"CRC {candidate[-2]:02x}, expected {expected:02x}"
                out.append(ChecksumError(f"{got}: {candidate.hex(' ')}"))
                del self._buf[0]
                continue
            del self._buf[:total]
            try:
                out.append(decode_payload(payload))
            except ProtocolError as exc:
                out.append(exc)
        return out

    def _skip_to_start(self) -> bytes:
        index = self._buf.find(START)
        cut = len(self._buf) if index < 0 else index
        skipped = bytes(self._buf[:cut])
        del self._buf[:cut]
        return skipped


# -- commands (B4) ----------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """A framed command; `awaits` is the message id of its documented reply, if any."""

    name: str
    frame: bytes
    awaits: int | None = None


def _int_in(value: Any, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SafetyViolation(f"{what} {value!r} is outside {low}-{high}", rule="device-range")
    return value


def _scaled(value: Any, scale: int, low: float, high: float, what: str) -> int:
    """value x scale as an exact integer; off-grid or out of range is refused."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise EncodingError(f"{what} must be a number, got {value!r}")
    if not low <= value <= high:
        raise SafetyViolation(f"{what} {value} is outside {low}-{high}", rule="device-range")
    scaled = value * scale
    if abs(scaled - round(scaled)) > 1e-6:
        raise SafetyViolation(
            f"{what} {value} is not a multiple of {1 / scale:g}", rule="device-resolution"
        )
    return round(scaled)


def _u16(value: int) -> bytes:
    return value.to_bytes(2, "big")


def rep_rate_x10(rate_pps: float) -> int:
    """B4 command 6: 0.1-1.0 pps in 0.1 steps, then whole pps up to 100."""
    x10 = _scaled(rate_pps, 10, 0.1, 100.0, "repetition rate (pps)")
    if x10 > 10 and x10 % 10:
        raise SafetyViolation(
            f"repetition rate {rate_pps} pps: above 1 pps only whole numbers",
            rule="device-resolution",
        )
    return x10


def pulses_in_train(pulses: int) -> int:
    """B4 command 6: 1-1000, and 1100-2000 in steps of 100 (XL)."""
    whole = isinstance(pulses, int) and not isinstance(pulses, bool)
    if whole and 1100 <= pulses <= 2000 and pulses % 100 == 0:
        return pulses
    return _int_in(pulses, 1, 1000, "pulses in train")


def burst_index(pulses: int) -> int:
    """B3: burst of 5, 4, 3, 2 pulses is sent as index 0, 1, 2, 3."""
    return 5 - _int_in(pulses, 2, 5, "pulses per burst")


def _set_amplitude(args: dict[str, Any]) -> Request:
    a = _int_in(args["a"], 0, 100, "amplitude A (%)")
    if args.get("b") is None:
        return Request("set_amplitude", encode_frame(bytes([1, a])))  # MCP form (V4)
    b = _int_in(args["b"], 0, 100, "amplitude B (%)")
    return Request("set_amplitude", encode_frame(bytes([1, a, b])))


def _fire(args: dict[str, Any]) -> Request:
    payload = bytes([3]) if args.get("short") else bytes([3, 1])  # KOP/XL vs MCP form (V7)
    return Request("fire", encode_frame(payload))


def _set_train(args: dict[str, Any]) -> Request:
    rr = rep_rate_x10(args["rate_pps"])
    pit = pulses_in_train(args["pulses"])
    trains = _int_in(args["trains"], 1, 500, "number of trains")
    iti = _scaled(args["iti_s"], 10, 0.1, 120.0, "inter-train interval (s)")
    payload = bytes([6]) + _u16(rr) + _u16(pit) + _u16(trains) + _u16(iti)
    return Request("set_train", encode_frame(payload))


def _set_page(args: dict[str, Any]) -> Request:
    page = args["page"]
    if page not in SETTABLE_PAGES:
        raise SafetyViolation(f"page {page!r} cannot be set remotely (B3)", rule="device-range")
    return Request("set_page", encode_frame(bytes([7, page, 0])))


def _set_delays(args: dict[str, Any]) -> Request:
    delay_in = _scaled(args["in_ms"], 10, 0.0, 100.0, "trigger-in delay (ms)")
    delay_out = _scaled(args["out_ms"], 10, -100.0, 100.0, "trigger-out delay (ms)")
    charge = _int_in(args["charge_ms"], 0, 12000, "charge delay (ms)")
    payload = bytes([8]) + _u16(delay_in) + (delay_out & 0xFFFF).to_bytes(2, "big") + _u16(charge)
    return Request("set_delays", encode_frame(payload + b"\x00\x00"))


def _set_mode(args: dict[str, Any]) -> Request:
    model = _int_in(args["model"], 0, len(MODELS) - 1, "model")
    mode = _int_in(args["mode"], 0, 3, "mode")
    direction = _int_in(args["direction"], 0, 1, "current direction")
    waveform = _int_in(args["waveform"], 0, 3, "waveform")
    burst = burst_index(args.get("burst_pulses", 2))
    ipi = _scaled(args.get("ipi_ms", 10.0), 10, 0.5, 3000.0, "inter-pulse interval (ms)")
    ba = _scaled(args.get("ba_ratio", 1.0), 100, 0.2, 5.0, "B/A ratio")
    payload = bytes([9, 1, model, mode, direction, waveform, burst]) + _u16(ipi) + _u16(ba)
    return Request("set_mode", encode_frame(payload))


_FIXED: dict[str, tuple[bytes, int | None]] = {
    "get_status": (b"\x00", 0),
    "get_long_status": (b"\x05", 5),
    "enable": (b"\x02\x01", None),
    "disable": (b"\x02\x00", None),
    "start_train": (b"\x04", None),
    "get_mode": (b"\x09" + bytes(10), 9),
}

_BUILDERS: dict[str, Callable[[dict[str, Any]], Request]] = {
    "set_amplitude": _set_amplitude,
    "fire": _fire,
    "set_train": _set_train,
    "set_page": _set_page,
    "set_delays": _set_delays,
    "set_mode": _set_mode,
}

COMMAND_NAMES = frozenset(_FIXED) | frozenset(_BUILDERS)


def encode(command: str, **args: Any) -> Request:
    """Build a command by name (as in tests/vectors/magventure.toml)."""
    if command in _FIXED:
        payload, awaits = _FIXED[command]
        return Request(command, encode_frame(payload), awaits)
    builder = _BUILDERS.get(command)
    if builder is None:
        raise ProtocolError(f"no MagPro command named {command!r}")
    return builder(args)


# -- ID 9 index tables (B6) ---------------------------------------------------------


# (last index, IPI at the first index of the run, first index - 1 ... as base, step), B6
_TWIN_IPI: tuple[tuple[int, float, int, float], ...] = (
    (20, 3000.0, 0, 100.0),
    (30, 1000.0, 20, 50.0),
    (70, 500.0, 30, 10.0),
    (150, 100.0, 70, 1.0),
    (170, 20.0, 150, 0.5),
    (260, 10.0, 170, 0.1),
)


def ipi_ms_from_index(index: int, *, mode: int, waveform: int) -> float | None:
    """The inter-pulse interval an ID 9 index stands for; None where it is meaningless."""
    if waveform == 3:  # Biphasic Burst
        if 0 <= index <= 80:
            return 100.0 - index
        if index <= 100:
            return 20.0 - 0.5 * (index - 80)
        if index <= 195:
            return round(10.0 - 0.1 * (index - 100), 1)
        return None
    if mode in (2, 3):  # Twin / Dual
        for top, start, base, step in _TWIN_IPI:
            if 0 <= index <= top:
                return round(start - step * (index - base), 1)
        return None
    return None
