"""Magstim 200^2 and BiStim^2 (device-protocols A4, TDb086)."""

from __future__ import annotations

import logging
import math

from drivers.magstim._base import ARMED_KEEPALIVE_S, IDLE_KEEPALIVE_S, MagstimDriver
from drivers.magstim.codec import Reply
from drivers.magstim.commands import (
    GetParameters,
    GetSystemMode,
    HighResOff,
    HighResOn,
    SetInterval,
    SetPowerA,
    SetPowerB,
)
from stimctl.clock import Clock
from stimctl.errors import ConfigError, DeviceRejected, ProtocolError, SafetyViolation
from stimctl.hal import ArmState, Capabilities, OutputPlan, OutputState, TrainSpec, Transport

# Single-pulse state of a BiStim² (issue 12 item 1): output B at 0 % so no second pulse,
# low-resolution timing, and an interval that is not 0 (000 selects simultaneous
# discharge, which changes the output of A, device-protocols A4 `C` and A7). 10 ms is the
# value the unit itself takes when high resolution is switched off (A7).
SINGLE_INTERVAL_RAW = 10
# `X@` mode characters of a master unit (A3, CB): 2 low-res, 4 high-res timing.
MODE_LOW_RES, MODE_HIGH_RES = "2", "4"


log = logging.getLogger(__name__)


class Magstim200Driver(MagstimDriver):
    """Magstim 200^2: one output, single pulses, no device-timed trains.

    ``Magstim200Driver(port_url, *, clock=None, transport=None, reply_timeout_s=0.5,
    keepalive=True)``
    """

    model = "Magstim 200²"

    def _do_capabilities(self) -> Capabilities:
        return Capabilities(
            model=self.model,
            output_range_pct=(0, 100),
            frequency_range_hz=(0.0, 0.0),
            device_timed_trains=False,
            keepalive_period_s=IDLE_KEEPALIVE_S,
            keepalive_armed_period_s=ARMED_KEEPALIVE_S,
            telemetry=frozenset({"coil_temperature"}),
        )

    def _do_set_intensity(self, percent: int, output: str) -> None:
        self.transact(SetPowerA(percent))

    def _do_configure_train(self, spec: TrainSpec) -> None:
        raise ConfigError(f"{self.model} has no device-timed trains")

    def _do_start_train(self) -> None:
        raise ConfigError(f"{self.model} has no device-timed trains")

    def get_parameters(self) -> Reply:
        """Power A (and on a BiStim power B and interval), A4 `J`."""
        return self.transact(GetParameters())

    # -- whole output state (issue 12 item 1) --------------------------------------

    def _do_wanted_output(self, plan: OutputPlan) -> OutputState:
        # A 200² has one output; its `J` reply carries "000" where a BiStim² reports power
        # B (A4). A BiStim² driven through a 200² profile, with B powered, would fire B
        # unseen: the read-back refuses it (the profile is wrong).
        return {"power_b": 0}

    def _do_apply_output(self, plan: OutputPlan) -> None:
        """Power A was set by `set_intensity` (and by `arm` if it changed); a 200² has
        nothing else to set."""

    def _do_read_output(self) -> OutputState:
        reply = self.get_parameters()
        read: dict[str, int | str | bool] = {}
        if reply.power_a is not None:
            read["power_a"] = reply.power_a
        if reply.power_b is not None:
            read["power_b"] = reply.power_b
        return read


