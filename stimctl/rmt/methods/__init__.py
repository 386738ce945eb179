"""Threshold methods, each a state machine: `next_intensity()` then `observe(reading)`."""

from stimctl.rmt.methods.base import ABSOLUTE_MAX_PERCENT_MSO, HuntLimits, ThresholdMethod
from stimctl.rmt.methods.mills_nithi import MillsNithi
from stimctl.rmt.methods.ml_pest import MlPest
from stimctl.rmt.methods.relative_frequency import RelativeFrequency

__all__ = [
    "ABSOLUTE_MAX_PERCENT_MSO",
    "HuntLimits",
    "MillsNithi",
    "MlPest",
    "RelativeFrequency",
    "ThresholdMethod",
]
