"""A synthetic EMG amplifier on Lab Streaming Layer, driven by a virtual subject (issue 18).

`SyntheticEmg` publishes one EMG channel (stream ``stimctl-emg``, type ``EMG``, µV,
2000 Hz, float32) made of white noise, mains hum, occasional background bursts (a muscle
that is not quite at rest) and, after each pulse it learns of, an MEP whose peak-to-peak
amplitude the virtual subject's Goetz model draws for that pulse's intensity
(`simulators.virtual_subject`). It learns of pulses from stimctl's LSL marker stream
(``stimctl-markers``: JSON markers with ``event: "pulse"`` and ``intensity_mso``, stamped
with the pulse time), so stimctl and this simulator meet only over LSL, like a lab's
amplifier and its recorder.

Like a real amplifier it sends each sample a fixed `delay_s` after its time (its buffer),
which leaves room for the marker to arrive before the MEP is due. A marker that arrives
after its MEP's samples were sent is counted in `late_pulses` (the MEP is lost, as a
trigger that missed an amplifier would be).

stimctl never imports this module; `stimctl sim emg` reaches it through the simulator
package's `serve_emg` (entry point group `stimctl.simulators`).
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulators.virtual_subject import VirtualSubject
from stimctl.errors import ConfigError

EMG_STREAM = "stimctl-emg"
MARKER_STREAM = "stimctl-markers"
RATE_HZ = 2000.0
MEP_LATENCY_S = 0.021  # first dorsal interosseous after a motor-cortex pulse: about 20-22 ms
MEP_DURATION_S = 0.015


def _mep_shape() -> tuple[np.ndarray[Any, np.dtype[np.float64]], float]:
    """A biphasic MEP of unit peak-to-peak on the stream's sample grid."""
    u = np.arange(0.0, MEP_DURATION_S, 1.0 / RATE_HZ) / MEP_DURATION_S
    shape = np.sin(2 * math.pi * u) * np.sin(math.pi * u) ** 0.5
    return shape / (shape.max() - shape.min()), MEP_DURATION_S


@dataclass
class _Event:
    start: float
    end: float
    amplitude_uv: float
    kind: str  # "mep" or "burst"
    seed: int = 0


@dataclass
class EmgStats:
    pulses: int = 0
    late_pulses: int = 0
    meps: list[tuple[int | None, int, float]] = field(default_factory=list)
    """(journal seq, % MSO, drawn MEP µV) per pulse heard."""


