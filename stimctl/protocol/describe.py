"""A protocol in words and units: `stimctl protocols show` and the console pre-start screen.

Each line says a field in words and units, e.g. "pattern: 40 trains of 50 pulses at
10 Hz (5 s), 25 s pauses"; derived figures close the list, with the mean rate over the
session (pulses / duration), which is what a clinician compares, and the rate within a
train, which is what heats a coil.
"""

from __future__ import annotations

from stimctl.protocol.derived import Derived
from stimctl.protocol.models import (
    ContinuousPattern,
    Intensity,
    Protocol,
    Schedule,
    ThetaBurstPattern,
)

CLASS_NAMES = {
    "hf-rtms": "high-frequency rTMS",
    "lf-rtms": "low-frequency rTMS",
    "ctbs": "continuous theta burst",
    "itbs": "intermittent theta burst",
    "imtbs": "intermediate theta burst",
    "tbs-custom": "theta burst, custom timing",
}


def num(value: float) -> str:
    """A number without trailing zeros: 10.0 -> "10", 0.25 -> "0.25"."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def duration(seconds: float) -> str:
    """Seconds as "19 min 35 s" (or "40 s")."""
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    if not minutes:
        return f"{num(seconds)} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def intensity_text(intensity: Intensity) -> str:
    if intensity.percent_rmt is not None:
        text = f"{num(intensity.percent_rmt)}% of the resting motor threshold (RMT)"
    elif intensity.percent_amt is not None:
        text = f"{num(intensity.percent_amt)}% of the active motor threshold (AMT)"
    else:
        assert intensity.percent_mso is not None  # the model requires one of the three
        text = f"{num(intensity.percent_mso)}% of maximum stimulator output (research only)"
    if intensity.percent_mso is None:
        text += f", threshold of the {intensity.muscle} muscle"
    if intensity.depth_adjusted:
        text += ", adjusted for scalp-to-cortex distance"
    if intensity.ramp_start_percent_rmt is not None:
        over = (
            f"{intensity.ramp_trains} trains"
            if intensity.ramp_trains is not None
            else f"{intensity.ramp_sessions} sessions"
        )
        text += f"; ramped up from {num(intensity.ramp_start_percent_rmt)}% RMT over {over}"
    return text


def pattern_text(protocol: Protocol, d: Derived) -> str:
    p = protocol.pattern
    if isinstance(p, ContinuousPattern):
        return f"continuous: {p.pulses} pulses at {num(p.frequency_hz)} Hz"
    pause = (
        f", {num(p.inter_train_interval_s)} s pauses"
        if p.inter_train_interval_s is not None and p.trains > 1
        else ""
    )
    if isinstance(p, ThetaBurstPattern):
        return (
            f"theta burst: bursts of {p.pulses_per_burst} pulses at "
            f"{num(p.burst_frequency_hz)} Hz, {num(p.burst_rate_hz)} bursts a second; "
            f"{p.trains} train(s) of {num(p.train_duration_s)} s "
            f"({d.pulses_per_train} pulses){pause}"
        )
    return (
        f"{p.trains} train(s) of {d.pulses_per_train} pulses at {num(p.frequency_hz)} Hz "
        f"({num(d.train_duration_s)} s){pause}"
    )


def schedule_text(schedule: Schedule) -> str:
    day = (
        "1 session a day"
        if schedule.sessions_per_day == 1
        else (f"{schedule.sessions_per_day} sessions a day")
    )
    parts = [schedule.mode, day]
    if schedule.min_gap_minutes is not None:
        parts.append(f"at least {num(schedule.min_gap_minutes)} min apart")
    if schedule.course_sessions is not None:
        parts.append(f"course of {schedule.course_sessions} sessions")
    return ", ".join(parts)


def protocol_lines(protocol: Protocol, d: Derived) -> list[tuple[str, str]]:
    coil = protocol.coil.family + (f" ({protocol.coil.model})" if protocol.coil.model else "")
    rows = [
        ("indication", protocol.indication),
        ("source", protocol.source),
        ("target", f"{protocol.target.site}, {protocol.target.hemisphere}"),
        ("coil", coil),
        ("intensity", intensity_text(protocol.intensity)),
        ("pattern", pattern_text(protocol, d)),
        ("schedule", schedule_text(protocol.schedule)),
        ("class", f"{d.protocol_class} ({CLASS_NAMES.get(d.protocol_class, '')})"),
        ("total", f"{d.total_pulses} pulses in {duration(d.session_duration_s)}"),
        (
            "mean rate",
            f"{d.session_mean_rate_hz:.2f} Hz over the session (pulses / duration); "
            f"{num(d.train_mean_rate_hz)} Hz within a train",
        ),
    ]
    if protocol.notes:
        rows.append(("notes", protocol.notes))
    return rows
