"""An in-memory Stimulator for testing the base class's rules (no bytes involved)."""

from __future__ import annotations

from stimctl.clock import VirtualClock
from stimctl.errors import ConnectionLost
from stimctl.hal import (
    ArmState,
    Capabilities,
    DeviceIdentity,
    DeviceStatus,
    OutputPlan,
    OutputState,
    Stimulator,
    TrainSpec,
)


class FakeStimulator(Stimulator):
    """Records every hook call; `dead` makes every hook raise ConnectionLost."""

    vendor = "Fake"
    model = "Fake-1"

    def __init__(self, *, initial: ArmState = ArmState.STANDBY, sticky_arm: bool = False) -> None:
        super().__init__("fake://", clock=VirtualClock())
        self.state = initial
        self.sticky_arm = sticky_arm  # disarm has no effect (a stuck device)
        self.calls: list[str] = []
        self.dead = False
        self.closed = False
        # The output settings the fake device holds; `ignore_settings` makes it keep them.
        self.held: dict[str, int | str | bool] = {"power_b": 0}
        self.ignore_settings = False

    def _hook(self, name: str) -> None:
        if self.dead:
            raise ConnectionLost("cable pulled")
        self.calls.append(name)

    def _do_open(self) -> None:
        self._hook("open")

    def _do_close(self) -> None:
        self.closed = True
        self.calls.append("close")

    def _do_identify(self) -> DeviceIdentity:
        return DeviceIdentity(vendor=self.vendor, model=self.model)

    def _do_capabilities(self) -> Capabilities:
        return Capabilities(
            model=self.model,
            output_range_pct=(0, 100),
            frequency_range_hz=(0.1, 50.0),
            device_timed_trains=True,
            keepalive_period_s=None,
            max_pulses=6000,
            max_train_duration_s=100.0,
        )

    def _do_status(self) -> DeviceStatus:
        self._hook("status")
        return DeviceStatus(self.state, True, True, None, None, self.clock.now())

    def _do_set_intensity(self, percent: int, output: str) -> None:
        self._hook(f"intensity {output}={percent}")
        if not self.ignore_settings:
            self.held[f"power_{output.lower()}"] = percent

    def _do_wanted_output(self, plan: OutputPlan) -> OutputState:
        return {"power_b": 0}

    def _do_apply_output(self, plan: OutputPlan) -> None:
        self._hook("apply output")
        if not self.ignore_settings:
            self.held["power_b"] = 0

    def _do_read_output(self) -> OutputState:
        self._hook("read output")
        return dict(self.held)

    def _do_configure_train(self, spec: TrainSpec) -> None:
        self._hook("train")

    def _do_arm(self) -> None:
        self._hook("arm")
        self.state = ArmState.READY

    def _do_disarm(self) -> None:
        self._hook("disarm")
        if not self.sticky_arm:
            self.state = ArmState.STANDBY

    def _do_fire(self) -> None:
        self._hook("fire")

    def _do_start_train(self) -> None:
        self._hook("start_train")