class SyntheticEmg:
    """Start with `start()`, stop with `stop()`; thread-safe `inject_burst`."""

    def __init__(
        self,
        subject_rmt: float,
        seed: int | None = None,
        *,
        name: str = EMG_STREAM,
        markers: str = MARKER_STREAM,
        noise_uv: float = 1.5,
        hum_uv: float = 2.0,
        hum_hz: float = 50.0,
        burst_rate_hz: float = 0.02,
        burst_uv: float = 120.0,
        delay_s: float = 0.02,
        chunk_s: float = 0.005,
    ) -> None:
        for label, value in (
            ("noise_uv", noise_uv),
            ("hum_uv", hum_uv),
            ("burst_rate_hz", burst_rate_hz),
            ("burst_uv", burst_uv),
        ):
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"synthetic EMG: {label} must be >= 0, got {value!r}")
        if not 0.005 <= delay_s <= 1.0:
            raise ConfigError(f"synthetic EMG: delay_s must be in 0.005..1 s, got {delay_s!r}")
        import pylsl  # the `lab` extra; checked by the command before this runs
        import pylsl.util

        self._lsl: Any = pylsl
        self.subject = VirtualSubject(subject_rmt, seed)
        self._rng = random.Random(f"emg-{seed}")
        self._noise = np.random.default_rng(None if seed is None else seed + 1)
        self.name = name
        self.markers = markers
        self.noise_uv, self.hum_uv, self.hum_hz = noise_uv, hum_uv, hum_hz
        self.burst_rate_hz, self.burst_uv = burst_rate_hz, burst_uv
        self.delay_s, self.chunk_s = delay_s, chunk_s
        self.stats = EmgStats()
        self._shape, _ = _mep_shape()
        self._events: list[_Event] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sent_until = 0.0
        self._outlet: Any = None
        self.marker_stream_found = threading.Event()
        self.listen_errors: list[str] = []

    # -- life cycle --------------------------------------------------------------------

    def start(self) -> None:
        lsl = self._lsl
        info = lsl.StreamInfo(self.name, "EMG", 1, RATE_HZ, lsl.cf_float32, f"stimsim-{self.name}")
        channel = info.desc().append_child("channels").append_child("channel")
        channel.append_child_value("label", "FDI")
        channel.append_child_value("unit", "microvolts")
        channel.append_child_value("type", "EMG")
        info.desc().append_child_value("manufacturer", "stimctl simulators")
        self._outlet = lsl.StreamOutlet(info, chunk_size=int(RATE_HZ * self.chunk_s))
        self._t0 = lsl.local_clock()
        self._sent = 0
        self._sent_until = self._t0
        for target in (self._emit, self._listen):
            thread = threading.Thread(target=target, name=f"emg-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._outlet = None

    def __enter__(self) -> SyntheticEmg:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject_burst(self, start: float, duration_s: float, rms_uv: float | None = None) -> None:
        """Background EMG from `start` (LSL clock) for `duration_s` (tests, demos)."""
        with self._lock:
            self._events.append(
                _Event(
                    start,
                    start + duration_s,
                    rms_uv or self.burst_uv,
                    "burst",
                    self._rng.getrandbits(32),
                )
            )

    # -- threads -----------------------------------------------------------------------

    def _listen(self) -> None:
        """Hear pulse markers; schedule each pulse's MEP."""
        lsl = self._lsl
        inlet = None
        # A continuous resolver keeps asking in the background: the marker stream may
        # appear any time (when stimctl starts a hunt or a session).
        resolver = lsl.ContinuousResolver(prop="name", value=self.markers, forget_after=5.0)
        while not self._stop.wait(0.05) and inlet is None:
            found = resolver.results()
            if not found:
                continue
            try:
                inlet = lsl.StreamInlet(found[0])
                inlet.open_stream(timeout=2.0)
            except Exception as exc:  # e.g. the stream went away between resolve and open
                self.listen_errors.append(f"{type(exc).__name__}: {exc}")
                inlet = None
        if inlet is None:
            return
        # Markers are stamped on stimctl's clock; the inlet's time correction moves them to
        # ours. Its first estimate takes a few probes (0 until then: the same machine), so
        # it is refreshed at most once a second and never waited for: a marker must not
        # be held up, its MEP is due 21 ms after the pulse.
        correction, refreshed = 0.0, 0.0
        self.marker_stream_found.set()
        while not self._stop.is_set():
            try:
                sample, stamp = inlet.pull_sample(timeout=0.1)
            except lsl.util.LostError:  # stimctl closed its marker stream: nothing more to hear
                return
            if sample is None:
                continue
            if lsl.local_clock() - refreshed > 1.0:
                with contextlib.suppress(lsl.util.TimeoutError):
                    correction = inlet.time_correction(timeout=0.0)
                    refreshed = lsl.local_clock()
            self._heard(sample[0], stamp + correction)

    def _heard(self, text: str, when: float) -> None:
        try:
            marker = json.loads(text)
        except ValueError:
            return
        if not isinstance(marker, dict) or marker.get("event") != "pulse":
            return
        intensity = marker.get("intensity_mso")
        if not isinstance(intensity, int | float):
            return
        amplitude = self.subject.mep_uv(float(intensity))
        onset = when + MEP_LATENCY_S
        with self._lock:
            self.stats.pulses += 1
            self.stats.meps.append((marker.get("seq"), int(intensity), amplitude))
            if onset < self._sent_until:
                self.stats.late_pulses += 1
                return
            self._events.append(_Event(onset, onset + MEP_DURATION_S, amplitude, "mep"))

    def _emit(self) -> None:
        lsl = self._lsl
        while not self._stop.wait(self.chunk_s):
            due = lsl.local_clock() - self.delay_s
            count = int((due - self._t0) * RATE_HZ) - self._sent
            if count <= 0:
                continue
            times = self._t0 + (self._sent + np.arange(count)) / RATE_HZ
            values = self._signal(times)
            outlet = self._outlet
            if outlet is None:
                return
            outlet.push_chunk(values.astype(np.float32).reshape(-1, 1), times.tolist())
            self._sent += count

    def _signal(
        self, times: np.ndarray[Any, np.dtype[np.float64]]
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        values = (
            self._noise.normal(0.0, self.noise_uv, times.size)
            if self.noise_uv
            else np.zeros(times.size)
        )
        values += self.hum_uv * np.sin(2 * math.pi * self.hum_hz * times)
        span = (times[-1] - times[0]) + 1.0 / RATE_HZ
        if self.burst_rate_hz and self._rng.random() < self.burst_rate_hz * span:
            start = float(times[0])
            self.inject_burst(start, self._rng.uniform(0.1, 0.4))
        with self._lock:
            self._sent_until = float(times[-1])
            events = list(self._events)
            self._events = [e for e in self._events if e.end > self._sent_until]
        for event in events:
            inside = (times >= event.start) & (times < event.end)
            if not inside.any():
                continue
            if event.kind == "mep":
                offsets = np.round((times[inside] - event.start) * RATE_HZ).astype(int)
                offsets = np.clip(offsets, 0, self._shape.size - 1)
                values[inside] += event.amplitude_uv * self._shape[offsets]
            else:
                burst = np.random.default_rng(event.seed + int(times[0] * RATE_HZ))
                values[inside] += burst.normal(0.0, event.amplitude_uv, int(inside.sum()))
        return values


def serve_emg(
    subject_rmt: float,
    seed: int | None,
    stop: threading.Event,
    announce: Any = None,
    **options: Any,
) -> EmgStats:
    """Run a `SyntheticEmg` until `stop` is set; `announce(line)` once it is on the air."""
    emg = SyntheticEmg(subject_rmt, seed, **options)
    with emg:
        if announce is not None:
            announce(
                f"EMG {emg.name} {RATE_HZ:g} Hz, subject RMT {subject_rmt:g} % MSO, "
                f"listening for pulses on {emg.markers}"
            )
        stop.wait()
    return emg.stats
