"""Small builders for protocols and subjects used across the tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from stimctl.protocol.models import Protocol
from stimctl.safety import MotorThreshold, Screening, SiteRules, Subject
from stimctl.safety.engine import evaluate
from stimctl.safety.tables import screening_table
from stimctl.safety.verdict import Verdict

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


def train(
    frequency_hz: float,
    percent_rmt: float,
    train_s: float,
    iti_s: float | None = 25.0,
    trains: int = 10,
    **top: Any,
) -> Protocol:
    pattern: dict[str, Any] = {
        "kind": "train",
        "frequency_hz": frequency_hz,
        "train_duration_s": train_s,
        "trains": trains,
    }
    if iti_s is not None:
        pattern["inter_train_interval_s"] = iti_s
    return protocol(pattern, percent_rmt, **top)


def continuous(frequency_hz: float, percent_rmt: float, pulses: int, **top: Any) -> Protocol:
    pattern = {"kind": "continuous", "frequency_hz": frequency_hz, "pulses": pulses}
    return protocol(pattern, percent_rmt, **top)


def theta_burst(
    percent_rmt: float,
    train_s: float = 2.0,
    iti_s: float | None = 8.0,
    trains: int = 20,
    burst: tuple[int, float, float] = (3, 50.0, 5.0),
    **top: Any,
) -> Protocol:
    pattern: dict[str, Any] = {
        "kind": "theta-burst",
        "pulses_per_burst": burst[0],
        "burst_frequency_hz": burst[1],
        "burst_rate_hz": burst[2],
        "train_duration_s": train_s,
        "trains": trains,
    }
    if iti_s is not None:
        pattern["inter_train_interval_s"] = iti_s
    return protocol(pattern, percent_rmt, **top)


def protocol(
    pattern: dict[str, Any],
    percent_rmt: float,
    *,
    coil: dict[str, Any] | None = None,
    site: str = "L-DLPFC",
    indication: str = "depression",
    schedule: dict[str, Any] | None = None,
) -> Protocol:
    data: dict[str, Any] = {
        "schema_version": 1,
        "name": "test",
        "title": "test protocol",
        "indication": indication,
        "source": "test",
        "target": {"site": site, "hemisphere": "left"},
        "coil": coil or {"family": "figure-8"},
        "intensity": {"percent_rmt": percent_rmt},
        "pattern": pattern,
    }
    if schedule:
        data["schedule"] = schedule
    return Protocol.model_validate(data)


def clean_screening(**yes: bool) -> Screening:
    answers = dict.fromkeys(screening_table().items, False)
    answers.update(yes)
    return Screening("rossi-2011", TODAY, answers)


def subject(
    rmt: float = 50.0,
    method: str = "emg",
    measured_on: dt.date = TODAY,
    screening: Screening | None = None,
    device: str | None = None,
) -> Subject:
    return Subject(MotorThreshold(rmt, method, measured_on, device=device), screening)  # type: ignore[arg-type]


def check(p: Protocol, **kwargs: Any) -> Verdict:
    kwargs.setdefault("site", SiteRules())
    subj = kwargs.pop("subject", None) or subject(screening=clean_screening())
    return evaluate(p, subj, now=kwargs.pop("now", NOW), **kwargs)


def rules_at(verdict: Verdict, severity: str) -> set[str]:
    return {f.rule for f in verdict.findings if f.severity.value == severity}
