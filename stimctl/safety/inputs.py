"""Everything the safety engine weighs besides the protocol: subject, site, history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

RmtMethod = Literal["emg", "visual"]
Mode = Literal["clinical", "research"]
ThresholdKind = Literal["rmt", "amt"]
"""Resting (relaxed muscle, 50 uV) or active (slight contraction, about 200 uV) motor
threshold (safety-limits 4.1). AMT is lower than RMT, so a dose in % RMT is not the same
dose in % AMT (safety-limits 13.2)."""
Limb = Literal["hand", "leg"]

MUSCLES: dict[str, Limb] = {
    "FDI": "hand",  # first dorsal interosseous
    "APB": "hand",  # abductor pollicis brevis
    "ADM": "hand",  # abductor digiti minimi
    "hand": "hand",  # a hand muscle not named (thresholds recorded before muscles were)
    "TA": "leg",  # tibialis anterior (the H7 coil's leg threshold, safety-limits 13.3)
    "AH": "leg",  # abductor hallucis
    "leg": "leg",  # a leg muscle not named
}
"""Muscles a threshold may be measured on, and their limb. A protocol names a muscle or
just a limb ("hand", "leg"); a limb matches any muscle of that limb."""

KIND_NAMES: dict[ThresholdKind, str] = {
    "rmt": "resting motor threshold (RMT)",
    "amt": "active motor threshold (AMT)",
}


def limb_of(muscle: str) -> Limb:
    try:
        return MUSCLES[muscle]
    except KeyError:
        known = ", ".join(MUSCLES)
        raise ValueError(f"unknown muscle {muscle!r} (known: {known})") from None


def muscle_matches(measured: str, wanted: str) -> bool:
    """A threshold on `measured` serves a protocol that asks for `wanted` (a muscle or a
    limb): same muscle, or any muscle of the limb asked for."""
    if wanted in ("hand", "leg"):
        return limb_of(measured) == wanted
    return measured == wanted


@dataclass(frozen=True)
class MotorThreshold:
    percent_mso: float
    method: RmtMethod
    measured_on: date
    device: str | None = None
    """Device profile the threshold was measured on (None: not recorded)."""
    coil: str | None = None
    kind: ThresholdKind = "rmt"
    muscle: str = "hand"
    """A key of MUSCLES ("hand": a hand muscle not named)."""
    record_id: str | None = None
    """Its id in the record store (None: not from the records)."""
    adjusted_for: str | None = None
    """A threshold already adjusted for the cortical depth of this target site."""

    def describe(self) -> str:
        return f"{self.kind.upper()} {self.percent_mso:g}% MSO ({self.muscle}, {self.method})"


@dataclass(frozen=True)
class Screening:
    questionnaire: str
    answered_on: date
    answers: dict[str, bool]
    medications: tuple[str, ...] = ()
    reviewer: str | None = None


@dataclass(frozen=True)
class Subject:
    rmt: MotorThreshold
    """The primary threshold (usually the latest hand RMT). Rules ask `threshold()` for
    the kind and muscle a protocol refers to, never this field directly."""
    screening: Screening | None = None
    subject_id: str | None = None
    thresholds: tuple[MotorThreshold, ...] = ()
    """Other thresholds on record (other kinds and muscles), latest of each."""
    scalp_cortex_mm: dict[str, float] = field(default_factory=dict)
    """Scalp-to-cortex distance by target site (e.g. "M1-hand", "L-DLPFC"), from MRI."""
    birth_date: date | None = None
    age_years: float | None = None
    """An age known on `age_recorded_on`, when the birth date is not."""
    age_recorded_on: date | None = None
    risk_factors: tuple[str, ...] = ()
    """Recorded risk factors: "epilepsy", "brain-lesion", "prior-seizure" (13.4)."""

    def age_on(self, day: date) -> float | None:
        return age_in_years(self.birth_date, self.age_years, self.age_recorded_on, day)

    def threshold(self, kind: ThresholdKind, muscle: str) -> MotorThreshold | None:
        """The threshold of this kind for this muscle or limb: the primary one when it
        matches, else the latest matching one on record (None: none on record)."""
        if (
            self.rmt.kind == kind
            and self.rmt.adjusted_for is None
            and muscle_matches(self.rmt.muscle, muscle)
        ):
            return self.rmt
        matching = [
            t
            for t in self.thresholds
            if t.kind == kind and t.adjusted_for is None and muscle_matches(t.muscle, muscle)
        ]
        return max(matching, key=lambda t: t.measured_on, default=None)

    def adjusted_threshold(self, kind: ThresholdKind, site: str) -> MotorThreshold | None:
        """A threshold of this kind already adjusted for the depth of `site`."""
        matching = [
            t for t in (self.rmt, *self.thresholds) if t.kind == kind and t.adjusted_for == site
        ]
        return max(matching, key=lambda t: t.measured_on, default=None)


@dataclass(frozen=True)
class SiteRules:
    mode: Mode = "clinical"
    accelerated_allowed: bool = False
    timezone: str = "UTC"
    screening_validity_days: int = 30
    conservative_duration_table: bool = False
    research_allowed: bool = False
    """The site allows research sessions (site file; `stimctl.site`)."""
    file: str | None = None
    """The site file these rules came from (None: the shipped default); journaled."""
    drivers: tuple[tuple[str, str], ...] | None = None
    """(entry-point name, distribution) of the drivers clinical mode may load; None:
    the drivers shipped with stimctl (stimctl.hal.SHIPPED_DRIVERS)."""


@dataclass(frozen=True)
class PastSession:
    started_at: datetime
    """Timezone-aware start time."""
    pulses_delivered: int
    protocol_class: str
    protocol_name: str = ""
    status: str = "completed"
    ended_at: datetime | None = None


@dataclass(frozen=True)
class History:
    """What the daily and course rules need to know about the subject's past."""

    sessions: tuple[PastSession, ...] = ()
    course_sessions: int | None = None
    """Sessions already delivered in the current course (None: no course on record)."""
    unresolved_adverse_events: tuple[str, ...] = field(default=())


def age_in_years(
    birth_date: date | None, age_years: float | None, recorded_on: date | None, day: date
) -> float | None:
    """Age on `day` from a birth date, else from an age known on a date (None: unknown)."""
    if birth_date is not None:
        return years_between(birth_date, day)
    if age_years is not None and recorded_on is not None:
        return age_years + (day - recorded_on).days / 365.25
    return None


def years_between(start: date, end: date) -> float:
    """Whole years completed, plus the fraction of the current one."""
    years = end.year - start.year - ((end.month, end.day) < (start.month, start.day))
    anniversary = _add_years(start, years)
    following = _add_years(start, years + 1)
    return years + (end - anniversary).days / (following - anniversary).days


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)
