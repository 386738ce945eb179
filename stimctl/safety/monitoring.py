"""Neurophysiological monitoring of research sessions outside the tables (safety-limits
13.4 item 4; issue 15 item 9).

Rossi 2021 keeps the 2009 recommendation that new protocols be monitored
neurophysiologically [V, abstract]. A research-mode session whose verdict needed an
override, or whose intervals are extrapolated, is outside the published tables: it may
start only with a monitoring record (who monitors, and how: EMG and/or EEG), which is
journaled with the session start and shown in the report. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from stimctl.errors import ConfigError
from stimctl.safety.inputs import SiteRules
from stimctl.safety.verdict import Finding, Severity, Verdict

MonitoringMethod = Literal["emg", "eeg"]
METHODS: tuple[MonitoringMethod, ...] = ("emg", "eeg")
SOURCE = (
    "Rossi et al. 2021, Clin Neurophysiol 132:269 (keeps the 2009 recommendation of "
    "neurophysiological monitoring for new protocols) [V]"
)


@dataclass(frozen=True)
class Monitoring:
    operator: str
    """Who watches the monitoring during the session (an operator id)."""
    methods: tuple[MonitoringMethod, ...]
    note: str = ""

    def __post_init__(self) -> None:
        if not self.operator.strip():
            raise ConfigError("a monitoring record needs the id of who monitors")
        if not self.methods or any(m not in METHODS for m in self.methods):
            raise ConfigError(f"monitoring methods must be among {', '.join(METHODS)}")

    def as_dict(self) -> dict[str, object]:
        return {"operator": self.operator, "methods": list(self.methods), "note": self.note}


def outside_tables(verdict: Verdict, site: SiteRules) -> list[Finding]:
    """The findings that put a research session outside the tables (empty: none, or not
    research mode)."""
    if site.mode != "research":
        return []
    return [
        f
        for f in verdict.findings
        if f.severity is Severity.OVERRIDE or (f.rule == "ITI-EXT" and "extrapolated" in f.message)
    ]
