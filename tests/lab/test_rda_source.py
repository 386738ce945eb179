"""The BrainVision RDA source (issue 18 item 3, second transport) against a real TCP server
in the test speaking the RDA wire format: MEPs placed by the amplifier's trigger
marker, background bursts rejected, a closed connection is exit 12."""

from __future__ import annotations

import math
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from stimctl.clock import MonotonicClock
from stimctl.errors import ConfigError, EmgStreamError, ExitCode
from stimctl.lab.rda import GUID, RdaEmgSource, make_rda_source
from stimctl.mep import TrialRejected
from stimctl.rmt.journaling import HuntJournal

RATE = 2000.0
RESOLUTION = 0.1  # µV per unit, as BrainVision amplifiers declare it


def message(kind: int, body: bytes) -> bytes:
    return GUID + struct.pack("<II", 24 + len(body), kind) + body


class FakeAmplifier:
    """An RDA server: one channel at 2 kHz in 10 ms blocks; `trigger()` puts a marker
    (type Stimulus) in the next block and an MEP 21 ms after it."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self._pending: list[tuple[float, float]] = []  # (mep µV, burst µV)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def trigger(self, mep_uv: float, burst_uv: float = 0.0) -> None:
        with self._lock:
            self._pending.append((mep_uv, burst_uv))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.server.close()

    def _serve(self) -> None:
        self.server.settimeout(5.0)
        conn, _ = self.server.accept()
        with conn:
            names = b"FDI\0"
            conn.sendall(
                message(
                    1, struct.pack("<Id", 1, 1e6 / RATE) + struct.pack("<d", RESOLUTION) + names
                )
            )
            rng = np.random.default_rng(0)
            block, sent = 0, 0
            events: list[tuple[int, float, float]] = []  # (marker sample, mep, burst)
            start = time.monotonic()
            while not self._stop.is_set():
                time.sleep(0.005)
                due = int((time.monotonic() - start) * RATE)
                if due - sent < 20:
                    continue
                points = due - sent
                with self._lock:
                    for mep, burst in self._pending:
                        # a burst first runs for 60 ms, then the trigger comes
                        delay = int(0.06 * RATE) if burst else 0
                        events.append((sent + delay, mep, burst))
                    self._pending.clear()
                values = rng.normal(0.0, 2.0, points)
                markers = b""
                count = 0
                for at, mep, burst in events:
                    t = (np.arange(sent, sent + points) - at) / RATE
                    if burst:
                        values[(t >= -0.06) & (t < 0.0)] += rng.normal(
                            0.0, burst, int(((t >= -0.06) & (t < 0.0)).sum())
                        )
                    inside = (t >= 0.021) & (t < 0.036)
                    values[inside] += mep / 2 * np.sin(2 * math.pi * (t[inside] - 0.021) / 0.015)
                    if sent <= at < sent + points:
                        text = b"Stimulus\0S  1\0"
                        markers += struct.pack("<IIIi", 16 + len(text), at - sent, 1, -1) + text
                        count += 1
                data = (values / RESOLUTION).astype("<f4").tobytes()
                try:
                    conn.sendall(
                        message(4, struct.pack("<III", block, points, count) + data + markers)
                    )
                except OSError:
                    return
                block, sent = block + 1, sent + points


@pytest.fixture
def amplifier() -> Iterator[FakeAmplifier]:
    amp = FakeAmplifier()
    yield amp
    amp.close()


def test_meps_are_cut_at_the_amplifiers_trigger_marker(
    amplifier: FakeAmplifier, tmp_path: Path
) -> None:
    clock = MonotonicClock()
    source = make_rda_source(
        f"127.0.0.1:{amplifier.port}", {"marker": "Stimulus", "channel": "FDI"}
    )
    record = HuntJournal.start(
        clock=clock, start={"subject": "S"}, directory=tmp_path, listeners=(source.bind(clock),)
    )
    source.open()
    time.sleep(0.1)  # background before the first pulse
    for mep in (400.0, 1200.0):
        record.fired(70)
        amplifier.trigger(mep)
        reading = source.response(70)
        assert reading.amplitude_uv == pytest.approx(mep, rel=0.05, abs=15.0)
        time.sleep(0.1)
    record.fired(70)
    amplifier.trigger(800.0, burst_uv=150.0)
    with pytest.raises(TrialRejected, match="background EMG"):
        source.response(70)
    record.finish(None, error="test over")
    source.close()


def test_a_closed_connection_and_a_missing_trigger_are_exit_12(
    amplifier: FakeAmplifier, tmp_path: Path
) -> None:
    clock = MonotonicClock()
    source = RdaEmgSource("127.0.0.1", amplifier.port, timeout_s=0.3)
    record = HuntJournal.start(
        clock=clock, start={"subject": "S"}, directory=tmp_path, listeners=(source.bind(clock),)
    )
    source.open()
    record.fired(70)  # a pulse the amplifier never saw: no trigger cable
    with pytest.raises(EmgStreamError, match="no trigger marker") as raised:
        source.response(70)
    assert raised.value.exit_code == ExitCode.EMG_STREAM
    amplifier.close()
    time.sleep(0.6)
    record.fired(70)
    with pytest.raises(EmgStreamError, match="broke during the hunt"):
        source.response(70)
    source.close()


def test_nobody_listening_is_exit_12() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    with pytest.raises(EmgStreamError, match="cannot connect"):
        RdaEmgSource("127.0.0.1", port).open()


@pytest.mark.parametrize("target", ["", ":51244", "host:port"])
def test_bad_rda_targets_are_bad_input(target: str) -> None:
    with pytest.raises(ConfigError):
        make_rda_source(target, {})
