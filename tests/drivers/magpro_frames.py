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


GET_MODE = mv(9, *bytes(10))


def mode(
    model: int = 1,
    mode_: int = 0,
    direction: int = 0,
    waveform: int = 1,
    burst: int = 3,
    ipi: int = 80,
    ba: int = 80,
) -> bytes:
    """ID 9 reply (B5): IPI index little-endian."""
    return mv(9, 0, model, mode_, direction, waveform, burst, ipi & 0xFF, ipi >> 8, ba)


def set_mode(
    model: int = 1,
    mode_: int = 0,
    direction: int = 0,
    waveform: int = 1,
    burst_pulses: int = 2,
    ipi_x10: int = 100,
    ba_x100: int = 100,
) -> bytes:
    """Command 9, set form (B4): IPI and B/A big-endian values."""
    return mv(9, 1, model, mode_, direction, waveform, 5 - burst_pulses,
              ipi_x10 >> 8, ipi_x10 & 0xFF, ba_x100 >> 8, ba_x100 & 0xFF)  # fmt: skip
