"""Magstim frames for behaviour tests, built with an independent checksum helper
(device-protocols A2), so the tests do not trust the codec they check."""

from __future__ import annotations


def ms(body: bytes) -> bytes:
    return body + bytes([~sum(body) & 0xFF])


Q = ms(b"Q@")
R = ms(b"R@")
F = ms(b"F@")
X = ms(b"x@")
ND = ms(b"ND")
PARAMS = ms(b"\\@")
ARM = ms(b"EB")
DISARM = ms(b"EA")
FIRE = ms(b"EH")

STANDBY = 0x89
ARMED = 0x8A
READY = 0x8C


def reply(char: bytes, status: int, data: bytes = b"") -> bytes:
    return ms(char + bytes([status]) + data)


def temp_reply(status: int = STANDBY, tenths: int = 240) -> bytes:
    return reply(b"F", status, b"%03d%03d" % (tenths, tenths))


def x_reply(status: int = STANDBY, rapid: int = 0x38, ext: int = 0) -> bytes:
    return reply(b"x", status, bytes([rapid, ext >> 8, ext & 0xFF]))


def rapid_params(rapid: int, power: int, tenth_hz: int, pulses: int, tenth_s: int) -> bytes:
    digits = b"%03d%04d%05d%04d%04d" % (power, tenth_hz, pulses, tenth_s, 0)
    return reply(b"\\", STANDBY, bytes([rapid]) + digits)
