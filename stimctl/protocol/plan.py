"""Compile a checked protocol into a plan of steps (the bluesky "plan as data" idea).

The plan is pure data: what to set, when each train starts relative to the session
start, how each train is delivered (timed by the device, or by the host firing single
pulses on absolute deadlines). The engine executes it; the runtime guard checks each
step against the limits of the verdict. It lives in `stimctl.protocol` and is a pure
function of protocol, subject dose and device timing (issue 14 item 1) so that the safety
engine can evaluate the compiled plan itself: what is checked is what is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from typing import Protocol as TypingProtocol

from stimctl.errors import ConfigError
from stimctl.plausible import MAX_PULSES_PER_SESSION
from stimctl.protocol.derived import Derived, derive, train_intensity_percent_rmt
from stimctl.protocol.dose import ROUNDING, to_device
from stimctl.protocol.dose import device_percent as device_percent
from stimctl.protocol.models import Protocol, ThetaBurstPattern

TrainTiming = Literal["device", "host"]


@dataclass(frozen=True)
class PlannedTrain:
    index: int
    onset_s: float
    """Planned onset relative to the session start (absolute deadline, no drift)."""
    pulses: int
    pulse_offsets_s: tuple[float, ...]
    """Offset of each pulse from the train onset (host-timed trains fire at these)."""
    intensity_percent_rmt: float
    intensity_percent_mso: int
    """What the device is set to: whole % MSO, rounded down (never above the checked dose)."""
    frequency_hz: float
    duration_s: float
    delivered_percent_rmt: float
    """`intensity_percent_mso` in % of the reference threshold: what is delivered (the
    "rmt" names are % of the threshold the dose refers to, the AMT for a % AMT protocol)."""


@dataclass(frozen=True)
class Plan:
    protocol_name: str
    timing: TrainTiming
    trains: tuple[PlannedTrain, ...]
    derived: Derived
    rmt_percent_mso: float
    max_intensity_percent_mso: int
    total_pulses: int
    rounding_note: str
    """How the dose was rounded to the device's 1% resolution (journaled)."""

    @property
    def duration_s(self) -> float:
        last = self.trains[-1]
        return last.onset_s + last.duration_s


def pulse_offsets(protocol: Protocol, derived: Derived) -> tuple[float, ...]:
    pattern = protocol.pattern
    if isinstance(pattern, ThetaBurstPattern):
        bursts = derived.pulses_per_train // pattern.pulses_per_burst
        return tuple(
            b / pattern.burst_rate_hz + p / pattern.burst_frequency_hz
            for b in range(bursts)
            for p in range(pattern.pulses_per_burst)
        )
    period = 1.0 / derived.pulse_frequency_hz
    return tuple(i * period for i in range(derived.pulses_per_train))


class PlanCompiler(TypingProtocol):
    """What `stimctl.session.runner.prepare` calls to compile (a seam for tests that
    inject a wrong compiler and see the verdict refuse its plan)."""

    def __call__(
        self,
        protocol: Protocol,
        rmt_percent_mso: float,
        *,
        device_timed_trains: bool,
        session_index: int = 0,
    ) -> Plan: ...


def compile_plan(
    protocol: Protocol,
    rmt_percent_mso: float,
    *,
    device_timed_trains: bool,
    session_index: int = 0,
) -> Plan:
    """The plan for one session: device-timed trains where the device has them."""
    derived = derive(protocol)
    offsets = pulse_offsets(protocol, derived)
    tbs = isinstance(protocol.pattern, ThetaBurstPattern)
    # Theta burst needs bursts inside trains, which the device-timed train commands do
    # not describe; at 1 Hz and below single pulses fired by the host are allowed
    # (Rapid² serial trigger: at most 1 Hz, device-protocols A7) and each one is then
    # journaled as it happens.
    slow = derived.pulse_frequency_hz <= 1.0
    timing: TrainTiming = "device" if device_timed_trains and not tbs and not slow else "host"
    iti = derived.inter_train_interval_s or 0.0
    period = derived.train_duration_s + iti
    trains = []
    for index in range(derived.trains):
        pct_rmt = _intensity(protocol, rmt_percent_mso, index, session_index)
        dose = to_device(pct_rmt, rmt_percent_mso)
        trains.append(
            PlannedTrain(
                index=index,
                onset_s=index * period,
                pulses=derived.pulses_per_train,
                pulse_offsets_s=offsets,
                intensity_percent_rmt=pct_rmt,
                intensity_percent_mso=dose.set_percent_mso,
                frequency_hz=derived.pulse_frequency_hz,
                duration_s=derived.train_duration_s,
                delivered_percent_rmt=dose.delivered_percent,
            )
        )
    top = max(trains, key=lambda t: t.intensity_percent_mso)
    exact = to_device(top.intensity_percent_rmt, rmt_percent_mso).exact_percent_mso
    return Plan(
        protocol_name=protocol.name,
        timing=timing,
        trains=tuple(trains),
        derived=derived,
        rmt_percent_mso=rmt_percent_mso,
        max_intensity_percent_mso=top.intensity_percent_mso,
        total_pulses=derived.total_pulses,
        rounding_note=(
            f"{top.intensity_percent_rmt:g}% RMT of {rmt_percent_mso:g}% MSO = {exact:.2f}% MSO, "
            f"set as {top.intensity_percent_mso}% MSO ({ROUNDING}) = "
            f"{top.delivered_percent_rmt:.1f}% delivered"
        ),
    )


def check_plan(plan: Plan, max_output_percent_mso: float) -> Plan:
    """Refuse a plan that delivers nothing or more than anything sensible, before any device.

    The protocol model already bounds every field and the totals; this is the last look
    at what will actually be sent: at least one pulse, no train set to 0% MSO (a dose
    rounded down to nothing), none above the device, and the total under the ceiling.
    """
    if not plan.trains or plan.total_pulses < 1 or any(t.pulses < 1 for t in plan.trains):
        raise ConfigError(f"{plan.protocol_name}: the plan holds a train without pulses")
    if plan.total_pulses > MAX_PULSES_PER_SESSION:
        raise ConfigError(
            f"{plan.protocol_name}: {plan.total_pulses} pulses is above the plausible ceiling "
            f"of {MAX_PULSES_PER_SESSION} per session"
        )
    for train in plan.trains:
        if not 1 <= train.intensity_percent_mso <= max_output_percent_mso:
            raise ConfigError(
                f"{plan.protocol_name}: train {train.index + 1} would be set to "
                f"{train.intensity_percent_mso}% MSO ({plan.rounding_note}); the device takes "
                f"1-{max_output_percent_mso:g}%"
            )
    return plan


def _intensity(protocol: Protocol, rmt: float, train: int, session: int) -> float:
    if protocol.intensity.percent_mso is not None:
        return protocol.intensity.percent_mso / rmt * 100.0
    if protocol.intensity.percent_amt is not None:
        # % of the threshold the runner passed as `rmt_percent_mso`: the AMT (issue 15)
        return protocol.intensity.percent_amt
    return train_intensity_percent_rmt(protocol, train, session)
