"""Outcome scales a TMS clinic records, as data: range, step, direction and source.

A value outside a scale's range, or a fraction on a scale of whole points, is refused with
one line (never clipped): a PHQ-9 of 31 is a typo or another scale, not a 27.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from stimctl.errors import ConfigError


@dataclass(frozen=True)
class Scale:
    key: str
    name: str
    low: float
    high: float
    whole_points: bool
    """True: only whole numbers (a sum of item scores)."""
    higher_is_worse: bool
    unit: str
    source: str

    def check(self, value: float) -> float:
        """`value` if it is a score of this scale; a ConfigError naming the range if not."""
        if not math.isfinite(value) or not self.low <= value <= self.high:
            raise ConfigError(
                f"{self.key} value {value:g} is outside the scale's range"
                f" {self.low:g}-{self.high:g} ({self.name})"
            )
        if self.whole_points and value != int(value):
            raise ConfigError(f"{self.key} is scored in whole points, got {value:g} ({self.name})")
        return value


SCALES: Final[dict[str, Scale]] = {
    s.key: s
    for s in (
        Scale(
            "nrs",
            "Numeric Rating Scale for pain intensity",
            0,
            10,
            True,
            True,
            "points",
            "Hawker et al., Arthritis Care Res 2011;63(S11):S240-S252",
        ),
        Scale(
            "vas",
            "Visual Analogue Scale for pain intensity (100 mm line)",
            0,
            100,
            False,
            True,
            "mm",
            "Hawker et al., Arthritis Care Res 2011;63(S11):S240-S252",
        ),
        Scale(
            "phq9",
            "Patient Health Questionnaire-9 (depression)",
            0,
            27,
            True,
            True,
            "points",
            "Kroenke, Spitzer & Williams, J Gen Intern Med 2001;16(9):606-613",
        ),
        Scale(
            "madrs",
            "Montgomery-Asberg Depression Rating Scale",
            0,
            60,
            True,
            True,
            "points",
            "Montgomery & Asberg, Br J Psychiatry 1979;134:382-389",
        ),
        Scale(
            "hamd17",
            "Hamilton Depression Rating Scale, 17 items",
            0,
            52,
            True,
            True,
            "points",
            "Hamilton, J Neurol Neurosurg Psychiatry 1960;23:56-62",
        ),
        Scale(
            "bpi",
            "Brief Pain Inventory, severity or interference score (mean of 0-10 items)",
            0,
            10,
            False,
            True,
            "points",
            "Cleeland & Ryan, Ann Acad Med Singapore 1994;23(2):129-138",
        ),
    )
}


def scale(key: str) -> Scale:
    try:
        return SCALES[key]
    except KeyError:
        raise ConfigError(f"unknown outcome scale {key!r}: one of {', '.join(SCALES)}") from None


TARGET_METHODS: Final[dict[str, str]] = {
    "beam-f3": "Beam F3",
    "5cm-rule": "5 cm rule",
    "6cm-rule": "6 cm rule",
    "neuronavigation-mri": "neuronavigation (own MRI)",
    "neuronavigation-template": "neuronavigation (template head)",
    "eeg-10-20": "EEG 10-20 cap",
    "motor-hotspot": "motor hotspot (MEP)",
    "other": "other",
}
"""How the coil was placed, as the report names it. Beam F3: the 10-20 F3 point from three
head measurements (Beam et al., Brain Stimul 2009;2(1):50-54); 5/6 cm rule: that far
anterior to the motor hotspot; "other" needs notes saying how."""
