"""The runtime guard between the engine and the driver.

Every command the engine is about to send is re-checked against the limits of the safety
verdict (`for_verdict`: the figures of the compiled plan the verdict judged, not the plan
the engine holds, issue 14 item 1): every set-intensity and every fire against the
highest checked % MSO, pulses delivered so far against the checked total, the minimum
interval since the last train, and the coil temperature. A refusal raises `SafetyViolation`
naming its rule; the engine then goes to `fault` and disarms (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stimctl.errors import SafetyViolation
from stimctl.protocol.plan import Plan
from stimctl.safety.verdict import Verdict

EPSILON = 1e-9
# Host timing can start a train a little early relative to the nominal interval
# (the previous train's end is measured, the next onset is an absolute deadline).
ITI_TOLERANCE_S = 0.05


@dataclass
class GuardLimits:
    max_intensity_percent_mso: int
    total_pulses: int
    min_interval_s: float
    coil_stop_c: float
    coil_warn_c: float
    source: str = "runtime guard (plan as checked by the safety engine)"


@dataclass
class RuntimeGuard:
    limits: GuardLimits
    delivered: int = 0
    last_train_end: float | None = None
    refusals: list[SafetyViolation] = field(default_factory=list)

    @classmethod
    def for_verdict(
        cls, verdict: Verdict, *, coil_stop_c: float, coil_warn_c: float
    ) -> RuntimeGuard:
        """Limits from what the safety engine judged (`evaluate(..., plan=...)`)."""
        figures: Any = verdict.derived.get("plan")
        if not isinstance(figures, dict):
            raise SafetyViolation(
                "GUARD-VERDICT: the verdict judged no compiled plan; nothing may be sent",
                rule="GUARD-VERDICT",
                source="runtime guard",
            )
        return cls(
            GuardLimits(
                max_intensity_percent_mso=int(figures["max_intensity_percent_mso"]),
                total_pulses=int(figures["total_pulses"]),
                min_interval_s=max(0.0, float(figures["min_interval_s"]) - ITI_TOLERANCE_S),
                coil_stop_c=coil_stop_c,
                coil_warn_c=coil_warn_c,
                source="runtime guard (limits of the safety verdict)",
            )
        )

    def check_plan(self, plan: Plan) -> None:
        """The plan the engine will execute, against the verdict's limits, before arming."""
        for train in plan.trains:
            self.check_intensity(train.intensity_percent_mso)
        total = sum(t.pulses for t in plan.trains)
        if total > self.limits.total_pulses:
            self._refuse(
                "GUARD-PULSES",
                f"the plan holds {total} pulses, the verdict {self.limits.total_pulses}",
            )

    @classmethod
    def for_plan(cls, plan: Plan, *, coil_stop_c: float, coil_warn_c: float) -> RuntimeGuard:
        """Limits from a plan itself: for benchmarks and unit tests only; sessions take
        theirs from the verdict (`for_verdict`)."""
        iti = plan.derived.inter_train_interval_s
        return cls(
            GuardLimits(
                max_intensity_percent_mso=plan.max_intensity_percent_mso,
                total_pulses=plan.total_pulses,
                min_interval_s=max(0.0, (iti or 0.0) - ITI_TOLERANCE_S),
                coil_stop_c=coil_stop_c,
                coil_warn_c=coil_warn_c,
            )
        )

    def _refuse(self, rule: str, message: str) -> None:
        violation = SafetyViolation(f"{rule}: {message}", rule=rule, source=self.limits.source)
        self.refusals.append(violation)
        raise violation

    def check_intensity(self, percent_mso: int) -> None:
        if percent_mso > self.limits.max_intensity_percent_mso:
            self._refuse(
                "GUARD-INT",
                f"{percent_mso}% MSO is above the checked {self.limits.max_intensity_percent_mso}%",
            )
        if percent_mso < 0:
            self._refuse("GUARD-INT", f"{percent_mso}% MSO is negative")

    def check_pulses(self, pulses: int) -> None:
        if self.delivered + pulses > self.limits.total_pulses:
            self._refuse(
                "GUARD-PULSES",
                f"{self.delivered} delivered + {pulses} would exceed the planned "
                f"{self.limits.total_pulses}",
            )

    def check_interval(self, now: float) -> None:
        if self.last_train_end is None:
            return
        elapsed = now - self.last_train_end
        if elapsed + EPSILON < self.limits.min_interval_s:
            self._refuse(
                "GUARD-ITI",
                f"only {elapsed:.3f} s since the last train; at least "
                f"{self.limits.min_interval_s:.3f} s",
            )

    def check_temperature(self, coil_c: float | None) -> None:
        if coil_c is None:
            return
        if coil_c >= self.limits.coil_stop_c - EPSILON:
            self._refuse("DEV-1", f"coil at {coil_c:.1f} °C, stop limit {self.limits.coil_stop_c}")
        if coil_c >= self.limits.coil_warn_c - EPSILON:
            self._refuse(
                "DEV-2", f"coil at {coil_c:.1f} °C: no new train above {self.limits.coil_warn_c}"
            )

    def before_train(
        self, *, now: float, pulses: int, percent_mso: int, coil_c: float | None
    ) -> None:
        self.check_intensity(percent_mso)
        self.check_pulses(pulses)
        self.check_interval(now)
        self.check_temperature(coil_c)

    def pulse_delivered(self, count: int = 1) -> None:
        self.delivered += count
        if self.delivered > self.limits.total_pulses:
            self._refuse(
                "DEV-4",
                f"the device reports {self.delivered} pulses, more than the planned "
                f"{self.limits.total_pulses}",
            )

    def train_ended(self, now: float) -> None:
        self.last_train_end = now
