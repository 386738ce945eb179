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
    pulses_upper: int | None = None
    """Set when the count is a bound: `pulses` is the lower bound, this the upper."""


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
    current_train: int | None = None
    """0-based index of the train on the device now (None between trains)."""
    train_remaining_s: float | None = None
    """Seconds left in the current train (None between trains); with `next_train_in_s`
    (seconds until the next train starts) the console's train countdown."""
    pulses_estimated: bool = False
    """`pulses_delivered` includes a device-timed train's pulses counted by the clock
    (a device that reports no pulses, Rapid²); exact otherwise."""


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
    disarm_confirmed: bool = True
    disarm_error: str | None = None
    pulses_delivered_upper: int | None = None
    adverse_event: str | None = None
    journal_error: str | None = None
    records_error: str | None = None
    interrupted_by: str | None = None
    """The signal that ended the session (SIGINT, SIGTERM, SIGHUP), if one did."""

    @property
    def count_exact(self) -> bool:
        upper = self.pulses_delivered_upper
        return upper is None or upper == self.pulses_delivered

    @property
    def outcome(self) -> str:
        """The session's outcome in one line, the most urgent fact first."""
        parts = []
        if not self.disarm_confirmed:
            parts.append(
                "DISARM UNCONFIRMED: switch the stimulator off at its power switch"
                f" ({self.disarm_error})"
            )
        if self.adverse_event is not None:
            parts.append(f"stopped for a serious adverse event: {self.adverse_event}")
        if self.journal_error is not None:
            parts.append(f"journal could not be written: {self.journal_error}")
        parts.append(f"{self.status} ({self.reason})")
        if not self.count_exact:
            parts.append(
                f"pulses delivered between {self.pulses_delivered} and "
                f"{self.pulses_delivered_upper} (not every pulse was observed)"
            )
        return "; ".join(parts)

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
            "outcome": self.outcome,
            "disarm_confirmed": self.disarm_confirmed,
            "pulses_delivered_upper": (
                self.pulses_delivered if self.count_exact else self.pulses_delivered_upper
            ),
            "count_exact": self.count_exact,
            "adverse_event": self.adverse_event,
        }
