"""MagPro framing on the device side (device-protocols B2): FE LEN payload CRC FF.

CRC-8/MAXIM (Dallas 1-Wire): reflected polynomial 0x8C, init 0, no final XOR, over the
payload only. Written from the reference, not shared with drivers/ (ARCHITECTURE rule 1).
"""

from __future__ import annotations

START = 0xFE
END = 0xFF


def _table() -> tuple[int, ...]:
    out = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
        out.append(crc)
    return tuple(out)


_CRC_TABLE = _table()


def crc8_maxim(payload: bytes) -> int:
    crc = 0
    for byte in payload:
        crc = _CRC_TABLE[crc ^ byte]
    return crc


def frame(payload: bytes) -> bytes:
    """One device message around `payload` (payload[0] is the message ID)."""
    if not 0 < len(payload) < 256:
        raise ValueError(f"payload length {len(payload)} does not fit the LEN byte")
    return bytes([START, len(payload)]) + payload + bytes([crc8_maxim(payload), END])
