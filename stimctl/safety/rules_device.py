"""Can this device deliver the protocol? (kept apart from the physiological limits)

DEV-FREQ: pulse frequency within the device's range (Rapid²: the maximum frequency at
the requested power). TBS-5: the same for a theta burst's intra-burst frequency.
DEV-ONTIME and ITI-7: the Rapid² energy formulas (device-protocols A9): maximum on-time
63000 / (f x E) s and minimum wait max(0.5, N (f E - 1050) / (1050 f)) s.
DEV-RATE: single-pulse devices cannot run trains faster than they recharge.

Pulses the host triggers one by one (theta burst; any train on a unit without
device-timed trains) are held to the unit's single-trigger rate. On a Rapid² that rate,
1 Hz, is the serial trigger's (TDb087 §5.5 via device-protocols A7): with an external
trigger into its Trigger In (issue 18) the A9 tables govern instead (maximum frequency
at the power: DEV-FREQ/TBS-5 above; energy: DEV-ONTIME, ITI-7). On a 200² or BiStim²
the single-pulse rate is the unit's recharge, which no trigger shortens.
"""

from __future__ import annotations

from stimctl.device_profiles import (
    DeviceProfile,
    energy_at,
    rapid_datasheet_cap,
    rapid_max_frequency_hz,
)
from stimctl.protocol.derived import is_theta_burst
from stimctl.safety.context import Context, find, fmt
from stimctl.safety.verdict import Finding, Severity

EPSILON = 1e-9
ENERGY_SOURCE = "Magstim TDb087 section 3 via device-protocols A9 [V2]"
SERIAL_TRIGGER_SOURCE = "Magstim TDb087 section 5.5 via device-protocols A7 [V2]"


def check_device(ctx: Context) -> list[Finding]:
    device = ctx.device
    if device is None:
        return []
    findings = [_frequency(ctx, device)]
    findings += _host_trigger_rate(ctx, device)
    if device.rapid is not None and _within_output(ctx, device):
        findings += _rapid_energy(ctx, device)
    return findings


def _frequency(ctx: Context, device: DeviceProfile) -> Finding:
    tbs = is_theta_burst(ctx.derived.protocol_class)
    rule = "TBS-5" if tbs else "DEV-FREQ"
    frequency = ctx.derived.pulse_frequency_hz
    maximum = device.max_frequency_hz
    why = f"{device.title} range"
    rapid_max = (
        rapid_max_frequency_hz(device, ctx.dose_percent_mso)
        if _within_output(ctx, device)
        else None  # not deliverable at all: INT-5 blocks it
    )
    source = f"{device.source} [{device.status}]"
    if rapid_max is not None and rapid_max < maximum:
        maximum = rapid_max
        why = f"{device.title} maximum at {fmt(ctx.dose_percent_mso)}% MSO"
    cap = rapid_datasheet_cap(device, ctx.dose_percent_mso) if rapid_max is not None else None
    if cap is not None and cap.max_hz < maximum:
        why = (
            f"{device.title} datasheet maximum from {fmt(cap.from_percent_mso)}% output "
            f"(the MagPy table allows {fmt(maximum)} Hz; the lower value governs)"
        )
        maximum = cap.max_hz
        source = f"{cap.source} [{cap.status}]"
    if frequency > maximum + EPSILON:
        what = "burst frequency" if tbs else "frequency"
        return find(
            rule,
            Severity.BLOCK,
            f"not deliverable: {what} {fmt(frequency)} Hz is above the {why} ({fmt(maximum)} Hz)",
            value=frequency,
            limit=maximum,
            source=source,
        )
    if frequency < device.min_frequency_hz - EPSILON:
        return find(
            rule,
            Severity.BLOCK,
            f"not deliverable: {fmt(frequency)} Hz is below the device minimum",
            value=frequency,
            limit=device.min_frequency_hz,
            source=source,
        )
    return find(
        rule,
        Severity.ALLOW,
        f"{fmt(frequency)} Hz within the {why} ({fmt(maximum)} Hz)",
        value=frequency,
        limit=maximum,
        source=source,
    )


def _within_output(ctx: Context, device: DeviceProfile) -> bool:
    return ctx.dose_percent_mso <= device.max_output_percent_mso + EPSILON


