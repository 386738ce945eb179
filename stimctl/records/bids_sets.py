"""The parameter sets of a session for NIBS-BIDS v6.3 `_nibs.tsv` (one row per unique
set, keyed by `event_id`) and the columns with their units (the sidecar describes them).

A set is what one train delivers: intensity, pulse timing (pattern1: pulses in a train,
or in a burst for theta burst; pattern2: bursts in a train) and the threshold the dose
refers to. Trains with equal sets share one row; a ramp gives one row per step.
Every value stimctl knows is filled: the threshold from the records, else from the
journal's session_start (a dry run with --rmt); `n/a` only where stimctl does not know
the value (pulse shape and width are not journaled).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from stimctl.records.trains import SessionTrains, TrainRow, journal_int, journal_number

NA: Final = "n/a"

THRESHOLD_TYPES: Final = {"rmt": "resting motor threshold", "amt": "active motor threshold"}

NIBS_COLUMNS: Final[dict[str, dict[str, str]]] = {
    "event_id": {"Description": "Unique id of the parameter set; _events.tsv refers to it."},
    "nibs_type": {"Description": "Stimulation type: TMS."},
    "element_id": {"Description": "Coil, described in ElementSet."},
    "stimulator_id": {"Description": "Stimulator, described in StimulatorSet."},
    "stimulus_shape": {"Description": "Pulse waveform (not journaled by stimctl: n/a)."},
    "stimulus_intensity": {
        "Description": "Applied stimulator output (the dose as set on the device).",
        "Units": "%MSO",
    },
    "stimulus_duration": {
        "Description": "Pulse width (not journaled by stimctl: n/a).",
        "Units": "ms",
    },
    "pattern1_count": {"Description": "Pulses per train (per burst for theta burst)."},
    "pattern1_interval": {"Description": "Pulse onset to pulse onset.", "Units": "s"},
    "pattern1_frequency": {"Description": "Pulse rate within pattern 1.", "Units": "Hz"},
    "pattern1_duration": {"Description": "Length of pattern 1 (count / frequency).", "Units": "s"},
    "pattern1_intensity": {"Description": "Output of the pulses of pattern 1.", "Units": "%MSO"},
    "pattern2_count": {"Description": "Theta burst: bursts per train (else n/a)."},
    "pattern2_interval": {"Description": "Theta burst: burst onset to burst onset.", "Units": "s"},
    "pattern2_frequency": {"Description": "Theta burst: burst rate.", "Units": "Hz"},
    "pattern2_duration": {"Description": "Theta burst: train length.", "Units": "s"},
    "pattern2_intensity": {"Description": "Theta burst: output of the bursts.", "Units": "%MSO"},
    "threshold_type": {"Description": "Threshold the dose refers to."},
    "threshold_reference_intensity": {"Description": "The threshold itself.", "Units": "%MSO"},
    "threshold_intensity": {
        "Description": "Applied output as a percentage of the threshold.",
        "Units": "%",
    },
    "threshold_criterion": {"Description": "Criterion used to find the threshold."},
    "threshold_algorithm": {"Description": "Algorithm used to find the threshold."},
    "threshold_measurement_method": {"Description": "stimctl column: emg or visual."},
    "stimctl_trains": {"Description": "stimctl column: trains delivered with this set."},
    "simulated": {
        "Description": "stimctl column: true for a dry run on the simulator (no pulse"
        " reached a subject; not treatment)."
    },
}


@dataclass(frozen=True)
class Threshold:
    kind: str
    percent_mso: float | None
    method: str | None
    criterion: str | None
    algorithm: str | None


@dataclass(frozen=True)
class ParameterSet:
    event_id: str
    intensity_mso: float | None
    pattern1: tuple[int | None, float | None]
    """(count, frequency Hz)."""
    pattern2: tuple[int, float] | None
    """Theta burst only: (bursts per train, burst rate Hz)."""
    threshold: Threshold
    trains: int

    def row(self, simulated: bool) -> list[str]:
        count, frequency = self.pattern1
        interval = 1.0 / frequency if frequency else None
        duration = count / frequency if count is not None and frequency else None
        mso = self.intensity_mso
        second: list[object] = [None] * 5
        if self.pattern2 is not None:
            bursts, rate = self.pattern2
            second = [bursts, _r(1.0 / rate), rate, _r(bursts / rate), mso]
        t = self.threshold
        relative = _r(100.0 * mso / t.percent_mso) if mso and t.percent_mso else None
        cells: list[object] = [
            self.event_id,
            "TMS",
            "coil_1",
            "stimulator_1",
            None,
            mso,
            None,
            count,
            _r(interval),
            frequency,
            _r(duration),
            mso,
            *second,
            THRESHOLD_TYPES.get(t.kind, t.kind) if t.percent_mso is not None else None,
            t.percent_mso,
            relative,
            t.criterion,
            t.algorithm,
            t.method,
            self.trains,
            "true" if simulated else "false",
        ]
        return [NA if c is None else str(c).replace("\t", " ") for c in cells]


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def parameter_sets(session: SessionTrains) -> tuple[list[ParameterSet], dict[int, str]]:
    """The session's unique sets in order of first use, and each train's `event_id`."""
    threshold = _threshold(session)
    pattern = _pattern(session.start)
    keys: dict[tuple[Any, ...], str] = {}
    counts: dict[str, int] = {}
    shapes: dict[str, tuple[Any, ...]] = {}
    of_train: dict[int, str] = {}
    for train in session.trains:
        first, second = _levels(train, pattern)
        key = (train.intensity_pct_mso, first, second)
        event_id = keys.setdefault(key, f"set-{len(keys) + 1}")
        counts[event_id] = counts.get(event_id, 0) + 1
        shapes[event_id] = key
        of_train[train.train] = event_id
    sets = [
        ParameterSet(event_id, key[0], key[1], key[2], threshold, counts[event_id])
        for event_id, key in shapes.items()
    ]
    return sets, of_train


def _levels(
    train: TrainRow, pattern: dict[str, Any]
) -> tuple[tuple[int | None, float | None], tuple[int, float] | None]:
    if pattern.get("kind") == "theta-burst":
        per_burst = journal_int(pattern.get("pulses_per_burst"))
        burst_hz = journal_number(pattern.get("burst_frequency_hz"))
        rate = journal_number(pattern.get("burst_rate_hz"))
        if per_burst and burst_hz and rate and train.pulses_planned:
            return (per_burst, burst_hz), (train.pulses_planned // per_burst, rate)
    return (train.pulses_planned, train.frequency_hz), None


def _pattern(start: dict[str, Any]) -> dict[str, Any]:
    protocol = start.get("protocol")
    pattern = protocol.get("pattern") if isinstance(protocol, dict) else None
    return pattern if isinstance(pattern, dict) else {}


def _threshold(session: SessionTrains) -> Threshold:
    """The records' threshold of the session, else the one its journal names."""
    record = session.threshold
    if record is not None:
        return Threshold(
            record.kind, record.percent_mso, record.method, record.criterion, record.algorithm
        )
    subject = session.start.get("subject")
    subject = subject if isinstance(subject, dict) else {}
    kind = subject.get("threshold_kind") or "rmt"
    value = journal_number(subject.get("reference_percent_mso") or subject.get("rmt_percent_mso"))
    method = subject.get("rmt_method")
    return Threshold(str(kind), value, str(method) if method else None, None, None)
