"""Clients written the way the peer libraries read the wire, over a real pty.

Not their code: their reading rules as device-protocols describes them. MagPy (A2.2)
frames Magstim replies by expected length with no read timeout, so one byte too few
hangs it and one too many breaks the next reply; magicpy (PART E, B8) reads fixed byte
counts from a MagPro after each command. If the simulators pass these, a client built
for the real device drives them unmodified.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
import serial

from simulators import PtyServer, create_simulator
from tests.simulators.conftest import magpro, magstim, split_magpro

SAFETY_TIMEOUT_S = 5.0  # MagPy has none; a hang here fails instead of wedging CI


@pytest.fixture
def served() -> Iterator[Callable[[str], PtyServer]]:
    stop = threading.Event()
    servers: list[PtyServer] = []
    threads: list[threading.Thread] = []

    def start(spec: str) -> PtyServer:
        server = PtyServer(create_simulator(spec))
        thread = threading.Thread(target=server.serve, args=(stop,), daemon=True)
        thread.start()
        servers.append(server)
        threads.append(thread)
        return server

    yield start
    stop.set()
    for thread in threads:
        thread.join(5)
    for server in servers:
        server.close()


def magpy_read(port: serial.Serial, sent: bytes, read_bytes: int) -> bytes:
    """device-protocols A2.2, steps 1-3."""
    first = port.read(1)
    assert first, "MagPy would hang here"
    if first == b"N":
        out = first
        while not out.endswith(b"\x00"):
            byte = port.read(1)
            assert byte, "MagPy would hang here"
            out += byte
        return out + port.read(1)
    if first == b"?":
        return first
    second = port.read(1)
    if second in (b"?", b"S"):
        return first + second + port.read(1)
    rest = port.read(read_bytes - 2)
    assert len(rest) == read_bytes - 2, "MagPy would hang here"
    return first + second + rest


MAGPY_SESSION = [  # (frame, MagPy readBytes) for a Rapid v9 with an unlock code
    (b"Qabcd-0123abcd-5e", 3),
    (b"ND", 0),
    (b"x@", 6),
    (b"\\@", 24),
    (b"@050", 3),
    (b"[0010", 4),
    (b"B0100", 4),
    (b"D00010", 4),
    (b"F@", 9),
    (b"EB", 3),
    (b"x@", 6),
    (b"o@", 7),
    (b"EA", 3),
    (b"R@", 3),
]


def test_magpy_style_framing_over_a_pty(served: Callable[[str], PtyServer]) -> None:
    server = served("magstim-rapid2?version=9&unlock_code=abcd-0123abcd-5e")
    with serial.Serial(server.path, 9600, timeout=SAFETY_TIMEOUT_S) as port:
        for text, read_bytes in MAGPY_SESSION:
            port.reset_input_buffer()  # MagPy flushes before each write (A2.2)
            frame = magstim(text)
            port.write(frame)
            reply = magpy_read(port, frame, read_bytes)
            assert reply[0] == frame[0], (text, reply)
            assert reply[-1] == ~sum(reply[:-1]) & 0xFF
            assert reply[1:2] not in (b"?", b"S"), (text, reply)
        port.timeout = 0.2
        assert port.read(1) == b""  # nothing stray on the line


def test_magpy_v9_charge_delay_bug_is_reproduced(served: Callable[[str], PtyServer]) -> None:
    """A11.2: MagPy expects 8 bytes from `o@` on v9, which sends 7: MagPy hangs."""
    server = served("magstim-rapid2?version=9")
    with serial.Serial(server.path, 9600, timeout=0.3) as port:
        port.write(magstim(b"Qabcd-0123abcd-5e"))
        assert port.read(3)[:1] == b"Q"
        port.write(magstim(b"o@"))
        assert len(port.read(8)) == 7


MAGICPY_SESSION = [  # (payload, bytes magicpy reads) - PART E
    (b"\x00", 13),
    (b"\x05", 19),
    (b"\x01\x32", 8),
    (b"\x02\x01", 24),
    (b"\x03\x01", 8),
    (b"\x02\x00", 8),
]


def test_magicpy_style_fixed_reads_over_a_pty(served: Callable[[str], PtyServer]) -> None:
    server = served("magpro-x100?answer_mode_set=1")
    with serial.Serial(server.path, 38400, timeout=SAFETY_TIMEOUT_S) as port:
        for payload, expected in MAGICPY_SESSION:
            port.reset_input_buffer()
            port.write(magpro(payload))
            reply = port.read(expected)
            assert len(reply) == expected, (payload, reply.hex(" "))
            split_magpro(reply)  # every byte belongs to a well-formed frame
        port.write(magpro(bytes.fromhex("09 01 01 00 00 01 03 0000 0000")))
        assert len(port.read(14)) == 14  # MCP's 14 bytes after a mode set
