"""Simulators served on a pseudo-terminal: real pyserial ports, real bytes, real signals."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
import serial

from simulators import PtyServer, create_simulator, serve_pty
from tests.simulators.conftest import magpro, magstim, split_magpro


def start_server(spec: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "stimctl", "sim", "serve", spec],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("PTY /dev/"), (first, proc.stderr.read() if proc.stderr else "")
    return proc, first.split(" ", 1)[1].strip()


@pytest.fixture
def rapid_server() -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc, path = start_server("magstim-rapid2?version=10&unlock_code=abcd-0123abcd-5e")
    yield proc, path
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_a_pty_and_stops_cleanly(
    rapid_server: tuple[subprocess.Popen[str], str], stop_signal: int
) -> None:
    proc, path = rapid_server
    with serial.Serial(path, 9600, timeout=2) as port:
        port.write(magstim(b"Qabcd-0123abcd-5e"))
        assert port.read(3) == bytes.fromhex("51 89 25")
        port.write(magstim(b"ND"))
        assert port.read(8) == magstim(b"NV10.0\x00")
        port.write(magstim(b"x@"))
        assert port.read(6) == magstim(b"x\x89\x38\x00\x00")
    proc.send_signal(stop_signal)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert out.strip().splitlines() == ["stopped: magstim-rapid2, 0 pulses delivered"]
    assert err == ""


def test_cli_rejects_a_bad_spec_with_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stimctl", "sim", "serve", "magstim-200?volume=11"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "stimctl: error: simulator spec 'magstim-200?volume=11': "
        "unknown key(s) for magstim-200: volume"
    ]


def test_serve_in_a_thread_delivers_a_magpro_train_in_real_time() -> None:
    sim = create_simulator("magpro-x100")
    stop = threading.Event()
    paths: list[str] = []
    ready = threading.Event()

    def announce(path: str) -> None:
        paths.append(path)
        ready.set()

    thread = threading.Thread(target=serve_pty, args=(sim, stop, announce), daemon=True)
    thread.start()
    assert ready.wait(5)
    try:
        with serial.Serial(paths[0], 38400, timeout=2) as port:
            port.write(magpro(b"\x02\x01"))
            assert [m[0] for m in split_magpro(port.read(24))] == [1, 3, 1]
            port.write(magpro(b"\x07\x02\x00"))
            assert split_magpro(port.read(8)) == [bytes([8, 2, 0, 0x34])]
            port.write(magpro(bytes.fromhex("06 0064 0003 0001 000A")))  # 3 at 10 pps
            port.write(magpro(b"\x04"))
            messages = split_magpro(port.read(8 * 5))
        assert [m[0] for m in messages] == [8, 2, 2, 2, 8]
        assert len(sim.pulses) == 3
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


def test_pty_server_survives_a_client_closing_and_reopening() -> None:
    sim = create_simulator("magstim-200")
    with PtyServer(sim) as server:
        stop = threading.Event()
        thread = threading.Thread(target=server.serve, args=(stop,), daemon=True)
        thread.start()
        try:
            for _ in range(2):
                with serial.Serial(server.path, 9600, timeout=2) as port:
                    port.write(magstim(b"J@"))
                    assert port.read(12) == magstim(b"J\x09030000000")
        finally:
            stop.set()
            thread.join(5)
