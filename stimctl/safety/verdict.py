"""Findings and verdicts: what every safety rule returns.

A verdict is the worst severity among the findings: `allow` < `override` < `block`.
`override` means the protocol may run only with an operator and a reason, journaled.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ALLOW = "allow"
    OVERRIDE = "override"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.ALLOW: 0, Severity.OVERRIDE: 1, Severity.BLOCK: 2}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    value: float | str | None
    limit: float | str | None
    source: str

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data


@dataclass(frozen=True)
class Verdict:
    verdict: Severity
    findings: tuple[Finding, ...]
    derived: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_findings(
        cls, findings: list[Finding], derived: dict[str, Any] | None = None
    ) -> Verdict:
        worst = max((f.severity for f in findings), key=lambda s: s.rank, default=Severity.ALLOW)
        return cls(verdict=worst, findings=tuple(findings), derived=derived or {})

    def deciding(self) -> list[Finding]:
        """The findings that set the verdict (all of them when everything is allowed)."""
        return [f for f in self.findings if f.severity is self.verdict]

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "findings": [f.as_dict() for f in self.findings],
            "protocol": self.derived,
        }
