"""Dry runs: a device profile's built-in simulator behind a real pyserial port.

stimctl never imports `simulators` by name (ARCHITECTURE rule 1): the simulator package
is found through the entry-point group `stimctl.simulators`, like drivers. The driver
talks to the simulator through pyserial's `stimsim://` URL handler, unchanged; this
module only keeps a handle on the live simulator for fault injection and for comparing
its own pulse log with the journal.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from stimctl.clock import Clock, MonotonicClock, ScaledClock, SimulatedClock
from stimctl.device_profiles import DeviceProfile
from stimctl.errors import ConfigError, StateError
from stimctl.plausible import MAX_SESSION_DURATION_S

if TYPE_CHECKING:
    from stimctl.hal import Transport
    from stimctl.session.engine import SessionEngine
    from stimctl.session.runner import Prepared

GROUP = "stimctl.simulators"
_names = itertools.count()


class SimulatedPulse(Protocol):
    """One pulse in a simulator's own log (`simulators.core.Pulse`)."""

    @property
    def time(self) -> float: ...
    @property
    def intensity(self) -> int: ...
    @property
    def channel(self) -> str: ...


class FaultSwitches(Protocol):
    """The simulator's behaviour faults a dry run may switch on."""

    ignore_disarm: bool
    ignore_settings: bool
    sticky_b_power: bool


@runtime_checkable
class SimulatorHandle(Protocol):
    """What stimctl uses of a live simulator: fault injection and its pulse log (issue 14
    item 4). stimctl never imports `simulators`; the port hands the simulator over."""

    @property
    def faults(self) -> FaultSwitches: ...
    @property
    def pulses(self) -> Sequence[SimulatedPulse]: ...
    @property
    def armed(self) -> bool: ...

    def set_coil_temperature(self, temp_c: float, winding: int | None = None) -> None: ...
    def pull_cable(self) -> None: ...
    def remove_coil(self) -> None: ...
    def set_error(self, code: str | int, *, fatal: bool = False) -> None: ...


def simulator_package() -> ModuleType:
    """The simulator package registered under `stimctl.simulators` (name `stimsim`)."""
    found = [ep for ep in entry_points(group=GROUP) if ep.name == "stimsim"]
    if not found:
        raise ConfigError(
            f"no simulator package is installed (entry point group {GROUP!r}, name 'stimsim')"
        )
    try:
        loaded = found[0].load()
    except Exception as exc:
        raise ConfigError(f"the simulator package failed to load: {exc}") from None
    if not isinstance(loaded, ModuleType):
        raise ConfigError(f"entry point {found[0].value} is not a module")
    return loaded


def install_stimsim() -> ModuleType:
    """Install the `stimsim://` URL handler (one explicit call, idempotent)."""
    package = simulator_package()
    package.install_url_handler()
    return package


MIN_SPEED = 0.01
MAX_SPEED = 10_000.0
"""A speed factor outside this is a typing error; `max` is the way to run unpaced."""


def parse_speed(text: str) -> Clock:
    """`realtime`, `max` (simulated time), or a factor like `10`."""
    if text == "realtime":
        return MonotonicClock()
    if text == "max":
        return SimulatedClock()
    try:
        factor = float(text)
    except ValueError:
        raise ConfigError(f"--speed: {text!r} is not realtime, max or a number") from None
    if not MIN_SPEED <= factor <= MAX_SPEED:  # also refuses nan and inf
        raise ConfigError(f"--speed: {text!r} must be within {MIN_SPEED:g}-{MAX_SPEED:g}")
    return MonotonicClock() if factor == 1 else ScaledClock(factor)


FAULT_KINDS = (
    "overheat",
    "link-loss",
    "coil-removed",
    "device-error",
    "ignore-disarm",
    "ignore-settings",  # output settings acknowledged, nothing changes (issue 12 item 1)
    "sticky-b-power",  # output B keeps its power (BiStim², MagPro)
)


@dataclass(frozen=True)
class FaultAt:
    kind: str
    at_s: float


def parse_faults(specs: tuple[str, ...]) -> list[FaultAt]:
    """`KIND@SECONDS` (seconds after the session start), e.g. `overheat@120`."""
    faults = []
    for spec in specs:
        kind, _, at = spec.partition("@")
        if kind not in FAULT_KINDS:
            raise ConfigError(f"--fault {spec!r}: kind must be one of {', '.join(FAULT_KINDS)}")
        try:
            seconds = float(at or "0")
        except ValueError:
            raise ConfigError(f"--fault {spec!r}: '{at}' is not a number of seconds") from None
        if not 0 <= seconds <= MAX_SESSION_DURATION_S:  # also refuses nan and inf
            raise ConfigError(
                f"--fault {spec!r}: time must be within 0-{MAX_SESSION_DURATION_S:g} s"
            )
        faults.append(FaultAt(kind, seconds))
    return faults


