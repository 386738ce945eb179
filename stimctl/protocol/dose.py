"""The one conversion of a dose to what the device is set to (issue 14 item 1).

A dose is prescribed as a % of a motor threshold (RMT or AMT, given in % MSO); the
device takes whole % MSO. Every layer that needs the number the device gets (the
plan, the safety engine, a mid-session intensity change, the reports) calls
`to_device`, so the rounding happens once, the same way, and is stated.

Rounding is DOWN to the whole percent (never more than the checked dose): 90% of an
RMT of 52% MSO is 46.8% MSO, set as 46% MSO, which is 88.5% RMT delivered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ROUNDING = "rounded down to the device's 1% step"
_EPSILON = 1e-9
"""Absorbs float noise so 60% of 50 (29.999999...) is 30, not 29."""


@dataclass(frozen=True)
class DeviceDose:
    prescribed_percent: float
    """The dose as prescribed, in % of the reference threshold."""
    reference_percent_mso: float
    """The threshold the % is of, in % MSO (depth-adjusted where the protocol is)."""
    exact_percent_mso: float
    set_percent_mso: int
    """What the device is set to."""

    @property
    def delivered_percent(self) -> float:
        """What the device delivers, in % of the reference threshold (<= prescribed)."""
        return self.set_percent_mso / self.reference_percent_mso * 100.0

    @property
    def note(self) -> str:
        return (
            f"{self.prescribed_percent:g}% of {self.reference_percent_mso:g}% MSO = "
            f"{self.exact_percent_mso:.2f}% MSO, set as {self.set_percent_mso}% MSO "
            f"({ROUNDING}) = {self.delivered_percent:.1f}% delivered"
        )


def device_percent(dose_percent_mso: float) -> int:
    """Round a dose in % MSO to the device's whole-percent resolution, downwards."""
    return math.floor(dose_percent_mso + _EPSILON)


def to_device(prescribed_percent: float, reference_percent_mso: float) -> DeviceDose:
    """`prescribed_percent` % of a threshold of `reference_percent_mso` % MSO, as set."""
    if not reference_percent_mso > 0:
        raise ValueError(f"a threshold of {reference_percent_mso:g}% MSO cannot carry a dose")
    exact = prescribed_percent * reference_percent_mso / 100.0
    return DeviceDose(prescribed_percent, reference_percent_mso, exact, device_percent(exact))


def delivered_percent(set_percent_mso: float, reference_percent_mso: float) -> float:
    """A device setting in % of the reference threshold (for reports of old journals)."""
    return set_percent_mso / reference_percent_mso * 100.0