class BiStimDriver(Magstim200Driver):
    """BiStim^2: outputs A and B, inter-pulse interval, low/high-resolution timing.

    ``BiStimDriver(port_url, *, clock=None, transport=None, reply_timeout_s=0.5,
    keepalive=True, high_res=False)``. `high_res` is the timing mode set at `open` (the
    device does not report it reliably, A7), so the driver always knows the interval unit.
    """

    model = "BiStim²"

    def __init__(
        self,
        port_url: str,
        *,
        clock: Clock | None = None,
        transport: Transport | None = None,
        reply_timeout_s: float = 0.5,
        keepalive: bool = True,
        high_res: bool = False,
    ) -> None:
        super().__init__(
            port_url,
            clock=clock,
            transport=transport,
            reply_timeout_s=reply_timeout_s,
            keepalive=keepalive,
        )
        self._high_res = high_res
        self._system_mode_known = True  # until the unit refuses `X@` (CB only, A3)

    @property
    def high_res(self) -> bool:
        return self._high_res

    def _do_capabilities(self) -> Capabilities:
        return Capabilities(
            model=self.model,
            output_range_pct=(0, 100),
            frequency_range_hz=(0.0, 0.0),
            device_timed_trains=False,
            keepalive_period_s=IDLE_KEEPALIVE_S,
            keepalive_armed_period_s=ARMED_KEEPALIVE_S,
            outputs=("A", "B"),
            telemetry=frozenset({"coil_temperature"}),
        )

    def _enable_remote(self) -> Reply:
        reply = super()._enable_remote()
        # Put the timing mode in a known state: the device does not report it (A7).
        self.transact(HighResOn() if self._high_res else HighResOff())
        try:
            self.system_mode()
            self._system_mode_known = True
        except DeviceRejected:
            # `X@` is documented only by CB (A3): a unit that does not know it cannot
            # report its timing mode. Power B = 0 alone keeps B silent in a single-pulse
            # plan, so go on without it rather than lock such a unit out.
            log.warning("%s does not answer X@: timing mode not read back", self.model)
            self._system_mode_known = False
        return reply

    def _do_set_intensity(self, percent: int, output: str) -> None:
        self.transact(SetPowerA(percent) if output == "A" else SetPowerB(percent))

    def set_timing_mode(self, *, high_res: bool) -> None:
        """Switch low/high-resolution timing; never while armed (A7). The device resets
        the interval to 1 ms (high) or 10 ms (low)."""
        self._require_open()
        self._require_state({ArmState.STANDBY}, "change the timing mode")
        self.transact(HighResOn() if high_res else HighResOff())
        self._high_res = high_res

    def set_interval_ms(self, interval_ms: float) -> None:
        """Inter-pulse interval A->B: 0-999 ms (low-res) or 0.0-99.9 ms in 0.1 ms (high-res);
        0 selects simultaneous discharge (A4 `C`). Refused, never rounded."""
        self._require_open()
        raw = _interval_raw(interval_ms, high_res=self._high_res)
        self.transact(SetInterval(raw))

    def interval_ms(self) -> float:
        """The interval the device holds, in ms (A4 `J`, scaled by the timing mode)."""
        reply = self.get_parameters()
        if reply.interval is None:
            raise ProtocolError("parameter reply without an interval")
        return reply.interval / 10 if self._high_res else float(reply.interval)

    def system_mode(self) -> str:
        """The BiStim mode character of `X@` (A3; CB only)."""
        reply = self.transact(GetSystemMode())
        return reply.mode_char or ""

    # -- whole output state (issue 12 item 1) --------------------------------------

    def _do_check_output_plan(self, plan: OutputPlan) -> None:
        if plan.burst_pulses != 1 or plan.enhanced_power:
            raise ConfigError(f"{self.model} has no bursts and no enhanced power")
        if plan.waveform is not None or plan.current_direction is not None:
            raise ConfigError(f"{self.model} has no settable waveform or current direction")
        if plan.paired is not None:
            _interval_raw(plan.paired.interval_ms, high_res=self._high_res)

    def _planned_b(self, plan: OutputPlan) -> tuple[int, int, bool]:
        """(power B, raw interval, high resolution) the device must hold for `plan`."""
        if plan.paired is None:
            return 0, SINGLE_INTERVAL_RAW, False
        raw = _interval_raw(plan.paired.interval_ms, high_res=self._high_res)
        return plan.paired.second_percent, raw, self._high_res

    def _do_wanted_output(self, plan: OutputPlan) -> OutputState:
        power_b, raw, high_res = self._planned_b(plan)
        wanted: dict[str, int | str | bool] = {"power_b": power_b, "interval_raw": raw}
        if self._system_mode_known:
            wanted["system_mode"] = MODE_HIGH_RES if high_res else MODE_LOW_RES
        return wanted

    def _do_apply_output(self, plan: OutputPlan) -> None:
        power_b, raw, high_res = self._planned_b(plan)
        # The timing mode first: switching it resets the interval (A7).
        self.transact(HighResOn() if high_res else HighResOff())
        self._high_res = high_res
        self.transact(SetInterval(raw))
        self.transact(SetPowerB(power_b))

    def _do_read_output(self) -> OutputState:
        reply = self.get_parameters()
        read: dict[str, int | str | bool] = {}
        for key, value in (
            ("power_a", reply.power_a),
            ("power_b", reply.power_b),
            ("interval_raw", reply.interval),
        ):
            if value is not None:
                read[key] = value
        if self._system_mode_known:
            read["system_mode"] = self.system_mode()
        return read


def _interval_raw(interval_ms: float, *, high_res: bool) -> int:
    if isinstance(interval_ms, bool) or not isinstance(interval_ms, int | float):
        raise ConfigError(f"interval must be a number of ms, got {interval_ms!r}")
    if not math.isfinite(interval_ms) or interval_ms < 0:
        raise SafetyViolation(f"interval {interval_ms} ms is out of range", rule="device-range")
    scaled = interval_ms * 10 if high_res else interval_ms
    raw = round(scaled)
    if abs(scaled - raw) > 1e-6:
        unit = "0.1 ms" if high_res else "1 ms"
        raise SafetyViolation(
            f"interval {interval_ms} ms is not a multiple of {unit}", rule="device-resolution"
        )
    if raw > 999:
        top = "99.9" if high_res else "999"
        raise SafetyViolation(
            f"interval {interval_ms} ms exceeds {top} ms in this timing mode", rule="device-range"
        )
    return raw
