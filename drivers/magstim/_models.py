"""Magstim 200^2 and BiStim^2 (device-protocols A4, TDb086)."""

from __future__ import annotations

import math

from drivers.magstim._base import ARMED_KEEPALIVE_S, IDLE_KEEPALIVE_S, MagstimDriver
from drivers.magstim.codec import Reply
from stimctl.clock import Clock
from stimctl.errors import ConfigError, ProtocolError, SafetyViolation
from stimctl.hal import ArmState, Capabilities, TrainSpec, Transport


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
        self.transact("set_power_a", percent=percent)

    def _do_configure_train(self, spec: TrainSpec) -> None:
        raise ConfigError(f"{self.model} has no device-timed trains")

    def _do_start_train(self) -> None:
        raise ConfigError(f"{self.model} has no device-timed trains")

    def get_parameters(self) -> Reply:
        """Power A (and on a BiStim power B and interval), A4 `J`."""
        return self.transact("get_parameters")


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
        self.transact("high_res_on" if self._high_res else "high_res_off")
        return reply

    def _do_set_intensity(self, percent: int, output: str) -> None:
        self.transact("set_power_a" if output == "A" else "set_power_b", percent=percent)

    def set_timing_mode(self, *, high_res: bool) -> None:
        """Switch low/high-resolution timing; never while armed (A7). The device resets
        the interval to 1 ms (high) or 10 ms (low)."""
        self._require_open()
        self._require_state({ArmState.STANDBY}, "change the timing mode")
        self.transact("high_res_on" if high_res else "high_res_off")
        self._high_res = high_res

    def set_interval_ms(self, interval_ms: float) -> None:
        """Inter-pulse interval A->B: 0-999 ms (low-res) or 0.0-99.9 ms in 0.1 ms (high-res);
        0 selects simultaneous discharge (A4 `C`). Refused, never rounded."""
        self._require_open()
        raw = _interval_raw(interval_ms, high_res=self._high_res)
        self.transact("set_interval", raw=raw)

    def interval_ms(self) -> float:
        """The interval the device holds, in ms (A4 `J`, scaled by the timing mode)."""
        reply = self.get_parameters()
        if reply.interval is None:
            raise ProtocolError("parameter reply without an interval")
        return reply.interval / 10 if self._high_res else float(reply.interval)

    def system_mode(self) -> str:
        """The BiStim mode character of `X@` (A3; CB only)."""
        reply = self.transact("get_system_mode")
        return reply.mode_char or ""


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
