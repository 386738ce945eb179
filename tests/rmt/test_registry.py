"""stimctl finds the virtual subject by name, never by import (ARCHITECTURE rule 1)."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import entry_points

import pytest

from simulators.virtual_subject import VirtualSubject, make_source
from stimctl.errors import ConfigError
from stimctl.rmt.registry import (
    ENTRY_POINT_GROUP,
    load_mep_source_factory,
    register_mep_source,
    unregister_mep_source,
)


@pytest.fixture
def registered() -> Iterator[None]:
    register_mep_source("test-virtual", make_source)
    yield
    unregister_mep_source("test-virtual")


@pytest.mark.usefixtures("registered")
def test_a_registered_factory_is_found() -> None:
    source = load_mep_source_factory("test-virtual")(58.0, 4)
    assert isinstance(source, VirtualSubject)
    assert source.true_rmt == 58.0


def test_an_unknown_source_is_a_config_error_naming_the_group() -> None:
    with pytest.raises(ConfigError, match=ENTRY_POINT_GROUP):
        load_mep_source_factory("no-such-source")


@pytest.mark.skipif(
    not any(e.name == "virtual" for e in entry_points(group=ENTRY_POINT_GROUP)),
    reason="entry point stimctl.mep_sources:virtual not installed yet (pyproject)",
)
def test_the_installed_entry_point_builds_a_virtual_subject() -> None:
    source = load_mep_source_factory("virtual")(61.0, 1)
    assert isinstance(source, VirtualSubject)
