"""LSL test parts: a plain EMG outlet the test drives sample by sample, and a hunt journal
wired to the marker outlet and an EMG source."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pylsl

RATE_HZ = 1000.0


class NoiseOutlet:
    """An EMG stream of small noise at 1 kHz, pushed every 5 ms up to now, until
    `silence` is set (then the outlet stays open but sends nothing) or `stop()`."""

    def __init__(self, name: str, *, unit: str | None = "microvolts") -> None:
        info = pylsl.StreamInfo(name, "EMG", 1, RATE_HZ, pylsl.cf_float32, f"test-{name}")
        channel = info.desc().append_child("channels").append_child("channel")
        channel.append_child_value("label", "APB")
        if unit is not None:
            channel.append_child_value("unit", unit)
        self.outlet: Any = pylsl.StreamOutlet(info)
        self.silence = threading.Event()
        self._stop = threading.Event()
        self._rng = np.random.default_rng(0)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> NoiseOutlet:
        self._thread.start()
        return self

    def _run(self) -> None:
        t0 = pylsl.local_clock()
        sent = 0
        while not self._stop.wait(0.005):
            if self.silence.is_set():
                continue
            count = int((pylsl.local_clock() - t0) * RATE_HZ) - sent
            if count <= 0:
                continue
            stamps = (t0 + (sent + np.arange(count)) / RATE_HZ).tolist()
            values = self._rng.normal(0.0, 2.0, (count, 1)).astype(np.float32)
            self.outlet.push_chunk(values, stamps)
            sent += count

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.outlet = None


def wait_for(predicate: Any, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False
