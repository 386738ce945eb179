"""The device monitor: polls the device, keeps its readings and the link's evidence.

One `poll` reads the device's status and judges it with the watchdog (pure,
`watchdog.assess_status`): a coil at the stop limit, a removed coil, a device error or
a self-disarm fault the session; a warm coil holds the next train (DEV-2); a link that
fails (ConnectionLost) or stays silent past the heartbeat timeout faults it (DEV-3).
The monitor does not act: it hands the loop a `Reading` (alarms to raise, the fault that
ends the session, whether to hold) and keeps what the pulse counter needs to bound a
train it could not see (`evidence`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stimctl.clock import Clock
from stimctl.errors import ConnectionLost, DriverError
from stimctl.hal import DeviceStatus, Stimulator
from stimctl.session.live import LiveState
from stimctl.session.pulse_count import Evidence, link_failed_since
from stimctl.session.recorder import Recorder
from stimctl.session.watchdog import (
    Action,
    Alarm,
    Priority,
    WatchdogLimits,
    assess_status,
    link_loss,
)

TEMPERATURE_LOG_STEP_C = 0.1  # journal the coil temperature when it moves this much...
TEMPERATURE_LOG_EVERY_S = 5.0  # ...or at least this often


@dataclass(frozen=True)
class Reading:
    """What one poll found: the alarms to raise in order, the one that ends the
    session (also in `alarms`), and whether the next train must wait (DEV-2)."""

    alarms: list[Alarm] = field(default_factory=list)
    fault: Alarm | None = None
    hold: bool = False


class DeviceMonitor:
    def __init__(
        self,
        driver: Stimulator,
        clock: Clock,
        limits: WatchdogLimits,
        live: LiveState,
        recorder: Recorder,
    ) -> None:
        self.driver = driver
        self.clock = clock
        self.limits = limits
        self.live = live
        self.recorder = recorder
        self.link_lost = False
        """The port is gone: what the device did since is unseen."""
        self.last_link_error: float | None = None
        self.last_healthy: float | None = None
        """The last reading with nothing that faults."""
        self.fault_at: float | None = None
        """When a fault was first detected."""
        self._last_logged: tuple[float, float] | None = None

    @property
    def last_reply(self) -> float | None:
        return self.live.last_reply

    def poll(self, *, expect_armed: bool) -> Reading:
        now = self.clock.now()
        try:
            status = self.driver.status()
        except ConnectionLost as exc:
            self.link_lost = True
            alarm = Alarm("DEV-3", Priority.HIGH, f"link lost: {exc}", Action.FAULT)
            return Reading([alarm], alarm)
        except DriverError:
            self.live.link_error()
            self.last_link_error = now
            last = self.live.last_reply
            silent_since = last if last is not None else self.live.schedule.t0
            silence = link_loss(now - silent_since, self.limits)
            return Reading() if silence is None else Reading([silence], silence)
        self.note(status)
        raised: list[Alarm] = []
        hold = False
        for alarm in assess_status(status, self.limits, expect_armed=expect_armed):
            raised.append(alarm)
            if alarm.action is Action.FAULT:
                return Reading(raised, alarm)
            hold = hold or alarm.action is Action.HOLD
        self.last_healthy = status.read_at
        return Reading(raised, None, hold)

    def note(self, status: DeviceStatus) -> None:
        """Keep a reading (also those `wait_ready` took); journal the coil temperature
        when it moved or at least every few seconds."""
        temperature = status.coil_temperature_c
        self.live.reading(status.read_at, temperature)
        if temperature is None:
            return
        last = self._last_logged
        changed = last is None or abs(temperature - last[1]) >= TEMPERATURE_LOG_STEP_C
        if changed or status.read_at - (last[0] if last else 0.0) >= TEMPERATURE_LOG_EVERY_S:
            self._last_logged = (status.read_at, temperature)
            self.recorder.coil_temperature(temperature, status.read_at)

    def mark_fault(self) -> None:
        if self.fault_at is None:
            self.fault_at = self.clock.now()

    def link_failed(self, since: float) -> bool:
        """The link failed since `since`: latched, a driver fault, or a silent link."""
        return (
            self.link_lost
            or isinstance(self.driver.fault, ConnectionLost)
            or link_failed_since(since, self.last_link_error, self.live.last_reply)
        )

    def evidence(self, since: float) -> Evidence:
        return Evidence(
            self.link_failed(since), self.live.last_reply, self.fault_at, self.last_healthy
        )
