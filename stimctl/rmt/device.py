"""Threshold pulses through a stimulator driver: the `stimulate` of `stimctl.rmt.hunt`.

`DeviceStimulus(intensity)` delivers one single pulse: set the intensity (whole % MSO,
checked by the driver against the device's range, never clipped), arm if not armed, wait
until ready, fire. `device_stimulus` opens the driver for a hunt and fails closed: however
the hunt ends (stop rule, error, Ctrl-C), `safe_stop` disarms and the port is released.

`open_hunt_device` picks the stimulator: a real port, or the device profile's built-in
simulator (`stimsim://`, or no port at all) with an optional virtual subject under its
coil, whose MEPs `SimulatorEmgSource` reads back from the simulator's pulse log.

Under `stimctl.clock.SimulatedClock` the thread that opens the device, runs the hunt and
closes the device must take part in the timeline (`stimctl.clock.driving`), or a read
waiting for a reply would wait for ever.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from stimctl.clock import Clock, SharedTimeline, driving
from stimctl.driver_gate import check_site_driver, load_site_driver
from stimctl.errors import ConfigError, SafetyViolation
from stimctl.hal import FireReceipt, SafeStopReport, Stimulator
from stimctl.rmt.methods.base import HuntLimits
from stimctl.rmt.runner import PulseInterval
from stimctl.rmt.simulator_source import SimulatorEmgSource

if TYPE_CHECKING:
    from stimctl.device_profiles import DeviceProfile
    from stimctl.hal import Transport

log = logging.getLogger(__name__)

SIMULATOR_SCHEME = "stimsim://"
# A Magstim recharges for a few seconds after a strong pulse (device-protocols A7); the
# hunt's 4-5 s interval normally covers it, this only bounds a device that never gets ready.
READY_TIMEOUT_S = 10.0
_ROUNDING_S = 1e-9
# Keys of a `stimsim://` port URL the hunt sets itself (the clock) or takes from its own
# options (the virtual subject: --virtual-rmt, --seed).
_RESERVED_SPEC_KEYS = {"clock": "the hunt supplies its own clock"} | dict.fromkeys(
    ("subject_rmt", "subject_seed"), "give the virtual subject with --virtual-rmt and --seed"
)


class DeviceStimulus:
    """One single pulse per call, through an open driver.

    Refuses (SafetyViolation) a pulse sooner after the last one than the device's
    single-pulse rate allows, whatever the caller's pacing: the last gate before the coil.

    `disarm_between_pulses` (default: only on devices without a keep-alive watchdog, the
    MagPro, device-protocols B7) disarms right after each pulse. A Magstim stays armed
    between pulses, as operators run it (re-arming would click and cue the subject before
    each pulse); if the host or the link dies, its keep-alive watchdog disarms it
    (ARCHITECTURE rule 5). A device without a watchdog would stay armed, so the host
    keeps it armed only around each pulse.
    """

    def __init__(
        self,
        driver: Stimulator,
        *,
        clock: Clock,
        max_rate_hz: float,
        ready_timeout_s: float = READY_TIMEOUT_S,
        disarm_between_pulses: bool | None = None,
    ) -> None:
        if not (math.isfinite(max_rate_hz) and max_rate_hz > 0):
            raise ConfigError(f"single-pulse rate must be > 0 Hz, got {max_rate_hz!r}")
        self.driver = driver
        self.clock = clock
        self.min_gap_s = 1.0 / max_rate_hz
        self.ready_timeout_s = ready_timeout_s
        if disarm_between_pulses is None:
            disarm_between_pulses = driver.capabilities().keepalive_period_s is None
        self.disarm_between_pulses = disarm_between_pulses
        self.fired = 0
        self.stop_report: SafeStopReport | None = None
        self.last_receipt: FireReceipt | None = None
        """How and when the last pulse left (journaled with it: LSL markers use the time)."""
        self._last_fire: float | None = None

    def __call__(self, intensity: int) -> None:
        if isinstance(intensity, bool) or not isinstance(intensity, int):
            raise ConfigError(f"a threshold pulse needs a whole % MSO, got {intensity!r}")
        now = self.clock.now()
        # The tolerance absorbs float rounding of clock sums ((t + 4.0) - t < 4.0 for some t).
        if self._last_fire is not None and now - self._last_fire < self.min_gap_s - _ROUNDING_S:
            raise SafetyViolation(
                f"pulse {now - self._last_fire:.3g} s after the last one; "
                f"{self.driver.model} allows single pulses every {self.min_gap_s:g} s at most",
                rule="single-pulse-rate",
            )
        self.driver.set_intensity(intensity)
        self.driver.arm()  # a no-op while armed or ready
        self.driver.wait_ready(timeout_s=self.ready_timeout_s)
        self.last_receipt = self.driver.fire()
        self._last_fire = self.clock.now()
        self.fired += 1
        if self.disarm_between_pulses:
            self.driver.disarm()


def check_hunt_fits_device(
    profile: DeviceProfile, limits: HuntLimits, interval: PulseInterval
) -> None:
    """Before the first pulse: the intensity cap and the pacing must suit the device."""
    if limits.max_intensity > profile.max_output_percent_mso:
        raise ConfigError(
            f"intensity cap {limits.max_intensity} % MSO is above {profile.name}'s maximum "
            f"output {profile.max_output_percent_mso:g} % MSO"
        )
    min_gap_s = 1.0 / profile.single_pulse_max_rate_hz
    if interval.minimum_s < min_gap_s:
        raise ConfigError(
            f"inter-pulse interval {interval.minimum_s:g} s is shorter than {profile.name}'s "
            f"single-pulse limit of one every {min_gap_s:g} s"
        )


@contextlib.contextmanager
def device_stimulus(
    profile: DeviceProfile,
    port_url: str,
    *,
    clock: Clock,
    transport: Transport | None = None,
    driver_options: Mapping[str, Any] | None = None,
) -> Iterator[DeviceStimulus]:
    """Open `profile`'s driver on `port_url`; disarm and close it however the block ends.

    The driver is built as `load_site_driver(profile.driver)(port_url, clock=clock,
    **profile.driver_options, **driver_options)` (plus `transport` when given): in
    clinical mode only a driver on the site's allow-list loads.
    `stop_report` on the yielded stimulus says whether the final disarm was confirmed.
    """
    options: dict[str, Any] = {**profile.driver_options, **(driver_options or {})}
    if transport is not None:
        options["transport"] = transport
    try:
        driver = load_site_driver(profile.driver)(port_url, clock=clock, **options)
    except TypeError as exc:  # an option this driver does not take
        raise ConfigError(f"driver {profile.driver}: {exc}") from None
    with _on_timeline(clock):
        driver.open()  # leaves the device disarmed, or raises having closed it
        stimulus = DeviceStimulus(driver, clock=clock, max_rate_hz=profile.single_pulse_max_rate_hz)
        try:
            yield stimulus
        finally:
            # Fail closed: disarm first, then release the port (close disarms once more).
            stimulus.stop_report = driver.safe_stop()
            if not stimulus.stop_report.disarmed:
                log.error(
                    "%s: disarm not confirmed after the hunt: %s",
                    profile.name,
                    stimulus.stop_report.error,
                )
            driver.close()


@dataclass
class HuntDevice:
    """The stimulator a hunt fires through.

    `simulator` is the live simulator of a dry run (typed Any: stimctl never imports
    `simulators`), None on hardware.
    """

    stimulate: DeviceStimulus
    simulator: Any = None

    @property
    def simulated(self) -> bool:
        return self.simulator is not None

    def emg_source(self) -> SimulatorEmgSource:
        """MEPs of the virtual subject under the simulated coil, pulse by pulse."""
        if self.simulator is None:
            raise ConfigError("only a simulated device reports MEPs; this one is hardware")
        return SimulatorEmgSource(self.simulator)


def is_simulator_url(port_url: str | None) -> bool:
    return port_url is not None and port_url.strip().lower().startswith(SIMULATOR_SCHEME)


@contextlib.contextmanager
def open_hunt_device(
    profile: DeviceProfile,
    port_url: str | None,
    *,
    clock: Clock,
    subject_rmt: float | None = None,
    subject_seed: int | None = None,
    driver_options: Mapping[str, Any] | None = None,
) -> Iterator[HuntDevice]:
    """Open the stimulator of a hunt; disarmed and closed when the block ends.

    `port_url` None or `stimsim://...`: the profile's built-in simulator on `clock`, with a
    virtual subject of true threshold `subject_rmt` (seed `subject_seed`) under its coil
    when given. Keys of a `stimsim://` URL are passed on to that simulator; its model
    must be the profile's. Any other URL: the real device; a virtual subject is refused,
    since its made-up responses would be read as the real subject's.
    """
    check_site_driver(profile.driver)  # before a simulator starts or a port opens
    if not is_simulator_url(port_url) and port_url is not None:
        if subject_rmt is not None:
            raise ConfigError(
                "a virtual subject goes with a simulated device only (omit --port or give "
                "a stimsim:// port): pulses from a real coil must not be judged by made-up MEPs"
            )
        with device_stimulus(
            profile, port_url, clock=clock, driver_options=driver_options
        ) as stimulus:
            yield HuntDevice(stimulus)
        return
    extra = simulator_options(profile, port_url)
    if subject_rmt is not None:
        extra["subject_rmt"] = repr(float(subject_rmt))
        if subject_seed is not None:
            extra["subject_seed"] = str(subject_seed)
    # Imported here: the session package is only needed for dry runs.
    from stimctl.session.simulation import SimulatedDevice

    with SimulatedDevice(profile, clock, **extra) as device:
        with _on_timeline(clock):
            transport = device.open_transport()
        options = {**device.driver_options, **(driver_options or {})}
        with device_stimulus(
            profile, device.url, clock=clock, transport=transport, driver_options=options
        ) as stimulus:
            yield HuntDevice(stimulus, device.simulator)


def simulator_options(profile: DeviceProfile, port_url: str | None) -> dict[str, str]:
    """The keys of a `stimsim://MODEL?k=v` port beyond those of the profile's simulator."""
    if profile.simulator is None:
        raise ConfigError(f"device profile {profile.name} has no built-in simulator")
    base_model, base = _split(profile.simulator)
    if port_url is None:
        return {}
    model, pairs = _split(port_url.strip()[len(SIMULATOR_SCHEME) :])
    if model != base_model:
        raise ConfigError(
            f"--port {port_url!r} simulates {model or 'nothing'}, but {profile.name}'s "
            f"simulator is {base_model}"
        )
    extra: dict[str, str] = {}
    for key, value in pairs.items():
        if key in _RESERVED_SPEC_KEYS:
            raise ConfigError(f"--port: key {key!r} is not allowed: {_RESERVED_SPEC_KEYS[key]}")
        if key not in base:
            extra[key] = value
        elif base[key] != value:
            raise ConfigError(
                f"--port: {key}={value} contradicts {profile.name}'s simulator ({key}={base[key]})"
            )
    return extra


def _split(spec: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(f"{SIMULATOR_SCHEME}{spec}")
    model = (parts.netloc + parts.path).strip("/").lower()
    pairs: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in pairs:
            raise ConfigError(f"simulator spec {spec!r}: key {key!r} given twice")
        pairs[key] = value
    return model, pairs


@contextlib.contextmanager
def _on_timeline(clock: Clock) -> Iterator[None]:
    """Take part in a SimulatedClock's timeline unless this thread already does."""
    if isinstance(clock, SharedTimeline) and clock.is_participant():
        yield
        return
    with driving(clock):
        yield
