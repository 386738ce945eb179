"""Protocol files: the user-facing contract (TOML, validated by these models).

Models are frozen, reject unknown keys and take numbers strictly (a string where a number
belongs is an error, never coerced). Field names carry their unit. Derived figures (total
pulses, pulses per train, session duration) are computed in `derived.py`, never typed in.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from stimctl import plausible as P

SCHEMA_VERSION = 1
"""The newest protocol schema this code understands; newer files are refused."""

Site = Literal[
    "M1-hand",
    "M1-leg",
    "M1-face",
    "L-DLPFC",
    "R-DLPFC",
    "bilateral-DLPFC",
    "DMPFC",
    "mPFC-ACC",
    "vertex",
    "other",
]
Hemisphere = Literal["left", "right", "midline", "bilateral", "contralateral-to-pain"]
CoilFamily = Literal["figure-8", "circular", "h-coil"]
Indication = Literal[
    "neuropathic-pain",
    "depression",
    "ocd",
    "smoking-cessation",
    "stroke-rehabilitation",
    "research",
    "other",
]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]*$", max_length=80)]
Text = Annotated[str, Field(min_length=1, max_length=500)]
# Every number has a plausible physical range (stimctl.plausible, docs/protocol-limits.md):
# 1e-300 s trains or 1e23 trains are refused here, before any rule or device sees them.
FrequencyHz = Annotated[float, Field(ge=P.MIN_FREQUENCY_HZ, le=P.MAX_FREQUENCY_HZ)]
TrainSeconds = Annotated[float, Field(ge=P.MIN_TRAIN_DURATION_S, le=P.MAX_DURATION_S)]
IntervalSeconds = Annotated[float, Field(ge=P.MIN_INTERVAL_S, le=P.MAX_DURATION_S)]
PercentRmt = Annotated[float, Field(ge=P.MIN_PERCENT_RMT, le=P.MAX_PERCENT_RMT)]
Pulses = Annotated[int, Field(ge=1, le=P.MAX_PULSES_PER_SESSION)]

_WHOLE_TOLERANCE = 1e-6


class StrictModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


def whole_number(value: float, what: str) -> int:
    """`value` as an int when it is a whole number; a ValueError naming `what` if not."""
    rounded = round(value)
    if not math.isclose(value, rounded, abs_tol=_WHOLE_TOLERANCE):
        raise ValueError(f"{what} must be a whole number, got {value:g}")
    return int(rounded)


def check_session_size(
    pulses_per_train: int, trains: int, train_s: float, iti_s: float | None
) -> None:
    """Refuse a layout with no pulse in a train, or a session past the plausible ceilings.

    Field ranges alone do not bound products: 10 000 trains of 10 000 pulses each are
    every one in range. The totals are what a session would deliver and last.
    """
    if pulses_per_train < 1:
        raise ValueError("a train must hold at least one pulse (pulses per train is 0)")
    total = pulses_per_train * trains
    if total > P.MAX_PULSES_PER_SESSION:
        raise ValueError(
            f"{total} pulses per session is above the plausible ceiling of "
            f"{P.MAX_PULSES_PER_SESSION} (docs/protocol-limits.md)"
        )
    duration = trains * train_s + (trains - 1) * (iti_s or 0.0)
    if duration > P.MAX_SESSION_DURATION_S:
        raise ValueError(
            f"the session would last {duration / 60:.0f} min, above the plausible ceiling of "
            f"{P.MAX_SESSION_DURATION_S / 60:.0f} min (docs/protocol-limits.md)"
        )


class Target(StrictModel):
    site: Site
    hemisphere: Hemisphere


class Coil(StrictModel):
    family: CoilFamily
    model: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    """Coil model when the limits depend on it, e.g. "H1" or "H7" for H-coils."""


ThresholdMuscle = Literal["FDI", "APB", "ADM", "hand", "TA", "AH", "leg"]
"""The muscle (or just the limb) whose motor threshold the intensity refers to."""


class Intensity(StrictModel):
    percent_rmt: PercentRmt | None = None
    percent_amt: PercentRmt | None = None
    """% of the active motor threshold (Huang 2005 TBS convention, safety-limits 13.2)."""
    percent_mso: Annotated[float, Field(ge=1, le=P.MAX_PERCENT_MSO)] | None = None
    """Absolute output, allowed only in research mode (the safety engine enforces it)."""
    muscle: ThresholdMuscle = "hand"
    """Whose threshold: a hand muscle by default; an H7 protocol's is a leg threshold."""
    depth_adjusted: bool = False
    """The % refers to the threshold adjusted for the target's scalp-to-cortex distance
    (SAINT; Stokes et al. 2005): the subject needs the distances or an adjusted threshold."""
    ramp_start_percent_rmt: PercentRmt | None = None
    ramp_trains: Pulses | None = None
    ramp_sessions: Annotated[int, Field(ge=1, le=P.MAX_COURSE_SESSIONS)] | None = None

    @model_validator(mode="after")
    def _one_reference(self) -> Intensity:
        given = [self.percent_rmt, self.percent_amt, self.percent_mso]
        if sum(v is not None for v in given) != 1:
            raise ValueError("give exactly one of percent_rmt, percent_amt and percent_mso")
        has_ramp_length = self.ramp_trains is not None or self.ramp_sessions is not None
        if self.ramp_start_percent_rmt is None:
            if has_ramp_length:
                raise ValueError("ramp_trains/ramp_sessions need ramp_start_percent_rmt")
            return self
        if self.percent_rmt is None:
            raise ValueError("an intensity ramp needs percent_rmt")
        if self.ramp_start_percent_rmt >= self.percent_rmt:
            raise ValueError("ramp_start_percent_rmt must be below percent_rmt")
        if (self.ramp_trains is None) == (self.ramp_sessions is None):
            raise ValueError("a ramp needs exactly one of ramp_trains and ramp_sessions")
        return self


