"""The records, as frozen dataclasses: what repository functions take and return.

Fields named ``*_at`` are timezone-aware UTC datetimes; ``*_on`` are calendar dates.
An ``id`` of "" on a record passed in means "assign one"; records returned always have
their id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Final, Literal

RmtMethod = Literal["emg", "visual"]
ThresholdKind = Literal["rmt", "amt"]
CourseStatus = Literal["active", "closed"]

SESSION_RUNNING: Final = "running"
"""A session whose start is recorded and whose end is not (yet, or ever: a crash)."""

AE_KINDS: Final = (
    "seizure",
    "syncope",
    "headache",
    "scalp-discomfort",
    "hearing-change",
    "mania-hypomania",
    "other",
)
AE_SEVERITIES: Final = ("mild", "moderate", "severe", "serious")
"""``serious``: a serious adverse event in the regulatory sense (hospitalisation, ...)."""

BLOCKING_AE_KINDS: Final = frozenset({"seizure"})
BLOCKING_AE_SEVERITIES: Final = frozenset({"serious"})
"""An unreviewed adverse event of these kinds or severities blocks the next session
(SES-4) until someone reviews it; others are shown but do not block."""


RISK_FACTORS: Final = ("epilepsy", "brain-lesion", "prior-seizure")
"""Patient risk factors that make the rules stricter (safety-limits 13.4 item 3)."""


@dataclass(frozen=True)
class SubjectRecord:
    id: str
    created_at: dt.datetime
    notes: str | None = None
    birth_date: dt.date | None = None
    age_years: float | None = None
    """An age as known on `age_recorded_on`, when the birth date is not."""
    age_recorded_on: dt.date | None = None
    risk_factors: tuple[str, ...] = ()
    scalp_cortex_mm: dict[str, float] = field(default_factory=dict)
    """Scalp-to-cortex distance by site (e.g. "M1-hand", "L-DLPFC"), e.g. from MRI."""


@dataclass(frozen=True)
class OperatorRecord:
    id: str
    role: str
    created_at: dt.datetime


@dataclass(frozen=True)
class ScreeningRecord:
    subject_id: str
    questionnaire: str
    answered_on: dt.date
    answers: dict[str, bool]
    medications: tuple[str, ...] = ()
    reviewer: str | None = None
    recorded_at: dt.datetime | None = None
    id: str = ""


@dataclass(frozen=True)
class ThresholdRecord:
    """A motor threshold (resting or active, of one muscle) with its provenance
    (NIBS-BIDS ``threshold_*`` fields)."""

    subject_id: str
    percent_mso: float
    method: RmtMethod
    measured_on: dt.date
    device: str | None = None
    coil: str | None = None
    criterion: str | None = None
    """e.g. "50 uV peak-to-peak in 5 of 10 trials" or "visible twitch"."""
    algorithm: str | None = None
    """e.g. "5/10 relative frequency", "PEST", "ML-PEST"."""
    pulses: int | None = None
    """Pulses used to find the threshold (they count towards the day's exposure)."""
    recorded_at: dt.datetime | None = None
    id: str = ""
    kind: ThresholdKind = "rmt"
    """Resting or active motor threshold (safety-limits 13.2)."""
    muscle: str = "hand"
    """A key of `stimctl.safety.inputs.MUSCLES` ("hand": a hand muscle not named)."""
    adjusted_for: str | None = None
    """Target site this threshold was adjusted to for cortical depth (None: as measured)."""


@dataclass(frozen=True)
class CourseRecord:
    subject_id: str
    protocol_name: str
    protocol_digest: str
    planned_sessions: int
    start_date: dt.date
    status: CourseStatus = "active"
    created_at: dt.datetime | None = None
    id: str = ""


@dataclass(frozen=True)
class SessionRecord:
    id: str
    subject_id: str
    protocol_name: str
    protocol_digest: str
    status: str
    pulses_planned: int
    pulses_delivered: int
    started_at: dt.datetime
    course_id: str | None = None
    journal_path: str | None = None
    chain_head: str | None = None
    ended_at: dt.datetime | None = None
    operator_id: str | None = None
    device: str | None = None
    coil: str | None = None
    threshold_id: str | None = None
    protocol_class: str = ""
    """`stimctl.protocol.derived` class (hf-rtms, itbs, ...), as the engine derived it."""
    simulated: bool = False
    """A dry run on the simulator: shown, exported, never counted by the rules."""
    pulses_exact: bool = True
    """False: `pulses_delivered` is a lower bound (crash inside a train, journal lost)."""
    owner_host: str | None = None
    owner_pid: int | None = None
    owner_token: str | None = None
    """The process running the session (`stimctl.records.owner`), while it runs."""
    close_note: str | None = None
    """Why reconciliation closed the row (e.g. "journal missing: counted as full")."""
    mode: str = "clinical"
    study_id: str | None = None

    @property
    def rule_pulses(self) -> int:
        """The pulses the daily and course rules count for this session: the journal's
        exact count, or the planned pulses while it runs or when the count is a bound
        (the plan is the most the engine would have delivered)."""
        return rule_pulses(
            self.status, self.pulses_planned, self.pulses_delivered, self.pulses_exact
        )


def rule_pulses(status: str, planned: int, delivered: int, exact: bool) -> int:
    """`SessionRecord.rule_pulses` from the row's columns (the history read builds the
    engine's sessions from them directly: `stimctl.records.history`)."""
    if status == SESSION_RUNNING or not exact:
        return max(planned, delivered)
    return delivered


@dataclass(frozen=True)
class OverrideRecord:
    subject_id: str
    rules: tuple[str, ...]
    operator_id: str
    reason: str
    at: dt.datetime
    session_id: str | None = None
    id: str = ""


@dataclass(frozen=True)
class AdverseEventRecord:
    subject_id: str
    kind: str
    severity: str
    occurred_at: dt.datetime
    session_id: str | None = None
    pulse_index: int | None = None
    notes: str = ""
    recorded_by: str | None = None
    recorded_at: dt.datetime | None = None
    reviewed_by: str | None = None
    reviewed_at: dt.datetime | None = None
    review_notes: str | None = None
    id: str = ""

    @property
    def blocks(self) -> bool:
        """True while unreviewed and of a blocking kind or severity (SES-4)."""
        return self.reviewed_at is None and (
            self.kind in BLOCKING_AE_KINDS or self.severity in BLOCKING_AE_SEVERITIES
        )

    def label(self) -> str:
        """How the safety engine names it: ``seizure (severe) 2026-11-20 [id]``."""
        return f"{self.kind} ({self.severity}) {self.occurred_at.date().isoformat()} [{self.id}]"


@dataclass(frozen=True)
class SubjectSummary:
    """What `stimctl subject show` prints and the console shows beside the subject."""

    subject: SubjectRecord
    threshold: ThresholdRecord | None
    screening: ScreeningRecord | None
    course: CourseRecord | None
    course_sessions: int
    sessions: int
    adverse_events: tuple[AdverseEventRecord, ...] = field(default=())
    simulated_sessions: int = 0
    """Dry runs on record (not counted in `sessions`)."""
    thresholds: tuple[ThresholdRecord, ...] = field(default=())
    """The latest threshold of each kind and muscle (`threshold` is the latest of all)."""
