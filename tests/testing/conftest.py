"""The plugin's own tests run example lab test files in a sandbox with `pytester`."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

PLUGIN = "stimctl.testing.plugin"


def plugin_installed() -> bool:
    """True once the `pytest11` entry point is installed (then `-p` would register twice)."""
    return any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))


@pytest.fixture
def plugin_args() -> list[str]:
    """What a lab's pytest run needs to load the plugin, before and after installation."""
    return [] if plugin_installed() else ["-p", PLUGIN]