class TrainPattern(StrictModel):
    """Fixed-frequency trains separated by pauses (`inter_train_interval_s`, end to onset)."""

    kind: Literal["train"]
    frequency_hz: FrequencyHz
    pulses_per_train: Pulses | None = None
    train_duration_s: TrainSeconds | None = None
    inter_train_interval_s: IntervalSeconds | None = None
    trains: Pulses

    @model_validator(mode="after")
    def _consistent(self) -> TrainPattern:
        if (self.pulses_per_train is None) == (self.train_duration_s is None):
            raise ValueError("give exactly one of pulses_per_train and train_duration_s")
        per_train = self.pulses_per_train
        if self.train_duration_s is not None:
            per_train = whole_number(
                self.train_duration_s * self.frequency_hz,
                "train_duration_s x frequency_hz (pulses per train)",
            )
        if self.trains > 1 and self.inter_train_interval_s is None:
            raise ValueError("inter_train_interval_s is required when trains > 1")
        assert per_train is not None
        check_session_size(
            per_train,
            self.trains,
            per_train / self.frequency_hz,
            self.inter_train_interval_s,
        )
        return self


class ContinuousPattern(StrictModel):
    """One uninterrupted train, typically low-frequency (1 Hz)."""

    kind: Literal["continuous"]
    frequency_hz: FrequencyHz
    pulses: Pulses

    @model_validator(mode="after")
    def _size(self) -> ContinuousPattern:
        check_session_size(self.pulses, 1, self.pulses / self.frequency_hz, None)
        return self


class ThetaBurstPattern(StrictModel):
    """Bursts of `pulses_per_burst` at `burst_frequency_hz`, repeated at `burst_rate_hz`.

    cTBS: one train and no interval. iTBS: 2 s trains every 10 s (8 s pauses). imTBS:
    5 s trains every 15 s.
    """

    kind: Literal["theta-burst"]
    pulses_per_burst: Annotated[int, Field(ge=1, le=10)]
    burst_frequency_hz: Annotated[float, Field(ge=1, le=P.MAX_FREQUENCY_HZ)]
    burst_rate_hz: Annotated[float, Field(ge=P.MIN_FREQUENCY_HZ, le=20)]
    train_duration_s: TrainSeconds
    inter_train_interval_s: IntervalSeconds | None = None
    trains: Pulses

    @model_validator(mode="after")
    def _consistent(self) -> ThetaBurstPattern:
        burst_span_s = (self.pulses_per_burst - 1) / self.burst_frequency_hz
        if burst_span_s >= 1.0 / self.burst_rate_hz:
            raise ValueError("a burst lasts longer than the burst period (1 / burst_rate_hz)")
        bursts = whole_number(
            self.train_duration_s * self.burst_rate_hz,
            "train_duration_s x burst_rate_hz (bursts per train)",
        )
        if self.trains > 1 and self.inter_train_interval_s is None:
            raise ValueError("inter_train_interval_s is required when trains > 1")
        check_session_size(
            bursts * self.pulses_per_burst,
            self.trains,
            self.train_duration_s,
            self.inter_train_interval_s,
        )
        return self


Pattern = Annotated[
    TrainPattern | ContinuousPattern | ThetaBurstPattern, Field(discriminator="kind")
]
PATTERN_KINDS = ("train", "continuous", "theta-burst")


class Schedule(StrictModel):
    """How sessions of this protocol are spaced; drives the daily and course rules."""

    mode: Literal["standard", "accelerated"] = "standard"
    sessions_per_day: Annotated[int, Field(ge=1, le=P.MAX_SESSIONS_PER_DAY)] = 1
    min_gap_minutes: Annotated[float, Field(ge=0, le=24 * 60)] | None = None
    course_sessions: Annotated[int, Field(ge=1, le=P.MAX_COURSE_SESSIONS)] | None = None


class Protocol(StrictModel):
    schema_version: Annotated[int, Field(ge=1, le=1_000)]
    name: Slug
    title: Text
    indication: Indication
    source: Text
    notes: Annotated[str, Field(max_length=2000)] | None = None
    target: Target
    coil: Coil
    intensity: Intensity
    pattern: Pattern
    schedule: Schedule = Schedule()

    @field_validator("schema_version")
    @classmethod
    def _schema_not_newer(cls, version: int) -> int:
        if version > SCHEMA_VERSION:
            raise ValueError(
                f"schema_version {version} is newer than this stimctl understands "
                f"({SCHEMA_VERSION}); upgrade stimctl"
            )
        return version