class SimulatedDevice:
    """The built-in simulator of a device profile, on `stimsim://`, sharing the clock."""

    def __init__(self, profile: DeviceProfile, clock: Clock, **extra: str) -> None:
        if profile.simulator is None:
            raise ConfigError(f"device profile {profile.name} has no built-in simulator")
        self.profile = profile
        self.clock = clock
        self._package = install_stimsim()
        self._clock_name = f"dryrun{next(_names)}"
        self._package.register_clock(self._clock_name, clock)
        separator = "&" if "?" in profile.simulator else "?"
        # Options both sides of a dry run need, from the profile (a Rapid² v9+ takes
        # remote control only with its unit's unlock code, device-protocols A8.1).
        self.driver_options: dict[str, str] = {}
        for key, value in profile.dry_run_options.items():
            extra.setdefault(key, str(value))
            self.driver_options[key] = extra[key]
        options = "".join(f"&{k}={v}" for k, v in extra.items())
        self.url = f"stimsim://{profile.simulator}{separator}clock={self._clock_name}{options}"
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self.simulator: SimulatorHandle | None = None
        self.on_error: Callable[[str, BaseException], None] | None = None
        """Told when a fault injector fails (the session must fault, not run on unaware)."""

    def __enter__(self) -> SimulatedDevice:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        self._package.unregister_clock(self._clock_name)

    def open_transport(self) -> Transport:
        """Open the simulator's port; the driver gets it as its transport."""
        import serial

        from stimctl.hal import Transport

        port = serial.serial_for_url(self.url, baudrate=9600, timeout=0.02)
        simulator = getattr(port, "simulator", None)  # pyserial's handler object
        if not isinstance(simulator, SimulatorHandle):
            port.close()
            raise ConfigError(f"{self.url}: the simulator behind the port has no fault handle")
        self.simulator = simulator
        return Transport(port, url=self.url)

    def schedule_faults(self, faults: list[FaultAt]) -> None:
        start = self.clock.now()
        for fault in faults:
            thread = threading.Thread(
                target=self._inject_later,
                args=(fault, start),
                name=f"fault-{fault.kind}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()

    def _inject_later(self, fault: FaultAt, start: float) -> None:
        self.clock.sleep_until(start + fault.at_s)
        while self.clock.now() < start + fault.at_s and not self._stop.is_set():
            self.clock.sleep_until(start + fault.at_s)  # frozen time wakes early
        if self._stop.is_set():
            return
        try:
            self.inject(fault.kind)
        except Exception as exc:  # a dead injector thread must not go unnoticed
            callback = self.on_error
            if callback is None:
                raise
            callback(f"fault injector {fault.kind}@{fault.at_s:g}", exc)

    def inject(self, kind: str) -> None:
        sim = self.simulator
        if sim is None:
            raise StateError("no live simulator attached")
        if kind == "overheat":
            sim.set_coil_temperature(41.0)
        elif kind == "link-loss":
            sim.pull_cable()
        elif kind == "coil-removed":
            sim.remove_coil()
        elif kind == "device-error":
            sim.set_error("1", fatal=False)
        elif kind == "ignore-disarm":
            sim.faults.ignore_disarm = True
        elif kind == "ignore-settings":
            sim.faults.ignore_settings = True
        elif kind == "sticky-b-power":
            sim.faults.sticky_b_power = True

    def pulse_log(self) -> list[SimulatedPulse]:
        return list(self.simulator.pulses) if self.simulator is not None else []

    def check_disarmed(self) -> bool:
        """True when the simulator itself says it is not armed (the test of fail-closed)."""
        sim = self.simulator
        return sim is None or not sim.armed


def open_simulated_session(
    prepared: Prepared, sim: SimulatedDevice, **options: Any
) -> SessionEngine:
    """`open_session` on the simulator's port, moving simulated time while it connects."""
    from stimctl.clock import driving
    from stimctl.session.runner import open_session

    with driving(sim.clock):
        return open_session(
            prepared,
            sim.url,
            clock=sim.clock,
            transport=sim.open_transport(),
            driver_options=sim.driver_options,
            **options,
        )
