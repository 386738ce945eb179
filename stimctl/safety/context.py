"""The inputs of one evaluation, gathered once, and a helper to write findings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from stimctl.device_profiles import DeviceProfile
from stimctl.protocol.derived import Derived
from stimctl.protocol.models import Protocol
from stimctl.safety.inputs import MotorThreshold, SiteRules, Subject
from stimctl.safety.tables import Limit, Limits, Tables
from stimctl.safety.verdict import Finding, Severity


@dataclass(frozen=True)
class Context:
    protocol: Protocol
    derived: Derived
    subject: Subject
    site: SiteRules
    device: DeviceProfile | None
    tables: Tables
    """The safety tables, loaded by the engine before any rule runs: rules read them
    here and open no file, so a rule is a function of its context alone."""
    today: date
    percent_rmt: float | None
    """The highest intensity of the session in % RMT of the protocol's muscle (ramps only
    go below it); None only for a TBS protocol in % AMT of a subject without an RMT."""
    dose_percent_mso: float
    """The intensity converted with the threshold it refers to: what the device delivers."""
    percent_amt: float | None = None
    """The same dose in % AMT, when the subject has an AMT of the protocol's muscle."""
    reference: MotorThreshold | None = None
    """The threshold the protocol's intensity refers to (the RMT for % MSO dosing)."""
    thresholds_used: tuple[MotorThreshold, ...] = ()
    """Every threshold the dose was converted with (their quality rules apply)."""
    depth: Finding | None = None
    """How a depth-adjusted dose was computed (SAINT), reported with the findings."""
    device_energy_j: tuple[float, ...] | None = None
    """The device's energy per pulse by whole % MSO (a Rapid's energy table, loaded by the
    engine with the safety tables); None for a device without one."""
    external_trigger: bool = False
    """The session fires through a hardware trigger line into the unit's Trigger In
    (`--trigger`, issue 18), not over serial."""

    @property
    def limits(self) -> Limits:
        return self.tables.limits

    @property
    def rmt_percent(self) -> float:
        """`percent_rmt` where a rule needs it; build_context guarantees an RMT for every
        protocol the duration, interval and conventional intensity rules look at."""
        assert self.percent_rmt is not None, "non-TBS protocols always have an RMT"
        return self.percent_rmt

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
