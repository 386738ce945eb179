"""Magstim framing on the device side (device-protocols A2): checksum and digit fields.

Written from the reference, not shared with drivers/ (ARCHITECTURE rule 1).
"""

from __future__ import annotations

UNKNOWN_COMMAND = b"?"  # A2.1: a bare `?`, no status, no checksum


def checksum(data: bytes) -> int:
    """A2: NOT(sum of the bytes) & 0xFF, over everything before the checksum."""
    return ~sum(data) & 0xFF


def with_checksum(data: bytes) -> bytes:
    return data + bytes([checksum(data)])


def digits(value: int, width: int) -> bytes:
    """Zero-padded decimal ASCII; a value too wide for the field is a model bug."""
    text = f"{value:0{width}d}"
    if len(text) != width or value < 0:
        raise ValueError(f"{value} does not fit {width} digits")
    return text.encode("ascii")


def parse_digits(data: bytes) -> int | None:
    """The integer in an all-digit field, or None (the device answers `<cmd>?`)."""
    if not data or not all(0x30 <= b <= 0x39 for b in data):
        return None
    return int(data.decode("ascii"))


def error_reply(cmd: int, kind: bytes) -> bytes:
    """A2.1: `<cmd>?<crc>` (invalid data) or `<cmd>S<crc>` (conflicts with the state)."""
    return with_checksum(bytes([cmd]) + kind)
