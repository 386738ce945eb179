"""Coil heating: each pulse adds heat, the coil cools exponentially towards ambient.

A model, not a measurement: the device-protocols reference only says that a Magstim
disarms and refuses to arm above 40 °C (device-protocols A7, MP `getTemperature`). The
constants are chosen so that a 100 % pulse warms the coil by about 0.4 °C and a coil
cools back with a 5-minute time constant, so an aggressive rTMS run locks the unit out
within minutes, as users see on air-cooled coils. All of them are parameters.

Temperatures are evaluated lazily at the time asked for, so time may jump (virtual clock).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LOCKOUT_C = 40.0  # device-protocols A7: no arming above 40 °C
RELEASE_C = 39.0  # our model: the lockout clears 1 °C below, so it cannot chatter
HEAT_C_PER_J = 0.0015
COOL_TAU_S = 300.0


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
