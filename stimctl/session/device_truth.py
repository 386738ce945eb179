"""One source of device truth: the connected unit against its profile (issue 14 item 2).

The safety engine reads the device profile (TOML); the plan and the driver read what the
driver reports. At open both must agree, else the session is refused before anything is
set or armed, naming both values: vendor, model, maximum output, and the frequency range
of device-timed trains. (The software version is journaled with the identity; profiles
do not yet name the versions they cover.)
"""

from __future__ import annotations

from stimctl.device_profiles import DeviceProfile
from stimctl.errors import ConfigError
from stimctl.hal import Capabilities, DeviceIdentity

_EPSILON = 1e-9


def disagreements(
    profile: DeviceProfile, identity: DeviceIdentity, caps: Capabilities
) -> list[str]:
    """Each place where the driver's report and the profile differ, both values named."""
    found = []
    if identity.vendor.lower() != profile.vendor:
        found.append(f"vendor: profile {profile.vendor!r}, device {identity.vendor!r}")
    if profile.model is not None:
        for what, reported in (("model", caps.model), ("identity", identity.model)):
            if reported != profile.model:
                found.append(f"{what}: profile {profile.model!r}, device {reported!r}")
    top = caps.output_range_pct[1]
    if abs(top - profile.max_output_percent_mso) > _EPSILON:
        found.append(
            f"maximum output: profile {profile.max_output_percent_mso:g}% MSO, device {top}%"
        )
    if profile.device_timed_trains and caps.device_timed_trains:
        low, high = caps.frequency_range_hz
        if (
            abs(low - profile.min_frequency_hz) > _EPSILON
            or abs(high - profile.max_frequency_hz) > _EPSILON
        ):
            found.append(
                f"train frequency: profile {profile.min_frequency_hz:g}-"
                f"{profile.max_frequency_hz:g} Hz, device {low:g}-{high:g} Hz"
            )
    return found


def check_device(profile: DeviceProfile, identity: DeviceIdentity, caps: Capabilities) -> None:
    """Refuse a unit that is not the one its profile describes (ConfigError, exit 2)."""
    found = disagreements(profile, identity, caps)
    if found:
        raise ConfigError(
            f"the connected device is not the one profile {profile.name!r} describes ("
            + "; ".join(found)
            + "): choose the profile of the connected unit"
        )
