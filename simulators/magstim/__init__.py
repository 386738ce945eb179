"""Magstim 200², BiStim² and Rapid² simulators (device-protocols PART A)."""

from simulators.magstim.models import BiStimSimulator, Magstim200Simulator
from simulators.magstim.rapid import RapidSimulator

__all__ = ["BiStimSimulator", "Magstim200Simulator", "RapidSimulator"]
