"""`Stimulator`: the one abstract base every driver derives from.

Template methods (style-anchors 1.1, 1.8): the public methods here check preconditions,
validate values against `Capabilities` (reject, never clip), log, and then call a small
`_do_*` hook that a driver implements. Override the hooks, never the public methods.

Fail closed: `open` leaves the device disarmed, `close` disarms, `safe_stop` disarms from
any state without raising, and a status the driver cannot read is `ArmState.UNKNOWN`,
which every precondition treats as "possibly armed".

Whole output state (issue 12 item 1, ADR 0010): `arm` first puts every setting
that decides what a trigger delivers into the planned state (`OutputPlan`, single pulse
unless `plan_output` says otherwise), reads the device back and arms only when the
read-back is the plan; otherwise `OutputStateMismatch`. Drivers supply three hooks:
`_do_wanted_output`, `_do_apply_output`, `_do_read_output`.
"""

from __future__ import annotations

import abc
import dataclasses
import logging
import math
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar

from stimctl.clock import Clock, MonotonicClock
from stimctl.errors import (
    ConfigError,
    ConnectionLost,
    NotReadyYet,
    OutputStateMismatch,
    SafetyViolation,
    StateError,
    StimctlError,
)
from stimctl.hal._capabilities import (
    ArmState,
    Capabilities,
    DeviceIdentity,
    DeviceStatus,
    SafeStopReport,
    TrainSpec,
)
from stimctl.hal._fire import VIA_SERIAL, FireReceipt
from stimctl.hal._output import SINGLE_PULSE, OutputPlan, OutputState, Setting, differences

if TYPE_CHECKING:  # importing the transport at runtime would pull in pyserial
    from stimctl.hal._transport import Transport
    from stimctl.hal._trigger import TriggerLine

log = logging.getLogger(__name__)

STATUS_LEAD_MAX_S = 0.05
"""Longest lead of the READY check before a scheduled trigger (a link slower than this
makes the pulse late rather than checking the unit long before it fires)."""