def _host_trigger_rate(ctx: Context, device: DeviceProfile) -> list[Finding]:
    """Pulses the host must trigger one by one: theta burst (no device command describes
    bursts) and anything on a device without device-timed trains."""
    host_timed = is_theta_burst(ctx.derived.protocol_class) or not device.device_timed_trains
    if not host_timed:
        return []
    frequency = ctx.derived.pulse_frequency_hz
    limit = device.single_pulse_max_rate_hz
    if frequency <= limit + EPSILON:
        return []
    rule = "TBS-5" if is_theta_burst(ctx.derived.protocol_class) else "DEV-FREQ"
    if ctx.external_trigger and device.rapid is not None:
        return [
            find(
                rule,
                Severity.ALLOW,
                f"{fmt(frequency)} Hz triggered pulse by pulse through the external trigger:"
                f" the {fmt(limit)} Hz serial trigger limit does not apply; the"
                f" {device.title}'s own frequency and energy limits do",
                value=frequency,
                limit=limit,
                source=SERIAL_TRIGGER_SOURCE,
            )
        ]
    return [
        find(
            rule,
            Severity.BLOCK,
            f"not deliverable: {fmt(frequency)} Hz must be triggered pulse by pulse and "
            f"{device.title} takes single triggers at up to {fmt(limit)} Hz "
            + (
                "over serial (an external trigger source is needed: --trigger)"
                if device.rapid is not None
                else "(its recharge; a trigger line does not shorten it)"
            ),
            value=frequency,
            limit=limit,
            source=f"{device.source} [{device.status}]",
        )
    ]


def _rapid_energy(ctx: Context, device: DeviceProfile) -> list[Finding]:
    if ctx.device_energy_j is None:
        return []
    energy = energy_at(ctx.device_energy_j, ctx.dose_percent_mso)
    if energy <= 0:
        return []
    limits = ctx.limits.device
    rate = ctx.derived.train_mean_rate_hz
    per_second = rate * energy
    max_on_s = limits.rapid_dissipation_j_per_min.value / per_second
    continuous = per_second <= limits.rapid_continuous_j_per_s.value + EPSILON
    findings: list[Finding] = []
    train_s = ctx.derived.train_duration_s
    if continuous:
        cap = limits.rapid_continuous_max_pulses.value
        if ctx.derived.pulses_per_train > cap:
            findings.append(
                find(
                    "DEV-ONTIME",
                    Severity.BLOCK,
                    f"{ctx.derived.pulses_per_train} pulses in one train: continuous "
                    f"operation is limited to {fmt(cap)} pulses",
                    value=ctx.derived.pulses_per_train,
                    limit=cap,
                    source=ENERGY_SOURCE,
                )
            )
    elif train_s > max_on_s + EPSILON:
        findings.append(
            find(
                "DEV-ONTIME",
                Severity.BLOCK,
                f"not deliverable: train {fmt(train_s)} s exceeds the maximum on-time "
                f"{fmt(max_on_s)} s at {fmt(rate)} Hz and {fmt(energy)} J per pulse",
                value=train_s,
                limit=round(max_on_s, 3),
                source=ENERGY_SOURCE,
            )
        )
    findings += _rapid_wait(ctx, energy)
    return findings


def _rapid_wait(ctx: Context, energy: float) -> list[Finding]:
    iti = ctx.derived.inter_train_interval_s
    if iti is None or ctx.derived.trains == 1:
        return []
    limits = ctx.limits.device
    rate = ctx.derived.train_mean_rate_hz
    n = ctx.derived.pulses_per_train
    continuous = limits.rapid_continuous_j_per_s.value
    wait = max(
        limits.rapid_min_wait_s.value, n * (rate * energy - continuous) / (continuous * rate)
    )
    if iti < wait - EPSILON:
        return [
            find(
                "ITI-7",
                Severity.BLOCK,
                f"not deliverable: interval {fmt(iti)} s is shorter than the device's "
                f"minimum wait {fmt(wait)} s after {n} pulses",
                value=iti,
                limit=round(wait, 3),
                source=ENERGY_SOURCE,
            )
        ]
    return [
        find(
            "ITI-7",
            Severity.ALLOW,
            f"interval {fmt(iti)} s >= device minimum wait {fmt(wait)} s",
            value=iti,
            limit=round(wait, 3),
            source=ENERGY_SOURCE,
        )
    ]
