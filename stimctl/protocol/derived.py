"""Figures derived from a protocol: pulses, durations, protocol class, ramp intensities.

Pure functions; the numbers users never type in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from stimctl.protocol.models import (
    ContinuousPattern,
    Protocol,
    ThetaBurstPattern,
    TrainPattern,
    whole_number,
)

ProtocolClass = Literal["hf-rtms", "lf-rtms", "itbs", "ctbs", "imtbs", "tbs-custom"]

LOW_FREQUENCY_MAX_HZ = 1.0
"""Conventional rTMS at or below 1 Hz is "low frequency" (safety-limits 9.2, ITI-5)."""


@dataclass(frozen=True)
class Derived:
    protocol_class: ProtocolClass
    pulses_per_train: int
    trains: int
    total_pulses: int
    train_duration_s: float
    inter_train_interval_s: float | None
    session_duration_s: float
    pulse_frequency_hz: float
    """Frequency of the pulses inside a train (inside a burst for theta burst)."""
    train_mean_rate_hz: float
    """Pulses per second averaged over a train (what heats the coil and the capacitors).
    Named for what it is: a 10 Hz train protocol averages 1.7 Hz over its session."""

    @property
    def session_mean_rate_hz(self) -> float:
        """Pulses per second averaged over the whole session, pauses included."""
        return self.total_pulses / self.session_duration_s

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "session_mean_rate_hz": self.session_mean_rate_hz}


def classify(protocol: Protocol) -> ProtocolClass:
    pattern = protocol.pattern
    if isinstance(pattern, ThetaBurstPattern):
        if pattern.trains == 1 or pattern.inter_train_interval_s is None:
            return "ctbs"
        on_off = (pattern.train_duration_s, pattern.inter_train_interval_s)
        if on_off == (2.0, 8.0):
            return "itbs"
        if on_off == (5.0, 10.0):
            return "imtbs"
        return "tbs-custom"
    if pattern.frequency_hz <= LOW_FREQUENCY_MAX_HZ:
        return "lf-rtms"
    return "hf-rtms"


def derive(protocol: Protocol) -> Derived:
    pattern = protocol.pattern
    if isinstance(pattern, TrainPattern):
        return _derive_train(protocol, pattern)
    if isinstance(pattern, ContinuousPattern):
        duration = pattern.pulses / pattern.frequency_hz
        return Derived(
            protocol_class=classify(protocol),
            pulses_per_train=pattern.pulses,
            trains=1,
            total_pulses=pattern.pulses,
            train_duration_s=duration,
            inter_train_interval_s=None,
            session_duration_s=duration,
            pulse_frequency_hz=pattern.frequency_hz,
            train_mean_rate_hz=pattern.frequency_hz,
        )
    return _derive_theta_burst(protocol, pattern)


def _derive_train(protocol: Protocol, pattern: TrainPattern) -> Derived:
    if pattern.pulses_per_train is not None:
        per_train = pattern.pulses_per_train
    else:
        assert pattern.train_duration_s is not None  # the model guarantees one of the two
        per_train = whole_number(pattern.train_duration_s * pattern.frequency_hz, "pulses")
    duration = per_train / pattern.frequency_hz
    return Derived(
        protocol_class=classify(protocol),
        pulses_per_train=per_train,
        trains=pattern.trains,
        total_pulses=per_train * pattern.trains,
        train_duration_s=duration,
        inter_train_interval_s=pattern.inter_train_interval_s,
        session_duration_s=_session_duration(duration, pattern.inter_train_interval_s, pattern),
        pulse_frequency_hz=pattern.frequency_hz,
        train_mean_rate_hz=pattern.frequency_hz,
    )


def _derive_theta_burst(protocol: Protocol, pattern: ThetaBurstPattern) -> Derived:
    bursts = whole_number(pattern.train_duration_s * pattern.burst_rate_hz, "bursts")
    per_train = bursts * pattern.pulses_per_burst
    return Derived(
        protocol_class=classify(protocol),
        pulses_per_train=per_train,
        trains=pattern.trains,
        total_pulses=per_train * pattern.trains,
        train_duration_s=pattern.train_duration_s,
        inter_train_interval_s=pattern.inter_train_interval_s,
        session_duration_s=_session_duration(
            pattern.train_duration_s, pattern.inter_train_interval_s, pattern
        ),
        pulse_frequency_hz=pattern.burst_frequency_hz,
        train_mean_rate_hz=pattern.burst_rate_hz * pattern.pulses_per_burst,
    )


def _session_duration(
    train_s: float, iti_s: float | None, pattern: TrainPattern | ThetaBurstPattern
) -> float:
    pauses = (pattern.trains - 1) * (iti_s or 0.0)
    return pattern.trains * train_s + pauses


def train_intensity_percent_rmt(protocol: Protocol, train_index: int, session_index: int) -> float:
    """Intensity of one train in % RMT, following the optional ramp (0-based indices).

    The ramp rises linearly from `ramp_start_percent_rmt` and reaches the target at train
    (or session) number `ramp_trains` (`ramp_sessions`); it never exceeds the target.
    """
    intensity = protocol.intensity
    if intensity.percent_rmt is None:
        raise ValueError("protocol intensity is in % MSO, not % RMT")
    start = intensity.ramp_start_percent_rmt
    if start is None:
        return intensity.percent_rmt
    steps = intensity.ramp_trains if intensity.ramp_trains is not None else intensity.ramp_sessions
    index = train_index if intensity.ramp_trains is not None else session_index
    assert steps is not None
    if index >= steps:
        return intensity.percent_rmt
    return start + (intensity.percent_rmt - start) * index / steps


THETA_BURST_CLASSES = frozenset({"itbs", "ctbs", "imtbs", "tbs-custom"})
INTERMITTENT_TBS_CLASSES = frozenset({"itbs", "imtbs", "tbs-custom"})


def is_theta_burst(protocol_class: str) -> bool:
    return protocol_class in THETA_BURST_CLASSES