class Stimulator(abc.ABC):
    """A connected stimulator.

    Drivers are constructed as ``Driver(port_url, *, clock=None, transport=None,
    **options)``: `port_url` is any pyserial URL; `transport` replaces opening
    `port_url` (tests inject a scripted port this way). Nothing touches the port before
    `open()`.
    """

    vendor: ClassVar[str] = ""
    model: ClassVar[str] = ""
    pulses_seen: int | None = None
    """Pulses the device reported since `open` (drivers whose `Capabilities.reports_pulses`
    is set count them here); None for a device that reports none."""

    def __init__(
        self, port_url: str, *, clock: Clock | None = None, transport: Transport | None = None
    ) -> None:
        self.port_url = port_url
        self.clock: Clock = clock or MonotonicClock()
        self._given_transport = transport
        self._is_open = False
        self._train: TrainSpec | None = None
        self._fault: StimctlError | None = None
        self.on_fault: Callable[[StimctlError], None] | None = None
        self._output_plan: OutputPlan = SINGLE_PULSE
        self._intensity: dict[str, int] = {}  # what set_intensity last set, per output
        # Set by `open` when the device was found armed and had to be disarmed (a crashed
        # host left it so: MagPro has no keep-alive to disarm it, device-protocols B7).
        # The CLI prints it; None when the device was found in standby.
        self.found_armed_at_open: str | None = None
        self._trigger: TriggerLine | None = None
        self._status_read_s = 0.0  # how long the last status read before a trigger took

    # -- lifecycle -----------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._is_open

    @property
    def fault(self) -> StimctlError | None:
        """The last error a background thread (keep-alive, reader) reported, if any."""
        return self._fault

    def open(self) -> DeviceStatus:
        """Connect, take remote control, and leave the device disarmed."""
        if self._is_open:
            raise StateError(f"{self.model} on {self.port_url} is already open")
        log.info("opening %s on %s", self.model, self.port_url)
        self._fault = None
        self._intensity = {}
        self.found_armed_at_open = None
        try:
            self._do_open()
            self._is_open = True
            status = self._do_status()
            if status.may_be_armed:
                found = status.arm_state
                self._do_disarm()
                status = self._do_status()
                self.found_armed_at_open = found_armed_notice(self.model, self.port_url, found)
                log.warning("%s", self.found_armed_at_open)
            if status.may_be_armed:
                raise StateError(f"{self.model} did not disarm after open ({status.arm_state})")
        except BaseException:
            self._is_open = False
            self._close_quietly()
            raise
        return status

    def close(self) -> None:
        """Disarm (best effort) and release the port and the attached trigger line.
        Idempotent; never leaves it armed."""
        if not self._is_open:
            self._release_trigger()
            return
        log.info("closing %s on %s", self.model, self.port_url)
        try:
            self._do_disarm()
        except StimctlError as exc:
            log.warning("disarm on close failed: %s", exc)
        finally:
            self._is_open = False
            self._close_quietly()
            self._release_trigger()

    def __enter__(self) -> Stimulator:
        if not self._is_open:
            self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- queries -------------------------------------------------------------------

    def identify(self) -> DeviceIdentity:
        self._require_open()
        return self._do_identify()

    def capabilities(self) -> Capabilities:
        """Works before `open` too (nominal values from the constructor options)."""
        return self._do_capabilities()

    def status(self) -> DeviceStatus:
        self._require_open()
        return self._do_status()

    # -- settings ------------------------------------------------------------------

    def set_intensity(self, percent: float, *, output: str = "A") -> None:
        """Set the output intensity in % of maximum stimulator output; never clipped."""
        self._require_open()
        caps = self._do_capabilities()
        if output not in caps.outputs:
            raise ConfigError(f"{caps.model} has outputs {caps.outputs}, not {output!r}")
        value = _whole_percent(percent)
        low, high = caps.output_range_pct
        if not low <= value <= high:
            raise SafetyViolation(
                f"intensity {percent} % is outside {caps.model}'s range {low}-{high} %",
                rule="device-range",
            )
        if output != "A":
            self._plan_second_output(output, value)
        log.info("%s: set intensity %s = %d %%", self.model, output, value)
        self._do_set_intensity(value, output)
        self._intensity[output] = value
        # Read it back now too: a dose change between trains happens while armed, where
        # no later `arm` would catch a device that ignored it.
        key = f"power_{output.lower()}"
        self._check_output({key: value}, self._do_read_output(), disarm=True)

    def plan_output(self, plan: OutputPlan) -> None:
        """Plan what each trigger delivers beyond output A's intensity (default: single
        pulse). Only in standby; applied and read back by the next `arm`."""
        self._require_open()
        self._do_check_output_plan(plan)  # before any byte: a plan it cannot do writes nothing
        self._require_state({ArmState.STANDBY}, "change the output plan")
        log.info("%s: output plan %s", self.model, plan)
        self._output_plan = plan

    @property
    def output_plan(self) -> OutputPlan:
        return self._output_plan

    def _plan_second_output(self, output: str, value: int) -> None:
        paired = self._output_plan.paired
        if paired is None:
            if value != 0:
                raise ConfigError(
                    f"{self.model}: output {output} stays off in a single-pulse plan; "
                    "plan a paired pulse first (plan_output)"
                )
            return
        self._output_plan = dataclasses.replace(
            self._output_plan, paired=dataclasses.replace(paired, second_percent=value)
        )

    def verify_output(self) -> None:
        """Read the device back and compare it with the plan; never changes a setting.
        Raises `OutputStateMismatch` (and disarms) when it differs."""
        self._require_open()
        self._check_output(self._wanted_output(), self._do_read_output(), disarm=True)

    def configure_train(self, spec: TrainSpec) -> None:
        """Load a device-timed train. Only while disarmed (device-protocols A8.2, B7)."""
        self._require_open()
        caps = self._do_capabilities()
        if not caps.device_timed_trains:
            raise ConfigError(f"{caps.model} has no device-timed trains; time them on the host")
        _check_train(spec, caps)
        self._require_state({ArmState.STANDBY}, "configure a train")
        log.info("%s: configure train %s", self.model, spec)
        self._train = None
        self._do_configure_train(spec)
        self._train = spec

    # -- output --------------------------------------------------------------------

    def arm(self) -> DeviceStatus:
        """Arm; a no-op if already armed or ready (a second arm is a device conflict)."""
        self._require_open()
        status = self._do_status()
        wanted = self._wanted_output()
        if status.arm_state in (ArmState.ARMED, ArmState.READY):
            # Settings cannot change while armed (A7, B4): check only, disarm if wrong.
            self._check_output(wanted, self._do_read_output(), disarm=True)
            return status
        # The whole planned state, output A included: the front panel (or a MagPro
        # operator, B7) may have changed it since `set_intensity`. Only re-sent when it
        # differs: a Rapid refuses settings for 0.5 s after a train (A8.2).
        if self._do_read_output().get("power_a") != wanted["power_a"]:
            self._do_set_intensity(int(wanted["power_a"]), "A")
        self._do_apply_output(self._output_plan)
        self._check_output(wanted, self._do_read_output(), disarm=False)
        log.info("%s: arm", self.model)
        self._do_arm()
        return self._do_status()

    def _wanted_output(self) -> dict[str, Setting]:
        power_a = self._intensity.get("A")
        if power_a is None:
            raise StateError(f"{self.model}: set the intensity before arming")
        return {"power_a": power_a, **self._do_wanted_output(self._output_plan)}

    def _check_output(self, wanted: OutputState, read: OutputState, *, disarm: bool) -> None:
        found = differences(wanted, read)
        if not found:
            return
        if disarm:
            self.safe_stop()
        name, want, got = found[0]
        extra = "; ".join(f"{n} reads {g!r}, planned {w!r}" for n, w, g in found[1:])
        error = OutputStateMismatch(self.model, self.port_url, name, want, got)
        if extra:
            error.args = (f"{error.args[0]} (also: {extra})",)
        log.error("%s", error)
        raise error

    def wait_ready(self, timeout_s: float = 2.0, poll_s: float = 0.1) -> DeviceStatus:
        """Poll until READY (a Magstim takes up to 1 s, device-protocols A7)."""
        self._require_open()
        deadline = self.clock.now() + timeout_s
        while True:
            status = self._do_status()
            if status.arm_state is ArmState.READY:
                return status
            if status.arm_state is ArmState.STANDBY:
                raise StateError(f"{self.model} is in standby; arm it first")
            if self.clock.now() >= deadline:
                raise StateError(f"{self.model} not ready after {timeout_s} s ({status.arm_state})")
            self.clock.sleep(poll_s)

    def disarm(self) -> DeviceStatus:
        """Disarm unconditionally (idempotent on the device)."""
        self._require_open()
        log.info("%s: disarm", self.model)
        self._do_disarm()
        return self._do_status()

    def attach_trigger(self, line: TriggerLine | None) -> None:
        """Fire through `line` (an open `TriggerLine` cabled to the unit's Trigger In)
        instead of the serial fire command; None detaches it. The driver owns the line
        from now on: `close` closes it too. Only while disarmed."""
        if line is not None and not line.is_open:
            raise StateError(f"trigger line {line.url} is not open")
        if self._is_open:
            self._require_state({ArmState.STANDBY}, "change the trigger")
        log.info("%s: trigger %s", self.model, "serial" if line is None else line.url)
        self._trigger = line

    @property
    def trigger(self) -> TriggerLine | None:
        """The attached trigger line, or None (fire over serial)."""
        return self._trigger

    def fire(self, *, scheduled_s: float | None = None) -> FireReceipt:
        """One pulse (or one device-timed train in train mode). Requires READY.

        Returns how and when the trigger left the host (`FireReceipt`); `scheduled_s`
        is the clock time the caller meant it to leave, carried into the receipt. With
        a trigger line attached, the line is pulsed (at `scheduled_s` if that is still
        ahead) and its receipt returned; without one, the serial fire command is sent.
        A scheduled trigger's READY check is made one status read ahead of its time (a
        unit recharging between the pulses of a burst is READY only shortly before), and
        again at its time when the unit was still recharging then (`_ready_for`).
        """
        self._require_open()
        line = self._trigger
        if line is not None and scheduled_s is not None:
            self._ready_for(scheduled_s)
        else:
            self._require_state({ArmState.READY}, "fire")
        if line is not None:
            log.info("%s: fire through %s", self.model, line.url)
            return self._do_trigger(line, scheduled_s)
        log.info("%s: fire", self.model)
        self._do_fire()
        return FireReceipt(VIA_SERIAL, self.clock.now(), scheduled_s)

    def _ready_for(self, scheduled_s: float) -> None:
        """READY before a scheduled trigger. Checked as late as possible but early enough
        that the edge can still leave on time: one status read (as long as the last one
        took, at most `STATUS_LEAD_MAX_S`) ahead. A unit still recharging then is asked
        again at the scheduled time, and refused (StateError) if it is not READY by then:
        a pulse into a recharging unit would be journaled but not delivered."""
        lead = min(self._status_read_s, STATUS_LEAD_MAX_S)
        if scheduled_s - lead > self.clock.now():
            self.clock.sleep_until(scheduled_s - lead)
        started = self.clock.now()
        status = self._do_status()
        self._status_read_s = max(0.0, self.clock.now() - started)
        if status.arm_state is ArmState.READY:
            return
        if scheduled_s > self.clock.now():
            self.clock.sleep_until(scheduled_s)
        self._require_state({ArmState.READY}, "fire")

    def _do_trigger(self, line: TriggerLine, scheduled_s: float | None) -> FireReceipt:
        """Pulse the trigger line; drivers with a pacing rule of their own wrap this."""
        return line.pulse(scheduled_s)

    def _release_trigger(self) -> None:
        line = self._trigger
        if line is None:
            return
        try:
            line.close()
        except Exception as exc:
            log.warning("closing trigger line %s: %s", line.url, exc)

    def start_train(self) -> None:
        """Start the configured device-timed train. Requires READY and `configure_train`."""
        self._require_open()
        if not self._do_capabilities().device_timed_trains:
            raise ConfigError(f"{self.model} has no device-timed trains")
        if self._train is None:
            raise StateError(f"{self.model}: configure_train before start_train")
        self._require_state({ArmState.READY}, "start a train")
        log.info("%s: start train %s", self.model, self._train)
        self._do_start_train()

    def safe_stop(self) -> SafeStopReport:
        """Disarm from any state. Never raises: failures are reported and logged."""
        if not self._is_open:
            return SafeStopReport(disarmed=True)
        log.warning("%s: safe stop", self.model)
        try:
            self._do_disarm()
            status = self._do_status()
        except Exception as exc:
            log.error("%s: safe stop could not confirm disarm: %s", self.model, exc)
            return SafeStopReport(disarmed=False, error=str(exc) or type(exc).__name__)
        if status.may_be_armed:
            return SafeStopReport(disarmed=False, error=f"device reports {status.arm_state.value}")
        return SafeStopReport(disarmed=True)

    # -- helpers for drivers -------------------------------------------------------

    def _report_fault(self, exc: StimctlError) -> None:
        """Called by background threads. Never raises into the thread."""
        log.error("%s: background fault: %s", self.model, exc)
        self._fault = exc
        callback = self.on_fault
        if callback is not None:
            try:
                callback(exc)
            except Exception:
                log.exception("on_fault callback failed")

    def _require_open(self) -> None:
        if not self._is_open:
            raise StateError(f"{self.model} on {self.port_url} is not open")
        if isinstance(self._fault, ConnectionLost):
            raise self._fault

    def _require_state(self, allowed: set[ArmState], action: str) -> None:
        status = self._do_status()
        if status.arm_state not in allowed:
            wanted = "/".join(sorted(s.value for s in allowed))
            message = f"cannot {action}: {self.model} is {status.arm_state.value}, not {wanted}"
            if status.arm_state is ArmState.ARMED and ArmState.READY in allowed:
                raise NotReadyYet(message)  # still recharging
            raise StateError(message)

    def _close_quietly(self) -> None:
        try:
            self._do_close()
        except Exception as exc:
            log.warning("closing %s: %s", self.model, exc)

    # -- hooks ---------------------------------------------------------------------

    @abc.abstractmethod
    def _do_open(self) -> None:
        """Open the transport and take remote control. Do not arm."""

    @abc.abstractmethod
    def _do_close(self) -> None:
        """Release remote control if possible, stop threads, close the transport."""

    @abc.abstractmethod
    def _do_identify(self) -> DeviceIdentity: ...

    @abc.abstractmethod
    def _do_capabilities(self) -> Capabilities: ...

    @abc.abstractmethod
    def _do_status(self) -> DeviceStatus:
        """Read the device now; UNKNOWN arm state if the reply does not say."""

    @abc.abstractmethod
    def _do_set_intensity(self, percent: int, output: str) -> None: ...

    @abc.abstractmethod
    def _do_configure_train(self, spec: TrainSpec) -> None: ...

    @abc.abstractmethod
    def _do_arm(self) -> None: ...

    @abc.abstractmethod
    def _do_disarm(self) -> None: ...

    @abc.abstractmethod
    def _do_fire(self) -> None: ...

    @abc.abstractmethod
    def _do_start_train(self) -> None: ...

    def _do_check_output_plan(self, plan: OutputPlan) -> None:
        """Refuse (ConfigError) a plan this model cannot deliver. Default: single pulse
        only; drivers that can do more override it."""
        if not plan.single_pulse or plan.enhanced_power:
            raise ConfigError(f"{self.model} can only deliver single pulses, not {plan}")

    @abc.abstractmethod
    def _do_wanted_output(self, plan: OutputPlan) -> OutputState:
        """Every output setting besides `power_a`, as `_do_read_output` reports it, that
        the device must hold for `plan`."""

    @abc.abstractmethod
    def _do_apply_output(self, plan: OutputPlan) -> None:
        """Send every output setting of `plan` (standby only). No read-back needed here:
        the base reads back with `_do_read_output` and compares."""

    @abc.abstractmethod
    def _do_read_output(self) -> OutputState:
        """Read back from the device every output setting, including `power_a`; a value
        the device does not report is left out (and then counts as different)."""


