"""`LslEmgSource`: MEPs measured from a live EMG stream over LSL (`--mep lsl:NAME`).

The hunt's journal tells the source when each pulse left (`PulseClock`, a journal
listener, on LSL's clock). After a pulse, `response` pulls the stream until it holds the
whole trial (background window before the pulse to the end of the MEP window), with the
stream's timestamps moved onto this host's clock by the inlet's `time_correction`, then
measures it (`mep_window.measure`). A trial with background EMG raises `TrialRejected`
with the reason; the runner tries the intensity again.

Fail closed: a stream that cannot be found, sends nothing for `timeout_s` after a pulse,
drops samples in the trial, or disappears raises `EmgStreamError` (exit 12) naming the
stream, and the hunt stops with the device disarmed. A stream without a declared unit
needs `unit=` (a µV/mV/V mix-up would move the threshold by orders of magnitude).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from stimctl.clock import Clock
from stimctl.errors import ConfigError, EmgStreamError, StateError
from stimctl.lab.lsl import PulseClock, local_clock, require_pylsl, resolve
from stimctl.lab.mep_window import MepTrace, MepWindows, WindowGap, measure
from stimctl.mep import MepReading, TrialRejected

SILENCE_TIMEOUT_S = 1.0
KEEP_S = 5.0  # seconds of EMG kept in memory: several trials' worth
POLL_S = 0.002

UNITS = {
    "uv": 1.0,
    "µv": 1.0,
    "microvolts": 1.0,
    "microvolt": 1.0,
    "mv": 1e3,
    "millivolts": 1e3,
    "millivolt": 1e3,
    "v": 1e6,
    "volts": 1e6,
    "volt": 1e6,
}

OPTION_KEYS = (
    "mep_ms",
    "background_ms",
    "background_rms_uv",
    "background_peak_uv",
    "timeout_s",
    "channel",
    "unit",
)


class LslEmgSource:
    """An `MepSource` over one channel of an LSL EMG stream. Call `bind(clock)` and pass
    the returned listener to the hunt's journal, then `open()` before the first pulse."""

    def __init__(
        self,
        target: str,
        *,
        windows: MepWindows | None = None,
        timeout_s: float = SILENCE_TIMEOUT_S,
        channel: int | str = 0,
        unit: str | None = None,
        resolve_timeout_s: float = 2.0,
    ) -> None:
        if not target:
            raise ConfigError("lsl: needs a stream name or type, e.g. lsl:stimctl-emg")
        if not 0 < timeout_s <= 60:
            raise ConfigError(f"lsl:{target}: timeout_s must be in (0, 60], got {timeout_s!r}")
        self.target = target
        self.windows = windows or MepWindows()
        self.timeout_s = timeout_s
        self.channel = channel
        self.unit = unit
        self.resolve_timeout_s = resolve_timeout_s
        self.on_trace: Callable[[MepTrace], None] | None = None
        self.pulses: PulseClock | None = None
        self._inlet: Any = None
        self._index = 0
        self._scale = 1.0
        self.rate_hz = 0.0
        self._times = np.empty(0)
        self._values = np.empty(0)
        self._last_seq: int | None = None
        self._correction = 0.0

    def bind(self, clock: Clock) -> PulseClock:
        """The journal listener that tells this source when each pulse left."""
        self.pulses = PulseClock(clock)
        return self.pulses

    # -- the stream ------------------------------------------------------------------

    def open(self) -> None:
        pylsl = require_pylsl()
        info = resolve(self.target, timeout_s=self.resolve_timeout_s)
        self.rate_hz = float(info.nominal_srate())
        if self.rate_hz <= 0:
            raise ConfigError(f"LSL stream {self.target!r} has no regular sampling rate")
        if info.channel_format() == pylsl.cf_string:
            raise ConfigError(f"LSL stream {self.target!r} carries strings, not EMG samples")
        try:
            inlet = pylsl.StreamInlet(info, max_buflen=int(KEEP_S) + 1, recover=False)
            inlet.open_stream(timeout=self.resolve_timeout_s)
            full = inlet.info(timeout=self.resolve_timeout_s)
            self._correction = float(inlet.time_correction(timeout=self.resolve_timeout_s))
        except Exception as exc:  # pylsl raises TimeoutError/LostError/RuntimeError
            raise EmgStreamError(f"LSL stream {self.target!r} could not be opened: {exc}") from None
        self._index, unit = _channel(full, self.channel, self.target)
        self._scale = _scale(self.unit or unit, self.target)
        self._inlet = inlet
        self._await_history()

    def _await_history(self) -> None:
        """Before the first pulse: the stream must be sending, and hold enough history
        for a first trial's background window (a silent stream fails here, unfired)."""
        span = -self.windows.trace_start_s
        deadline = time.monotonic() + self.timeout_s + span
        while not (self._times.size and self._times[-1] - self._times[0] >= span):
            self._pull()
            if time.monotonic() > deadline:
                raise EmgStreamError(
                    f"LSL stream {self.target!r} is silent: {self._times.size} samples in "
                    f"the {self.timeout_s + span:.2f} s after it was opened"
                )
            time.sleep(POLL_S)

    def close(self) -> None:
        inlet, self._inlet = self._inlet, None
        if inlet is not None:
            inlet.close_stream()

    def _pull(self) -> None:
        pylsl = require_pylsl()
        try:
            samples, stamps = self._inlet.pull_chunk(timeout=0.0)
        except Exception as exc:  # LostError: the outlet is gone (recover=False)
            raise EmgStreamError(
                f"LSL stream {self.target!r} broke during the hunt: {type(exc).__name__}: {exc}"
            ) from None
        # The latest clock-offset estimate, never waited for (liblsl refreshes it in the
        # background every few seconds); a probe that has no new value keeps the last.
        with contextlib.suppress(pylsl.util.TimeoutError):
            self._correction = float(self._inlet.time_correction(timeout=0.0))
        correction = self._correction
        if not stamps:
            return
        values = np.asarray(samples, dtype=np.float64)[:, self._index] * self._scale
        times = np.asarray(stamps, dtype=np.float64) + correction
        self._times = np.concatenate((self._times, times))
        self._values = np.concatenate((self._values, values))
        keep = self._times >= self._times[-1] - KEEP_S
        self._times, self._values = self._times[keep], self._values[keep]

    # -- MepSource ---------------------------------------------------------------------

    def response(self, intensity_percent_mso: int) -> MepReading:
        if self._inlet is None:
            self.open()
        latest = None if self.pulses is None else self.pulses.latest()
        if latest is None or latest[0] == self._last_seq:
            raise StateError(
                "no journaled pulse to measure: an LSL EMG source needs a stimulator that "
                "fires through stimctl (--device)"
            )
        seq, pulse_time = latest
        self._last_seq = seq
        needed = pulse_time + self.windows.trace_end_s
        deadline = time.monotonic() + self.timeout_s
        while True:
            self._pull()
            if self._times.size and self._times[-1] >= needed:
                break
            if time.monotonic() > deadline:
                lag = local_clock() - pulse_time
                got = (
                    "no samples" if not self._times.size else "no samples reaching the trial's end"
                )
                raise EmgStreamError(
                    f"LSL stream {self.target!r} is silent: {got} {lag:.1f} s after the pulse "
                    f"at {intensity_percent_mso} % MSO (timeout {self.timeout_s:g} s)"
                )
            time.sleep(POLL_S)
        try:
            trace = measure(
                self._times - pulse_time,
                self._values,
                intensity=intensity_percent_mso,
                rate_hz=self.rate_hz,
                windows=self.windows,
                seq=seq,
            )
        except WindowGap as exc:
            raise EmgStreamError(
                f"LSL stream {self.target!r} lost samples around the pulse: {exc}"
            ) from None
        if self.on_trace is not None:
            self.on_trace(trace)
        self._settle(pulse_time)
        if trace.rejected is not None:
            raise TrialRejected(trace.rejected, trace)
        return MepReading(amplitude_uv=trace.amplitude_uv)

    def _settle(self, pulse_time: float) -> None:
        """Return no sooner than this pulse's MEP window ends plus the background
        window's length: a next pulse fired at once (a simulated hunt at full speed) must
        not see this MEP as its own background EMG. A real hunt waits seconds anyway."""
        quiet_from = pulse_time + self.windows.mep_end_s - self.windows.background_start_s
        wait = quiet_from - local_clock()
        if wait > 0:
            time.sleep(wait)


