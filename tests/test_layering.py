"""ARCHITECTURE rule 1: stimctl never imports drivers or simulators; drivers and
simulators never import each other (they meet only on the wire). Inside stimctl the
layers go one way (issue 14 item 5): protocol < safety < session < console < cli, and
simulators take from stimctl only its base modules (clock, errors, mep)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "stimctl": {"drivers", "simulators"},
    "drivers": {"simulators"},
    "simulators": {"drivers"},
}


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", "") == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_import_direction(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {sorted(imported_top_levels(path) & FORBIDDEN[package])}"
        for path in sorted((ROOT / package).rglob("*.py"))
        if imported_top_levels(path) & FORBIDDEN[package]
    ]
    assert not offenders, offenders


def test_the_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from simulators.magstim import x\nimport drivers.magventure\n")
    assert {"simulators", "drivers"} <= imported_top_levels(bad)


# Each layer of stimctl and the layers above it, which it must not import (not even lazily).
ABOVE = {
    "protocol": ("safety", "session", "console", "cli"),
    "safety": ("session", "console", "cli"),
    "session": ("console", "cli"),
    "console": ("cli",),
}
# stimctl.simwire is the simulated trigger cable both ends plug into (issue 18).
SIMULATORS_MAY_USE = {"stimctl.clock", "stimctl.errors", "stimctl.mep", "stimctl.simwire"}


def imported_modules(path: Path) -> set[str]:
    """Every absolute module name `path` imports, anywhere in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def layer_offences(path: Path, above: tuple[str, ...]) -> list[str]:
    return sorted(
        name
        for name in imported_modules(path)
        if name.split(".")[0] == "stimctl" and name.split(".")[1:2] in ([a] for a in above)
    )


@pytest.mark.parametrize("layer", sorted(ABOVE))
def test_stimctl_layers_import_only_downwards(layer: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {layer_offences(path, ABOVE[layer])}"
        for path in sorted((ROOT / "stimctl" / layer).rglob("*.py"))
        if layer_offences(path, ABOVE[layer])
    ]
    assert not offenders, offenders


def simulator_offences(path: Path) -> list[str]:
    return sorted(
        name
        for name in imported_modules(path)
        if name.split(".")[0] == "stimctl"
        and name != "stimctl"
        and not any(name == ok or name.startswith(ok + ".") for ok in SIMULATORS_MAY_USE)
    )


def test_simulators_use_only_stimctls_base_modules() -> None:
    """The virtual subject imported stimctl.rmt; now its reading type is in stimctl.mep."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {simulator_offences(path)}"
        for path in sorted((ROOT / "simulators").rglob("*.py"))
        if simulator_offences(path)
    ]
    assert not offenders, offenders


def test_the_layer_checker_catches_upward_and_lazy_imports(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from stimctl.session.plan import Plan\n"
        "def f():\n    import stimctl.console.app\n"
        "from stimctl import cli\n"
        "from stimctl.rmt.readings import MepReading\n"
    )
    assert layer_offences(bad, ABOVE["safety"]) == [
        "stimctl.cli",
        "stimctl.console.app",
        "stimctl.session.plan",
        "stimctl.session.plan.Plan",
    ]
    assert "stimctl.rmt.readings" in simulator_offences(bad)
