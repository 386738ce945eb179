"""Everything the safety engine weighs besides the protocol: subject, site, history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

RmtMethod = Literal["emg", "visual"]
Mode = Literal["clinical", "research"]


@dataclass(frozen=True)
class MotorThreshold:
    percent_mso: float
    method: RmtMethod
    measured_on: date
    device: str | None = None
    """Device profile the threshold was measured on (None: not recorded)."""
    coil: str | None = None


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
    screening: Screening | None = None
    subject_id: str | None = None


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
