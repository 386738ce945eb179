"""The safety engine: pure rules over published tables (no clock, no I/O).

Only `verdict` and `inputs` are imported eagerly; `evaluate` loads the tables on first use.
"""

from stimctl.safety.inputs import (
    History,
    MotorThreshold,
    PastSession,
    Screening,
    SiteRules,
    Subject,
)
from stimctl.safety.verdict import Finding, Severity, Verdict

__all__ = [
    "Finding",
    "History",
    "MotorThreshold",
    "PastSession",
    "Screening",
    "Severity",
    "SiteRules",
    "Subject",
    "Verdict",
]