def _channel(info: Any, channel: int | str, target: str) -> tuple[int, str]:
    """(index, declared unit) of the channel named or numbered `channel`."""
    count = int(info.channel_count())
    labels: list[str] = []
    units: list[str] = []
    node = info.desc().child("channels").child("channel")
    for _ in range(count):
        labels.append(node.child_value("label"))
        units.append(node.child_value("unit"))
        node = node.next_sibling()
    if isinstance(channel, int):
        index = channel
    elif channel in labels:
        index = labels.index(channel)
    else:
        raise ConfigError(f"LSL stream {target!r} has no channel labelled {channel!r}")
    if not 0 <= index < count:
        raise ConfigError(f"LSL stream {target!r} has {count} channels; channel {index} is not one")
    return index, units[index] if index < len(units) else ""


def _scale(unit: str, target: str) -> float:
    if not unit:
        raise ConfigError(
            f"LSL stream {target!r} does not declare its unit: add unit=uV (or mV, V) to --mep"
        )
    try:
        return UNITS[unit.strip().lower()]
    except KeyError:
        raise ConfigError(f"LSL stream {target!r}: unknown unit {unit!r} (uV, mV or V)") from None


def _range_ms(key: str, text: str) -> tuple[float, float]:
    try:
        low, high = (float(part) / 1e3 for part in text.replace("..", ":").split(":"))
    except ValueError:
        raise ConfigError(f"--mep option {key}={text!r}: expected START:END in ms") from None
    return low, high


