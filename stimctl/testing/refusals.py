"""Deliberately unsafe protocols the self-test must see refused (issue 16 item 5).

A battery in which every protocol passes "allow" proves nothing about refusals. These
cases are built here in code, never shipped as library entries (nobody can load one by
name): at least one per family of rule, each with the rule that must block it. They are
judged for the typical subject of `stimctl.testing.expected`, on the reference device
(the device of `make demo`) where the case is about a device.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from stimctl.errors import StimctlError
from stimctl.testing.expected import REFERENCE_DEVICE, expected_site, typical_subject
from stimctl.testing.results import CheckResult, failed, passed

GROUP = "refusals"

_BASE: dict[str, Any] = {
    "schema_version": 1,
    "title": "self-test: must be refused",
    "indication": "research",
    "source": "stimctl self-test (built in, not a library protocol)",
    "target": {"site": "M1-hand", "hemisphere": "left"},
    "coil": {"family": "figure-8"},
}


@dataclass(frozen=True)
class UnsafeCase:
    name: str
    family: str
    rule: str
    """The rule that must be among the blocking findings."""
    why: str
    fields: dict[str, Any]
    on_device: bool = False
    cochlear_implant: bool = False


def _train(hz: float, per_train: int, iti: float, trains: int) -> dict[str, Any]:
    return {
        "kind": "train",
        "frequency_hz": hz,
        "pulses_per_train": per_train,
        "inter_train_interval_s": iti,
        "trains": trains,
    }


_ITBS = {
    "kind": "theta-burst",
    "pulses_per_burst": 3,
    "burst_frequency_hz": 50.0,
    "burst_rate_hz": 5.0,
    "train_duration_s": 2.0,
    "inter_train_interval_s": 8.0,
    "trains": 20,
}

UNSAFE_CASES: tuple[UnsafeCase, ...] = (
    UnsafeCase(
        "unsafe-train-duration",
        "train duration",
        "WASS1998_T4",
        "20 Hz, 10 s trains at 110% RMT: past the 20 Hz / 110% cell (1.6 s)",
        {"intensity": {"percent_rmt": 110}, "pattern": _train(20.0, 200, 60.0, 2)},
    ),
    UnsafeCase(
        "unsafe-inter-train-interval",
        "inter-train interval",
        "ITI-1",
        "20 Hz at 110% RMT with 0.5 s pauses between trains",
        {"intensity": {"percent_rmt": 110}, "pattern": _train(20.0, 20, 0.5, 10)},
    ),
    UnsafeCase(
        "unsafe-intensity",
        "intensity",
        "INT-1",
        "conventional rTMS at 200% RMT",
        {"intensity": {"percent_rmt": 200}, "pattern": _train(1.0, 10, 30.0, 2)},
    ),
    UnsafeCase(
        "unsafe-absolute-output",
        "intensity",
        "INT-MSO",
        "an absolute % MSO dose outside research mode",
        {"intensity": {"percent_mso": 50}, "pattern": _train(1.0, 10, 30.0, 2)},
    ),
    UnsafeCase(
        "unsafe-theta-burst-intensity",
        "theta burst",
        "INT-2",
        "iTBS at 150% RMT, above the theta-burst cap",
        {"intensity": {"percent_rmt": 150}, "pattern": _ITBS},
    ),
    UnsafeCase(
        "undeliverable-on-reference-device",
        "device",
        "TBS-5",
        "iTBS (50 Hz bursts) on a device that takes single triggers at up to 1 Hz",
        {"intensity": {"percent_rmt": 120}, "pattern": _ITBS},
        on_device=True,
    ),
    UnsafeCase(
        "unsafe-screening",
        "screening",
        "SCR-1",
        "a subject with a cochlear implant",
        {"intensity": {"percent_rmt": 90}, "pattern": _train(1.0, 10, 30.0, 2)},
        cochlear_implant=True,
    ),
)


def _subject(case: UnsafeCase, day: dt.date) -> Any:
    from stimctl.safety.inputs import Screening
    from stimctl.safety.tables import screening_table

    subject = typical_subject(day)
    if not case.cochlear_implant:
        return subject
    answers = {item: item == "cochlear_implant" for item in screening_table().items}
    screening = Screening(screening_table().questionnaire, day, answers)
    return dataclasses.replace(subject, screening=screening)


def run_refusal_checks(now: dt.datetime | None = None) -> list[CheckResult]:
    """One line per unsafe case: PASS when its rule blocks it, FAIL otherwise."""
    from stimctl.device_profiles import load_profile
    from stimctl.protocol.models import Protocol
    from stimctl.safety.engine import evaluate

    moment = now or dt.datetime.now(dt.UTC)
    results = []
    for case in UNSAFE_CASES:
        label = f"{case.name} ({case.family})"
        try:
            protocol = Protocol.model_validate({**_BASE, "name": case.name, **case.fields})
            verdict = evaluate(
                protocol,
                _subject(case, moment.date()),
                now=moment,
                site=expected_site(),
                device=load_profile(REFERENCE_DEVICE) if case.on_device else None,
            )
        except (StimctlError, ValueError) as exc:
            results.append(failed(GROUP, label, f"cannot be judged: {exc}"))
            continue
        blocking = [f.rule for f in verdict.findings if f.severity.value == "block"]
        where = f" on {REFERENCE_DEVICE}" if case.on_device else ""
        if verdict.verdict.value == "block" and case.rule in blocking:
            results.append(passed(GROUP, label, f"block by {case.rule}{where}: {case.why}"))
        else:
            got = ", ".join(blocking) or "no blocking rule"
            results.append(
                failed(
                    GROUP,
                    label,
                    f"verdict {verdict.verdict.value} ({got}){where}, expected a block by "
                    f"{case.rule}: {case.why}",
                )
            )
    return results
