"""Coil heating: each pulse adds heat, the coil cools exponentially towards ambient.

A model, not a measurement: the device-protocols reference only says that a Magstim
disarms and refuses to arm above 40 °C (device-protocols A7, MP `getTemperature`). The
default constants model a cooled coil sized to the stimulator: at the Rapid's
continuous dissipation limit (1050 J/s, TDb087 §3) the coil settles just at 40 °C from
24 °C (rise at equilibrium = power x HEAT_C_PER_J x COOL_TAU_S), so every protocol the
energy rules allow runs, and anything beyond them locks the coil out within minutes.
An air-cooled coil heats far faster: raise `heat_c_per_j` (URL key of the same name).

Temperatures are evaluated lazily at the time asked for, so time may jump (virtual clock).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LOCKOUT_C = 40.0  # device-protocols A7: no arming above 40 °C
RELEASE_C = 39.0  # our model: the lockout clears 1 °C below, so it cannot chatter
COOL_TAU_S = 300.0
HEAT_C_PER_J = 16.0 / (1050.0 * COOL_TAU_S)  # 1050 J/s continuous -> +16 °C at equilibrium


@dataclass
class Winding:
    """One coil winding: its temperature at `since`, decaying towards `ambient_c`."""

    temp_c: float
    since: float
    ambient_c: float
    tau_s: float

    def at(self, t: float) -> float:
        dt = max(0.0, t - self.since)
        return self.ambient_c + (self.temp_c - self.ambient_c) * math.exp(-dt / self.tau_s)

    def set(self, t: float, temp_c: float) -> None:
        self.temp_c = temp_c
        self.since = t


class CoilThermal:
    """Two windings (Magstim `F@` reports two) with a latched over-temperature lockout."""

    def __init__(
        self,
        t: float,
        temp_c: float,
        ambient_c: float,
        *,
        heat_c_per_j: float = HEAT_C_PER_J,
        tau_s: float = COOL_TAU_S,
        lockout_c: float = LOCKOUT_C,
        release_c: float = RELEASE_C,
    ) -> None:
        if tau_s <= 0:
            raise ValueError(f"cooling time constant must be > 0, got {tau_s}")
        self.windings = [Winding(temp_c, t, ambient_c, tau_s), Winding(temp_c, t, ambient_c, tau_s)]
        self.heat_c_per_j = heat_c_per_j
        self.lockout_c = lockout_c
        self.release_c = release_c
        self._locked = False
        self._update_lock(t)

    def temperatures(self, t: float) -> tuple[float, float]:
        return self.windings[0].at(t), self.windings[1].at(t)

    def hottest(self, t: float) -> float:
        return max(self.temperatures(t))

    def set_temperature(self, t: float, temp_c: float, winding: int | None = None) -> None:
        targets = self.windings if winding is None else [self.windings[winding]]
        for w in targets:
            w.set(t, temp_c)
        self._update_lock(t)

    def heat(self, t: float, joules: float) -> None:
        for w in self.windings:
            w.set(t, w.at(t) + joules * self.heat_c_per_j)
        self._update_lock(t)

    def locked_out(self, t: float) -> bool:
        self._update_lock(t)
        return self._locked

    def _update_lock(self, t: float) -> None:
        hottest = self.hottest(t)
        if hottest >= self.lockout_c:
            self._locked = True
        elif self._locked and hottest <= self.release_c:
            self._locked = False
