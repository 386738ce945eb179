"""`stimctl devices probe` and `stimctl devices ports` (attached by stimctl.cli.devices_cmd).

`probe` opens the port with a driver from the registry, reads who is there and how it is,
and closes again (the driver disarms on open and on close). Errors are `StimctlError`s;
the CLI wrapper prints them as one line.
"""

from __future__ import annotations

import logging
from typing import Any

import click

from stimctl.errors import ConfigError, DeviceTimeout, ProtocolError
from stimctl.hal._registry import DriverNotAllowed

log = logging.getLogger(__name__)

# Tried in this order when --driver is not given: the Rapid first, because its version
# query (`ND`) is refused by a 200²/BiStim² (device-protocols A4), then the simpler Magstim
# handshake, then the MagPro at its own baud rate.
AUTODETECT_ORDER = ("magstim-rapid2", "magstim-200", "magpro")


def _parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"driver option must look like key=value, got {pair!r}")
        # ASCII digits only ('²'.isdigit() is True), and a plausible size: a driver
        # option number is a model, a voltage or a code, never 20 digits.
        number = value.isascii() and value.isdigit() and len(value) <= 9
        options[key] = int(value) if number else value
    return options


def _probe_one(name: str, port: str, options: dict[str, Any]) -> list[tuple[str, str]]:
    from stimctl.driver_gate import load_site_driver

    driver_cls = load_site_driver(name)  # the site's allow-list, before the port opens
    if port.startswith("stimsim://"):  # the simulators, found through their entry point
        from stimctl.session.simulation import install_stimsim

        install_stimsim()
    try:
        driver = driver_cls(port, **options)
    except TypeError as exc:  # an option this driver does not take: bad input, not a bug
        raise ConfigError(f"driver {name}: {exc}") from None
    with driver:
        if driver.found_armed_at_open is not None:  # a crashed host left it armed
            click.echo(f"stimctl: {driver.found_armed_at_open}", err=True)
        identity = driver.identify()
        status = driver.status()
        caps = driver.capabilities()
    temperature = status.coil_temperature_c
    coil = {True: "present", False: "absent", None: "unknown"}[status.coil_present]
    return [
        ("driver", name),
        ("model", f"{identity.vendor} {identity.model}"),
        ("software", identity.software_version or "n/a"),
        ("serial number", identity.serial_number or "n/a"),
        ("coil", coil),
        ("coil temperature", "n/a" if temperature is None else f"{temperature:.1f} °C"),
        ("status", status.arm_state.value),
        ("remote control", "yes" if status.remote_control else "no"),
        ("error", status.error_code or "none"),
        ("output range", f"{caps.output_range_pct[0]}-{caps.output_range_pct[1]} % MSO"),
    ]


@click.command("probe")
@click.option("--port", "port", required=True, help="Serial port or pyserial URL.")
@click.option("--driver", "driver_name", default=None, help="Driver name (see the registry).")
@click.option(
    "--driver-option",
    "option_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="Driver option, e.g. unlock_code=abcd-0123abcd-5e or version=9.0 (repeatable).",
)
# The old name, kept so scripts keep working: `run`, `rmt hunt` and `selftest` all say
# --driver-option, and one vocabulary is what the help shows (issue 16).
@click.option("--option", "old_option_pairs", multiple=True, hidden=True)
def probe(
    port: str,
    driver_name: str | None,
    option_pairs: tuple[str, ...],
    old_option_pairs: tuple[str, ...],
) -> None:
    """Identify the stimulator on PORT: model, software, coil, temperature, status."""
    if old_option_pairs:
        click.echo("stimctl: --option is deprecated; use --driver-option", err=True)
    options = _parse_options(option_pairs + old_option_pairs)
    names = (driver_name,) if driver_name else AUTODETECT_ORDER
    failures: list[str] = []
    for name in names:
        try:
            rows = _probe_one(name, port, options)
        except DriverNotAllowed as exc:  # autodetect tries the site's drivers only
            if driver_name:
                raise
            failures.append(f"{name}: not on the site's allow-list")
            log.info("%s", exc)
            continue
        except (DeviceTimeout, ProtocolError) as exc:  # wrong driver: try the next one
            if driver_name:
                raise
            failures.append(f"{name}: {exc}")
            continue
        width = max(len(key) for key, _ in rows)
        for key, value in rows:
            click.echo(f"{key:<{width}}  {value}")
        return
    raise DeviceTimeout(f"no known stimulator answered on {port} ({'; '.join(failures)})")


@click.command("ports")
def ports() -> None:
    """List the serial ports of this computer."""
    from serial.tools import list_ports

    found = sorted(list_ports.comports(), key=lambda p: p.device)
    if not found:
        click.echo("no serial ports found")
        return
    for info in found:
        click.echo(f"{info.device}  {info.description or ''}  {info.hwid or ''}".rstrip())


__all__ = ["ports", "probe"]
