"""Magstim 200^2, BiStim^2 and Rapid^2 drivers (device-protocols part A).

`codec` is the pure wire format; the driver classes add I/O, keep-alive and state.
"""

from drivers.magstim._models import BiStimDriver, Magstim200Driver
from drivers.magstim._rapid import RapidDriver

__all__ = ["BiStimDriver", "Magstim200Driver", "RapidDriver"]
