"""Protocol files: the user-facing contract (TOML, validated by these models).

Models are frozen, reject unknown keys and take numbers strictly (a string where a number
belongs is an error, never coerced). Field names carry their unit. Derived figures (total
pulses, pulses per train, session duration) are computed in `derived.py`, never typed in.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
PositiveFloat = Annotated[float, Field(gt=0)]
PositiveInt = Annotated[int, Field(gt=0)]

_WHOLE_TOLERANCE = 1e-6


class StrictModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def whole_number(value: float, what: str) -> int:
    """`value` as an int when it is a whole number; a ValueError naming `what` if not."""
    rounded = round(value)
    if not math.isclose(value, rounded, abs_tol=_WHOLE_TOLERANCE):
        raise ValueError(f"{what} must be a whole number, got {value:g}")
    return int(rounded)


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
    percent_rmt: Annotated[float, Field(gt=0, le=300)] | None = None
    percent_amt: Annotated[float, Field(gt=0, le=300)] | None = None
    """% of the active motor threshold (Huang 2005 TBS convention, safety-limits 13.2)."""
    percent_mso: Annotated[float, Field(gt=0, le=200)] | None = None
    """Absolute output, allowed only in research mode (the safety engine enforces it)."""
    muscle: ThresholdMuscle = "hand"
    """Whose threshold: a hand muscle by default; an H7 protocol's is a leg threshold."""
    depth_adjusted: bool = False
    """The % refers to the threshold adjusted for the target's scalp-to-cortex distance
    (SAINT; Stokes et al. 2005): the subject needs the distances or an adjusted threshold."""
    ramp_start_percent_rmt: Annotated[float, Field(gt=0, le=300)] | None = None
    ramp_trains: PositiveInt | None = None
    ramp_sessions: PositiveInt | None = None

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
    frequency_hz: Annotated[float, Field(gt=0, le=250)]
    pulses_per_train: PositiveInt | None = None
    train_duration_s: PositiveFloat | None = None
    inter_train_interval_s: PositiveFloat | None = None
    trains: PositiveInt

    @model_validator(mode="after")
    def _consistent(self) -> TrainPattern:
        if (self.pulses_per_train is None) == (self.train_duration_s is None):
            raise ValueError("give exactly one of pulses_per_train and train_duration_s")
        if self.train_duration_s is not None:
            whole_number(
                self.train_duration_s * self.frequency_hz,
                "train_duration_s x frequency_hz (pulses per train)",
            )
        if self.trains > 1 and self.inter_train_interval_s is None:
            raise ValueError("inter_train_interval_s is required when trains > 1")
        return self


class ContinuousPattern(StrictModel):
    """One uninterrupted train, typically low-frequency (1 Hz)."""

    kind: Literal["continuous"]
    frequency_hz: Annotated[float, Field(gt=0, le=250)]
    pulses: PositiveInt


class ThetaBurstPattern(StrictModel):
    """Bursts of `pulses_per_burst` at `burst_frequency_hz`, repeated at `burst_rate_hz`.

    cTBS: one train and no interval. iTBS: 2 s trains every 10 s (8 s pauses). imTBS:
    5 s trains every 15 s.
    """

    kind: Literal["theta-burst"]
    pulses_per_burst: Annotated[int, Field(gt=0, le=10)]
    burst_frequency_hz: Annotated[float, Field(gt=0, le=250)]
    burst_rate_hz: Annotated[float, Field(gt=0, le=20)]
    train_duration_s: PositiveFloat
    inter_train_interval_s: PositiveFloat | None = None
    trains: PositiveInt

    @model_validator(mode="after")
    def _consistent(self) -> ThetaBurstPattern:
        burst_span_s = (self.pulses_per_burst - 1) / self.burst_frequency_hz
        if burst_span_s >= 1.0 / self.burst_rate_hz:
            raise ValueError("a burst lasts longer than the burst period (1 / burst_rate_hz)")
        whole_number(
            self.train_duration_s * self.burst_rate_hz,
            "train_duration_s x burst_rate_hz (bursts per train)",
        )
        if self.trains > 1 and self.inter_train_interval_s is None:
            raise ValueError("inter_train_interval_s is required when trains > 1")
        return self


Pattern = Annotated[
    TrainPattern | ContinuousPattern | ThetaBurstPattern, Field(discriminator="kind")
]
PATTERN_KINDS = ("train", "continuous", "theta-burst")


class Schedule(StrictModel):
    """How sessions of this protocol are spaced; drives the daily and course rules."""

    mode: Literal["standard", "accelerated"] = "standard"
    sessions_per_day: PositiveInt = 1
    min_gap_minutes: Annotated[float, Field(ge=0)] | None = None
    course_sessions: PositiveInt | None = None


class Protocol(StrictModel):
    schema_version: PositiveInt
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
