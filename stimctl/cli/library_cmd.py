"""`stimctl protocols list|show|new|schema`: the shipped protocol library, and starting
points for your own files."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group()
def protocols() -> None:
    """List and show shipped protocols; start your own (new, schema)."""


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


@protocols.command("new")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(["train", "continuous", "theta-burst"]),
    required=True,
    help="train: trains and pauses; continuous: one train (1 Hz); theta-burst: iTBS/cTBS.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write [NAME.toml in this folder; '-' for standard output]. Never overwrites.",
)
def new_protocol(name: str, kind: str, output: Path | None) -> None:
    """Write a commented protocol file NAME of KIND that `stimctl check` accepts."""
    from stimctl.errors import ConfigError
    from stimctl.protocol.models import Protocol
    from stimctl.protocol.templates import template
    from stimctl.tomlfile import validate

    target = output if output is not None else Path(f"{name}.toml")
    to_stdout = str(target) == "-"
    text = template(name, kind, file="FILE" if to_stdout else str(target))  # type: ignore[arg-type]
    import tomllib

    validate(Protocol, tomllib.loads(text), f"protocol name {name!r}")  # a bad NAME, said once
    if to_stdout:
        click.echo(text, nl=False)
        return
    try:
        with target.open("x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise ConfigError(f"{target} exists; not overwritten (give -o ANOTHER.toml)") from None
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror or exc}") from None
    click.echo(f"{target}: edit it, then `stimctl check {target} --rmt PCT --device DEVICE`")


@protocols.command("schema")
def protocol_schema() -> None:
    """Print the JSON Schema of protocol files (for editors that validate TOML)."""
    from stimctl.protocol.models import Protocol

    schema = Protocol.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema.setdefault("title", "stimctl protocol file")
    click.echo(json.dumps(schema, indent=2, sort_keys=True))
