"""What the checks and fixtures talk to: a device profile's simulator or a real device.

A `Target` says where the stimulator is; `Target.connect()` opens the driver and yields a
`Connection`. On the simulator the connection runs on a `SimulatedClock` and the calling
thread drives it for the whole block (`stimctl.clock.driving`), so keep-alive lapses and
charging take no wall time; on hardware it runs on real time. Either way the driver is
safe-stopped and closed when the block ends, whatever happened inside it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stimctl.driver_gate import check_site_driver, load_site_driver
from stimctl.errors import ConfigError

if TYPE_CHECKING:
    from stimctl.clock import Clock
    from stimctl.hal import Stimulator
    from stimctl.session.simulation import SimulatedDevice

# The profile a driver name stands for when only the driver is given (`--driver magpro`).
REPRESENTATIVE_PROFILE = {
    "magpro": "magpro-x100",
    "magstim-rapid2": "magstim-rapid2-super-plus-240v",
}
DEFAULT_MODEL = "magpro-x100"


@dataclass(frozen=True)
class Target:
    """A stimulator to test. `port` None means the profile's built-in simulator."""

    label: str
    driver: str
    port: str | None = None
    profile: str | None = None
    driver_options: dict[str, Any] = field(default_factory=dict)
    sim_options: dict[str, str] = field(default_factory=dict)

    @property
    def simulated(self) -> bool:
        return self.port is None

    @classmethod
    def simulator(cls, model: str = DEFAULT_MODEL, **sim_options: str) -> Target:
        """The simulator of a device profile (or of a driver's representative profile).

        `sim_options` are simulator spec keys (simulators docstring), e.g.
        `ignore_disarm="1"` or `keepalive_never_lapses="1"`.
        """
        from stimctl.device_profiles import load_profile

        name = resolve_model(model)
        profile = load_profile(name)
        if profile.simulator is None:
            raise ConfigError(f"device profile {name} has no built-in simulator")
        options = {key: str(value) for key, value in sim_options.items()}
        check_site_driver(profile.driver)
        label = name + "".join(f" {k}={v}" for k, v in options.items())
        return cls(label=label, driver=profile.driver, profile=name, sim_options=options)

    @classmethod
    def hardware(cls, port: str, driver: str, **driver_options: Any) -> Target:
        """A real device on `port`: `driver` is a driver name or a device profile name."""
        from stimctl.device_profiles import load_profile, profile_names
        from stimctl.hal import available_drivers

        options: dict[str, Any] = {}
        profile: str | None = None
        if driver in profile_names():
            loaded = load_profile(driver)
            profile, driver = loaded.name, loaded.driver
            options.update(loaded.driver_options)
        elif driver not in available_drivers():
            known = ", ".join(sorted(available_drivers()))
            raise ConfigError(f"unknown driver {driver!r} (drivers: {known}; or a device profile)")
        options.update(driver_options)
        check_site_driver(driver)  # refused here, before any check touches the port
        return cls(
            label=f"{profile or driver} on {port}",
            driver=driver,
            port=port,
            profile=profile,
            driver_options=options,
        )

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """Open the driver (disarmed, as `Stimulator.open` leaves it); close it afterwards."""
        if self.simulated:
            with _simulated_connection(self) as connection:
                yield connection
        else:
            with _hardware_connection(self) as connection:
                yield connection


@dataclass
class Connection:
    """An open driver and, on the simulator, the live simulator behind it."""

    target: Target
    driver: Stimulator
    clock: Clock
    device: SimulatedDevice | None = None

    @property
    def simulated(self) -> bool:
        return self.device is not None

    @property
    def simulator(self) -> Any:
        """The live simulator (`.pulses`, `.armed`, `.faults`, `pull_cable()`...), or None."""
        return None if self.device is None else self.device.simulator

    def device_armed(self) -> bool | None:
        """The simulator's own word on its output stage (None on hardware: ask the driver)."""
        if self.device is None:
            return None
        return not self.device.check_disarmed()

    def wait(self, seconds: float, step_s: float = 0.1) -> None:
        """Let `seconds` pass on the connection's clock in short steps.

        Short steps on a simulated timeline keep the driver's keep-alive thread in step
        with the caller (a single long sleep could pass its deadline in one jump).
        """
        end = self.clock.now() + seconds
        while self.clock.now() < end:
            self.clock.sleep_until(min(end, self.clock.now() + step_s))


def resolve_model(model: str) -> str:
    """A device profile name, or a driver name standing for its representative profile."""
    from stimctl.device_profiles import load_profile, profile_names

    names = profile_names()
    if model in names:
        return model
    if model in REPRESENTATIVE_PROFILE:
        return REPRESENTATIVE_PROFILE[model]
    for name in names:
        if load_profile(name).driver == model:
            return name
    raise ConfigError(f"unknown model {model!r} (device profiles: {', '.join(names)})")


def simulated_models() -> list[str]:
    """Every device profile that has a built-in simulator."""
    from stimctl.device_profiles import load_profile, profile_names

    return [name for name in profile_names() if load_profile(name).simulator is not None]


@contextlib.contextmanager
def _simulated_connection(target: Target) -> Iterator[Connection]:
    from stimctl.clock import SimulatedClock, driving
    from stimctl.device_profiles import load_profile
    from stimctl.session.simulation import SimulatedDevice

    assert target.profile is not None
    profile = load_profile(target.profile)
    driver_cls = load_site_driver(profile.driver)
    clock = SimulatedClock()
    with SimulatedDevice(profile, clock, **target.sim_options) as device, driving(clock):
        options = {**profile.driver_options, **device.driver_options, **target.driver_options}
        driver = driver_cls(device.url, clock=clock, transport=device.open_transport(), **options)
        try:
            driver.open()
            yield Connection(target, driver, clock, device)
        finally:
            with _nudged(clock):
                _release(driver)


@contextlib.contextmanager
def _hardware_connection(target: Target) -> Iterator[Connection]:
    from stimctl.clock import MonotonicClock

    assert target.port is not None
    driver_cls = load_site_driver(target.driver)
    if target.port.startswith("stimsim://"):  # a simulator posing as hardware (real time)
        from stimctl.session.simulation import install_stimsim

        install_stimsim()
    clock = MonotonicClock()
    try:
        driver = driver_cls(target.port, clock=clock, **target.driver_options)
    except TypeError as exc:  # an option this driver does not take
        raise ConfigError(f"driver {target.driver}: {exc}") from None
    try:
        driver.open()
        yield Connection(target, driver, clock)
    finally:
        _release(driver)


@contextlib.contextmanager
def _nudged(clock: Clock) -> Iterator[None]:
    """Wake `SimulatedClock` sleepers while a driver closes.

    Closing joins the driver's keep-alive thread after stepping out of the timeline; a
    sleeper that started waiting while we were a participant only notices that time is now
    frozen at its next 0.5 s wake-up, so each close would cost half a second of wall time.
    `advance(0)` moves nothing and wakes everyone.
    """
    import threading

    advance = getattr(clock, "advance", None)
    if advance is None or getattr(clock, "participate", None) is None:
        yield
        return
    stop = threading.Event()

    def nudge() -> None:
        while not stop.wait(0.005):
            advance(0.0)

    thread = threading.Thread(target=nudge, name="stimctl-testing-nudge", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _release(driver: Stimulator) -> None:
    """Fail closed: disarm, then close, whatever the block did."""
    try:
        driver.safe_stop()
    finally:
        driver.close()
