"""What a self-test check returns: a name, an outcome and one line of detail."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"  # not applicable here (a model without a keep-alive, real hardware)


@dataclass(frozen=True)
class CheckResult:
    """One line of the battery: `group` (protocols, configs, journal, device <model>)."""

    group: str
    name: str
    outcome: Outcome
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.FAIL

    def line(self) -> str:
        text = f"{self.outcome.value.upper():<4}  {self.group}: {self.name}"
        return f"{text} - {self.detail}" if self.detail else text

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "name": self.name,
            "outcome": self.outcome.value,
            "detail": self.detail,
        }


def passed(group: str, name: str, detail: str = "") -> CheckResult:
    return CheckResult(group, name, Outcome.PASS, detail)


def failed(group: str, name: str, detail: str) -> CheckResult:
    return CheckResult(group, name, Outcome.FAIL, detail)


def skipped(group: str, name: str, reason: str) -> CheckResult:
    return CheckResult(group, name, Outcome.SKIP, reason)
