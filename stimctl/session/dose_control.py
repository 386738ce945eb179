"""Dose control: the intensity on the device, and the operator's changes to it.

Every set-intensity goes through `apply`, which checks it against the guard (the
verdict's limits, issue 14 item 1), sets it, and journals the setting with the delivered
% RMT and the plan's rounding. A mid-session change (`decide`) needs a reason, a
confirmation to go up, and the safety engine's re-validation (`Revalidate`); an accepted
change converts through `protocol.dose.to_device` (the one conversion) and applies from
the next train on. A refused change is journaled with its refusal and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stimctl.hal import Stimulator
from stimctl.protocol.dose import to_device
from stimctl.protocol.plan import Plan, PlannedTrain
from stimctl.session.guard import RuntimeGuard
from stimctl.session.inbox import ChangeIntensity
from stimctl.session.live import LiveState
from stimctl.session.recorder import Recorder

Revalidate = Callable[[float], tuple[bool, str, int]]
"""New % RMT -> (allowed, reason, new maximum % MSO). Wraps the safety engine."""


@dataclass(frozen=True)
class Decision:
    """The journal payload of a change and the line for the console's event list."""

    payload: dict[str, Any]
    event: str

    @property
    def accepted(self) -> bool:
        return bool(self.payload["accepted"])


class DoseControl:
    def __init__(
        self,
        driver: Stimulator,
        plan: Plan,
        guard: RuntimeGuard,
        live: LiveState,
        recorder: Recorder,
        revalidate: Revalidate | None,
    ) -> None:
        self.driver = driver
        self.plan = plan
        self.guard = guard
        self.live = live
        self.recorder = recorder
        self._revalidate = revalidate
        self.percent_mso = plan.trains[0].intensity_percent_mso
        self.percent_rmt = plan.trains[0].intensity_percent_rmt
        self._override: tuple[int, float] | None = None
        self._set = False

    def for_train(self, train: PlannedTrain) -> tuple[int, float]:
        """(% MSO, % RMT) for `train`: the plan's, or the operator's accepted change."""
        if self._override is not None:
            return self._override
        return train.intensity_percent_mso, train.intensity_percent_rmt

    def apply(self, percent_mso: int, percent_rmt: float) -> None:
        """Set the device (once per change), checked by the guard, journaled."""
        if self._set and percent_mso == self.percent_mso:
            return
        self.guard.check_intensity(percent_mso)  # every set-intensity (issue 14)
        self._set = True
        self.driver.set_intensity(percent_mso)
        self.percent_mso, self.percent_rmt = percent_mso, percent_rmt
        self.live.set_intensity(percent_mso, percent_rmt)
        self.recorder.intensity_set(percent_mso, percent_rmt)

    def decide(self, change: ChangeIntensity) -> Decision:
        """Accept or refuse an operator's change; an accepted one raises the guard's
        intensity limit to the re-validated maximum and applies from the next train."""
        percent_rmt = float(change.percent_rmt)
        reason = change.reason or ""
        going_up = percent_rmt > self.percent_rmt
        refusal = ""
        new_max = self.guard.limits.max_intensity_percent_mso
        if not reason.strip():
            refusal = "an intensity change needs a reason"
        elif going_up and not change.confirmed:
            refusal = "raising the intensity needs confirmation"
        elif self._revalidate is None:
            refusal = "no safety engine to re-validate the change"
        else:
            allowed, why, new_max = self._revalidate(percent_rmt)
            if not allowed:
                refusal = f"the safety engine refuses {percent_rmt:g}% RMT: {why}"
        payload: dict[str, Any] = {
            "percent_rmt": percent_rmt,
            "reason": reason,
            "accepted": not refusal,
        }
        if refusal:
            payload["refusal"] = refusal
            return Decision(payload, f"intensity change refused: {refusal}")
        percent_mso = to_device(percent_rmt, self.plan.rmt_percent_mso).set_percent_mso
        self.guard.limits.max_intensity_percent_mso = new_max
        self._override = (percent_mso, percent_rmt)
        payload["percent_mso"] = percent_mso
        return Decision(
            payload, f"intensity {percent_rmt:g}% RMT = {percent_mso}% MSO from the next train"
        )
