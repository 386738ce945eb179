"""The inputs of one evaluation, gathered once, and a helper to write findings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from stimctl.device_profiles import DeviceProfile
from stimctl.protocol.derived import Derived
from stimctl.protocol.models import Protocol
from stimctl.safety.inputs import SiteRules, Subject
from stimctl.safety.tables import Limit, Limits
from stimctl.safety.verdict import Finding, Severity


@dataclass(frozen=True)
class Context:
    protocol: Protocol
    derived: Derived
    subject: Subject
    site: SiteRules
    device: DeviceProfile | None
    limits: Limits
    today: date
    percent_rmt: float
    """The highest intensity of the session in % RMT (ramps only go below it)."""
    dose_percent_mso: float
    """`percent_rmt` converted with the subject's RMT: what the device must deliver."""

    @property
    def research(self) -> bool:
        return self.site.mode == "research"


def find(
    rule: str,
    severity: Severity,
    message: str,
    *,
    value: float | str | None = None,
    limit: float | str | None = None,
    source: str = "",
) -> Finding:
    return Finding(rule, severity, message, value, limit, source)


def against(
    rule: str, severity: Severity, message: str, value: float | str | None, limit: Limit
) -> Finding:
    """A finding whose limit and source come from a `Limit` of limits.toml."""
    return Finding(rule, severity, message, value, limit.value, cite(limit))


def cite(limit: Limit) -> str:
    return f"{limit.source} [{limit.status}]"


def fmt(value: float) -> str:
    """Numbers in messages: no trailing zeros, at most 3 decimals."""
    return f"{value:.3f}".rstrip("0").rstrip(".")
