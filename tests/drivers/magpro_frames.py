"""MagPro frames for behaviour tests, with an independent CRC-8/MAXIM (device-protocols B2)."""

from __future__ import annotations


def crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        for bit in range(8):
            mix = (crc ^ (byte >> bit)) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
    return crc


def mv(*payload: int) -> bytes:
    body = bytes(payload)
    return bytes([0xFE, len(body)]) + body + bytes([crc8(body), 0xFF])


DISABLED = 0x24  # X100, Standard, Biphasic (B3)
ENABLED = 0x34
GET_STATUS = mv(0)


def status(st: int = DISABLED, a: int = 50, b: int = 0, model_bits: int = 0) -> bytes:
    return mv(0, st | model_bits, 0x01, 0x23, 0x45, 25, 60, a, b)
