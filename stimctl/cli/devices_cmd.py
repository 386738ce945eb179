"""`stimctl devices`: device profiles, and (from the drivers) probe and ports."""

from __future__ import annotations

import json

import click

from stimctl.cli import LazyGroup

HARDWARE_COMMANDS = {
    "probe": ("stimctl.cli.devices_hw_cmd:probe", "Identify a connected stimulator."),
    "ports": ("stimctl.cli.devices_hw_cmd:ports", "List serial ports."),
}


@click.group(cls=LazyGroup, lazy=HARDWARE_COMMANDS)
def devices() -> None:
    """Device profiles, probing and ports."""


@devices.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_devices(as_json: bool) -> None:
    """One line per shipped device profile."""
    from stimctl.device_profiles import load_profile, profile_names

    profiles = [load_profile(name) for name in profile_names()]
    if as_json:
        click.echo(json.dumps([p.model_dump(mode="json") for p in profiles], indent=2))
        return
    for p in profiles:
        click.echo(f"{p.name:<32} driver={p.driver:<15} max {p.max_frequency_hz:g} Hz  {p.title}")


@devices.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def show_device(name: str, as_json: bool) -> None:
    """A device profile."""
    from stimctl.device_profiles import load_profile

    profile = load_profile(name)
    data = profile.model_dump(mode="json")
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        if key == "rapid" and value:
            click.echo("  rapid: energy table + maximum frequency by power (see --json)")
            continue
        click.echo(f"  {key}: {value}")
