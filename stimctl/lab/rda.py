"""`RdaEmgSource`: MEPs from BrainVision Recorder's Remote Data Access (RDA) over TCP
(`--mep rda:HOST[:PORT]`, port 51244: 32-bit float data; ecosystem.md 10.2).

RDA messages start with a 16-byte GUID, the message size and type (little-endian):
type 1 starts a recording (channel count, sampling interval in µs, per-channel resolution
in µV, channel names), type 4 carries a block of float32 samples (interleaved by point,
times the channel's resolution = µV) and its markers (position in the block, type and
description), type 3 stops it.

RDA carries no timestamps, so pulses are not placed by the journal's clock: each pulse
is the next **marker** the amplifier recorded from the stimulator's trigger (its own
input, the reference the LSL maintainers recommend; lab-triggers.md), of the type given
by `marker=` (default any). A journaled pulse with no marker within `timeout_s`, a
recording that stops, a closed connection or silence is `EmgStreamError` (exit 12).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping

import numpy as np

from stimctl.clock import Clock
from stimctl.errors import ConfigError, EmgStreamError, StateError
from stimctl.lab.lsl import PulseClock
from stimctl.lab.mep_window import MepTrace, MepWindows, WindowGap, measure
from stimctl.mep import MepReading, TrialRejected

GUID = bytes.fromhex("8E45584396C9864CAF4A98BBF6C91450")
DEFAULT_PORT = 51244
START, STOP, DATA32 = 1, 3, 4
KEEP_S = 5.0
POLL_S = 0.002


class RdaEmgSource:
    """An `MepSource` over one channel of an RDA stream; `bind(clock)`, then `open()`."""

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        windows: MepWindows | None = None,
        timeout_s: float = 1.0,
        channel: int | str = 0,
        marker: str | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.where = f"RDA {host}:{port}"
        self.windows = windows or MepWindows()
        self.timeout_s = timeout_s
        self.channel = channel
        self.marker = marker
        self.on_trace: Callable[[MepTrace], None] | None = None
        self.pulses: PulseClock | None = None
        self.rate_hz = 0.0
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._values = np.empty(0)
        self._first = 0  # absolute sample index of _values[0]
        self._markers: list[int] = []  # absolute sample positions, in order
        self._used = -1  # last marker position used
        self._error: str | None = None
        self._last_data = 0.0
        self._channels = 0
        self._index = 0
        self._resolution = 1.0
        self._last_seq: int | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    def bind(self, clock: Clock) -> PulseClock:
        self.pulses = PulseClock(clock)
        return self.pulses

    def open(self) -> None:
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=2.0)
        except OSError as exc:
            raise EmgStreamError(f"{self.where}: cannot connect: {exc}") from None
        self._sock.settimeout(0.5)
        self._thread = threading.Thread(target=self._read, name="rda-reader", daemon=True)
        self._thread.start()
        if not self._started.wait(2.0 + self.timeout_s):
            self.close()
            raise EmgStreamError(f"{self.where}: no recording started (no RDA start message)")
        if self._error is not None:
            raise EmgStreamError(f"{self.where}: {self._error}")

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    # -- the reader thread -----------------------------------------------------------

    def _recv(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            sock = self._sock
            if sock is None:
                raise ConnectionError("closed")
            try:
                chunk = sock.recv(size - len(data))
            except TimeoutError:
                continue
            if not chunk:
                raise ConnectionError("the amplifier closed the connection")
            data += chunk
        return data

    def _read(self) -> None:
        try:
            while self._sock is not None:
                head = self._recv(24)
                if head[:16] != GUID:
                    raise ValueError("not an RDA stream (bad GUID)")
                size, kind = struct.unpack_from("<II", head, 16)
                if size < 24:
                    raise ValueError(f"bad RDA message size {size}")
                body = self._recv(size - 24)
                if kind == START:
                    self._on_start(body)
                elif kind == DATA32:
                    self._on_data(body)
                elif kind == STOP:
                    raise ConnectionError("the recording stopped")
        except (OSError, ValueError, ConnectionError, struct.error) as exc:
            with self._lock:
                if self._sock is not None or self._error is None:
                    self._error = f"{exc}"
            self._started.set()

    def _on_start(self, body: bytes) -> None:
        channels, interval_us = struct.unpack_from("<Id", body, 0)
        resolutions = struct.unpack_from(f"<{channels}d", body, 12)
        names = body[12 + 8 * channels :].split(b"\0")[:channels]
        labels = [n.decode("utf-8", "replace") for n in names]
        if isinstance(self.channel, int):
            index = self.channel
        elif self.channel in labels:
            index = labels.index(self.channel)
        else:
            raise ValueError(f"no channel labelled {self.channel!r} (has {', '.join(labels)})")
        if not 0 <= index < channels:
            raise ValueError(f"{channels} channels; channel {index} is not one")
        with self._lock:
            self._channels = channels
            self._index = index
            self._resolution = resolutions[index]
            self.rate_hz = 1e6 / interval_us
            self._values, self._first, self._markers = np.empty(0), 0, []
        self._started.set()

    def _on_data(self, body: bytes) -> None:
        _, points, count = struct.unpack_from("<III", body, 0)
        channels = self._channels
        data = np.frombuffer(body, dtype="<f4", count=points * channels, offset=12)
        values = data.reshape(points, channels)[:, self._index].astype(np.float64)
        offset = 12 + 4 * points * channels
        positions = []
        for _ in range(count):
            size, position = struct.unpack_from("<II", body, offset)
            text = body[offset + 16 : offset + size].split(b"\0")
            kind = text[0].decode("utf-8", "replace") if text else ""
            if self.marker is None or kind == self.marker:
                positions.append(position)
            offset += size
        with self._lock:
            start = self._first + self._values.size
            self._values = np.concatenate((self._values, values * self._resolution))
            self._markers.extend(start + p for p in positions)
            drop = max(0, self._values.size - int(KEEP_S * self.rate_hz))
            self._values, self._first = self._values[drop:], self._first + drop
            self._last_data = time.monotonic()

    # -- MepSource ---------------------------------------------------------------------

    def response(self, intensity_percent_mso: int) -> MepReading:
        if self._sock is None:
            self.open()
        latest = None if self.pulses is None else self.pulses.latest()
        if latest is None or latest[0] == self._last_seq:
            raise StateError("no journaled pulse to measure: RDA needs --device")
        seq = latest[0]
        self._last_seq = seq
        deadline = time.monotonic() + self.timeout_s
        while True:
            with self._lock:
                error = self._error
                marker = next((m for m in self._markers if m > self._used), None)
                end = self._first + self._values.size
                need = None
                if marker is not None:
                    need = marker + int(self.windows.trace_end_s * self.rate_hz) + 1
            if error is not None:
                raise EmgStreamError(f"{self.where} broke during the hunt: {error}")
            if need is not None and end >= need:
                break
            if time.monotonic() > deadline:
                what = "no trigger marker" if marker is None else "no samples after the marker"
                raise EmgStreamError(
                    f"{self.where}: {what} within {self.timeout_s:g} s of the pulse at "
                    f"{intensity_percent_mso} % MSO (is the trigger cabled to the amplifier?)"
                )
            time.sleep(POLL_S)
        assert marker is not None
        self._used = marker
        with self._lock:
            idx = np.arange(self._first, self._first + self._values.size)
            values = self._values.copy()
        try:
            trace = measure(
                (idx - marker) / self.rate_hz,
                values,
                intensity=intensity_percent_mso,
                rate_hz=self.rate_hz,
                windows=self.windows,
                seq=seq,
            )
        except WindowGap as exc:
            raise EmgStreamError(f"{self.where}: samples missing around the pulse: {exc}") from None
        if self.on_trace is not None:
            self.on_trace(trace)
        if trace.rejected is not None:
            raise TrialRejected(trace.rejected, trace)
        return MepReading(amplitude_uv=trace.amplitude_uv)


def make_rda_source(target: str, options: Mapping[str, str]) -> RdaEmgSource:
    """Entry point `stimctl.mep_sources: rda`: `rda:HOST[:PORT]`; the LSL source's
    window options, plus `marker=TYPE` (the RDA marker type of the trigger)."""
    from stimctl.lab.emg_source import make_lsl_source

    host, _, port_text = target.partition(":")
    if not host:
        raise ConfigError("rda: needs a host, e.g. rda:192.168.1.20 or rda:localhost:51244")
    try:
        port = int(port_text) if port_text else DEFAULT_PORT
    except ValueError:
        raise ConfigError(f"rda:{target}: port {port_text!r} is not a number") from None
    rest = {k: v for k, v in options.items() if k not in ("marker", "unit")}
    if "unit" in options:
        raise ConfigError("rda: the amplifier sends µV (its resolutions); unit= does not apply")
    shared = make_lsl_source(host, rest)  # the same window and limit options, parsed once
    return RdaEmgSource(
        host,
        port,
        windows=shared.windows,
        timeout_s=shared.timeout_s,
        channel=shared.channel,
        marker=options.get("marker"),
    )