def _number(key: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"--mep option {key}={text!r}: not a number") from None


def make_lsl_source(target: str, options: Mapping[str, str]) -> LslEmgSource:
    """Entry point `stimctl.mep_sources: lsl`: `lsl:TARGET` with `--mep-option KEY=VALUE`.

    Options: mep_ms (15:50), background_ms (-50:-5), background_rms_uv (50),
    background_peak_uv (200), timeout_s (1), channel (index or label, 0), unit (the
    stream's own declaration, else required).
    """
    unknown = sorted(set(options) - set(OPTION_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown --mep-option {', '.join(unknown)} for lsl: (known: {', '.join(OPTION_KEYS)})"
        )
    defaults = MepWindows()
    mep = _range_ms("mep_ms", options["mep_ms"]) if "mep_ms" in options else None
    background = (
        _range_ms("background_ms", options["background_ms"]) if "background_ms" in options else None
    )
    windows = MepWindows(
        mep_start_s=mep[0] if mep else defaults.mep_start_s,
        mep_end_s=mep[1] if mep else defaults.mep_end_s,
        background_start_s=background[0] if background else defaults.background_start_s,
        background_end_s=background[1] if background else defaults.background_end_s,
        background_rms_uv=_number("background_rms_uv", options.get("background_rms_uv", "50")),
        background_peak_uv=_number("background_peak_uv", options.get("background_peak_uv", "200")),
    )
    channel_text = options.get("channel", "0")
    channel: int | str = int(channel_text) if channel_text.isdigit() else channel_text
    return LslEmgSource(
        target,
        windows=windows,
        timeout_s=_number("timeout_s", options.get("timeout_s", str(SILENCE_TIMEOUT_S))),
        channel=channel,
        unit=options.get("unit"),
    )
