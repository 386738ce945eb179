"""What the engine reports: per-train records, live snapshots, the final summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stimctl.session.watchdog import Alarm


@dataclass
class TrainRecord:
    index: int
    planned_onset_s: float
    actual_onset_s: float
    pulses_planned: int
    pulses: int = 0
    intensity_percent_mso: int = 0
    intensity_percent_rmt: float = 0.0
    end_s: float | None = None
    estimated: bool = False


@dataclass
class Snapshot:
    """What the console shows: a consistent copy, safe to read from any thread."""

    state: str
    latched: bool
    pulses_delivered: int
    pulses_planned: int
    trains_delivered: int
    trains_planned: int
    intensity_percent_mso: int
    intensity_percent_rmt: float
    rmt_percent_mso: float
    elapsed_s: float
    planned_duration_s: float
    next_train_in_s: float | None
    coil_temperature_c: float | None
    coil_history: list[tuple[float, float]]
    last_reply_age_s: float | None
    link_errors: int
    alarms: list[Alarm]
    events: list[str]
    pause_requested: bool
    stop_requested: bool


@dataclass
class Summary:
    session_id: str
    status: str
    reason: str
    pulses_delivered: int
    pulses_planned: int
    trains_delivered: int
    trains_planned: int
    duration_s: float
    planned_duration_s: float
    onset_errors_s: list[float]
    alarms: list[str]
    journal: str
    trains: list[TrainRecord] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        errors = sorted(abs(e) for e in self.onset_errors_s)
        return {
            "session_id": self.session_id,
            "status": self.status,
            "reason": self.reason,
            "pulses_delivered": self.pulses_delivered,
            "pulses_planned": self.pulses_planned,
            "trains_delivered": self.trains_delivered,
            "trains_planned": self.trains_planned,
            "duration_s": round(self.duration_s, 3),
            "planned_duration_s": round(self.planned_duration_s, 3),
            "train_onset_error_ms": {
                "median": round(1000 * errors[len(errors) // 2], 3) if errors else None,
                "max": round(1000 * errors[-1], 3) if errors else None,
            },
            "alarms": self.alarms,
            "journal": self.journal,
        }
