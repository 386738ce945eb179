"""Automated safety tests for users: the pytest plugin, its helpers and `stimctl selftest`.

Import-light on purpose: pytest loads `stimctl.testing.plugin` (and so this package) in
every run of a project that has stimctl installed, so nothing here imports the session
engine, the drivers or pyserial until a fixture or helper is used. The helpers below are
loaded on first access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the real types for type checkers; at runtime they load lazily
    from stimctl.testing.assertions import (
        assert_allowed,
        assert_blocked,
        assert_device_check,
        assert_ended_disarmed,
        assert_journal_intact,
        assert_needs_override,
        assert_no_pulse_above,
        assert_pulses_delivered,
        assert_verdict,
    )
    from stimctl.testing.device_checks import DEVICE_CHECK_NAMES
    from stimctl.testing.expected import EXPECTED_VERDICTS
    from stimctl.testing.selftest import run_selftest
    from stimctl.testing.sessions import SessionResult, run_session
    from stimctl.testing.target import Connection, Target
    from stimctl.testing.verdicts import check_protocol

_LAZY = {
    "assert_allowed": "stimctl.testing.assertions",
    "assert_blocked": "stimctl.testing.assertions",
    "assert_device_check": "stimctl.testing.assertions",
    "assert_ended_disarmed": "stimctl.testing.assertions",
    "assert_journal_intact": "stimctl.testing.assertions",
    "assert_needs_override": "stimctl.testing.assertions",
    "assert_no_pulse_above": "stimctl.testing.assertions",
    "assert_pulses_delivered": "stimctl.testing.assertions",
    "assert_verdict": "stimctl.testing.assertions",
    "check_protocol": "stimctl.testing.verdicts",
    "SessionResult": "stimctl.testing.sessions",
    "run_session": "stimctl.testing.sessions",
    "Target": "stimctl.testing.target",
    "Connection": "stimctl.testing.target",
    "EXPECTED_VERDICTS": "stimctl.testing.expected",
    "DEVICE_CHECK_NAMES": "stimctl.testing.device_checks",
    "run_selftest": "stimctl.testing.selftest",
}

__all__ = [
    "DEVICE_CHECK_NAMES",
    "EXPECTED_VERDICTS",
    "Connection",
    "SessionResult",
    "Target",
    "assert_allowed",
    "assert_blocked",
    "assert_device_check",
    "assert_ended_disarmed",
    "assert_journal_intact",
    "assert_needs_override",
    "assert_no_pulse_above",
    "assert_pulses_delivered",
    "assert_verdict",
    "check_protocol",
    "run_selftest",
    "run_session",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'stimctl.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
