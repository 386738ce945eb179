"""Driver registry over the `stimctl.drivers` entry points: lazy, with clear errors."""

from __future__ import annotations

import sys

import pytest

from stimctl.errors import UnknownDriver
from stimctl.hal import Stimulator, _registry, available_drivers, load_driver


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    fake: dict[str, str] = {}
    monkeypatch.setattr(_registry, "_table", lambda: fake)
    return fake


def test_the_four_declared_drivers_are_listed() -> None:
    assert available_drivers() == ["magpro", "magstim-200", "magstim-bistim", "magstim-rapid2"]


@pytest.mark.parametrize("name", ["magpro", "magstim-200", "magstim-bistim", "magstim-rapid2"])
def test_every_declared_driver_loads_as_a_stimulator(name: str) -> None:
    assert issubclass(load_driver(name), Stimulator)


def test_listing_imports_no_driver(table: dict[str, str]) -> None:
    table["lazy"] = "stimctl_never_imported_module:Driver"
    assert available_drivers() == ["lazy"]
    assert "stimctl_never_imported_module" not in sys.modules


def test_unknown_name_lists_the_known_drivers(table: dict[str, str]) -> None:
    table["magpro"] = "drivers.magventure:MagProDriver"
    with pytest.raises(UnknownDriver, match="known drivers: magpro"):
        load_driver("magstim-9000")


def test_a_driver_that_fails_to_import_is_unknown_driver(table: dict[str, str]) -> None:
    table["broken"] = "stimctl_no_such_module:Driver"
    with pytest.raises(UnknownDriver, match="failed to load"):
        load_driver("broken")


def test_a_target_that_is_not_a_stimulator_is_refused(table: dict[str, str]) -> None:
    table["wrong"] = "stimctl.errors:StimctlError"
    with pytest.raises(UnknownDriver, match=r"not a stimctl\.hal\.Stimulator"):
        load_driver("wrong")


def test_conflicting_duplicate_names_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    points = [
        EntryPoint("twin", "a:One", _registry.GROUP),
        EntryPoint("twin", "b:Two", _registry.GROUP),
    ]
    monkeypatch.setattr(_registry, "entry_points", lambda group: points)
    _registry.clear_cache()
    try:
        with pytest.raises(UnknownDriver, match="registered twice"):
            available_drivers()
    finally:
        monkeypatch.undo()
        _registry.clear_cache()


def test_identical_duplicates_are_merged(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    points = [EntryPoint("same", "a:One", _registry.GROUP)] * 2
    monkeypatch.setattr(_registry, "entry_points", lambda group: points)
    _registry.clear_cache()
    try:
        assert available_drivers() == ["same"]
    finally:
        monkeypatch.undo()
        _registry.clear_cache()