def found_armed_notice(model: str, port_url: str, found: ArmState) -> str:
    """The line the CLI prints when `open` had to disarm a device (issue 12 item 8)."""
    state = "armed" if found in (ArmState.ARMED, ArmState.READY) else "possibly armed"
    return (
        f"the {model} on {port_url} was found {state} (left by a crashed session?) and was disarmed"
    )


def _whole_percent(percent: float) -> int:
    """Both vendors set intensity in whole percent: 50.5 is refused, not rounded."""
    if isinstance(percent, bool) or not isinstance(percent, int | float):
        raise ConfigError(f"intensity must be a number, got {percent!r}")
    if not math.isfinite(percent) or percent != int(percent):
        raise SafetyViolation(
            f"intensity {percent!r} % is not a whole percent; the device cannot set it",
            rule="device-resolution",
        )
    return int(percent)


def _check_train(spec: TrainSpec, caps: Capabilities) -> None:
    low, high = caps.frequency_range_hz
    if not low <= spec.frequency_hz <= high:
        raise SafetyViolation(
            f"train frequency {spec.frequency_hz} Hz is outside {caps.model}'s {low}-{high} Hz",
            rule="device-range",
        )
    steps = spec.frequency_hz / caps.frequency_step_hz
    if abs(steps - round(steps)) > 1e-6:
        raise SafetyViolation(
            f"train frequency {spec.frequency_hz} Hz is not a multiple of "
            f"{caps.frequency_step_hz} Hz",
            rule="device-resolution",
        )
    if caps.max_pulses is not None and spec.pulses > caps.max_pulses:
        raise SafetyViolation(
            f"{spec.pulses} pulses exceed {caps.model}'s maximum of {caps.max_pulses}",
            rule="device-range",
        )
    limit = caps.max_train_duration_s
    if spec.duration_s is not None and limit is not None and spec.duration_s > limit:
        raise SafetyViolation(
            f"train duration {spec.duration_s} s exceeds {caps.model}'s {limit} s",
            rule="device-range",
        )
