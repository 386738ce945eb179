"""`stimctl protocols list|show`: the shipped protocol library."""

from __future__ import annotations

import json

import click


@click.group()
def protocols() -> None:
    """List and show shipped protocols."""


@protocols.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_protocols(as_json: bool) -> None:
    """One line per shipped protocol."""
    from stimctl.configs import names_in
    from stimctl.protocol import derive, load_protocol

    rows = []
    for name in names_in("protocols"):
        protocol = load_protocol(name)
        d = derive(protocol)
        rows.append(
            {
                "name": name,
                "class": d.protocol_class,
                "pulses": d.total_pulses,
                "minutes": round(d.session_duration_s / 60, 1),
                "title": protocol.title,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        click.echo(
            f"{r['name']:<22} {r['class']:<8} {r['pulses']:>5} pulses "
            f"{r['minutes']:>5} min  {r['title']}"
        )


@protocols.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def show_protocol(name: str, as_json: bool) -> None:
    """A protocol with its derived figures."""
    from stimctl.protocol import derive, load_protocol

    protocol = load_protocol(name)
    data = {"protocol": protocol.model_dump(mode="json"), "derived": derive(protocol).as_dict()}
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    from rich.console import Console

    from stimctl.cli.render import print_wrapped
    from stimctl.protocol.describe import protocol_lines

    console = Console()
    console.print(f"{protocol.name}: {protocol.title}", markup=False, highlight=False)
    for key, value in protocol_lines(protocol, derive(protocol)):
        print_wrapped(console, f"  {key + ':':<11} {value}", hang=14)
