"""MagVenture MagPro R30 / X100 simulators (device-protocols PART B)."""

from simulators.magventure.magpro import (
    MagProR30Simulator,
    MagProSimulator,
    MagProX100Simulator,
)

__all__ = ["MagProR30Simulator", "MagProSimulator", "MagProX100Simulator"]
