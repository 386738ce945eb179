"""Hardware abstraction layer: the `Stimulator` base, its data types, the byte transport
and the driver registry.

Import-light: pyserial is imported only when a `Transport` or `ScriptedPort` is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stimctl.hal._capabilities import (
    ArmState,
    Capabilities,
    DeviceIdentity,
    DeviceStatus,
    SafeStopReport,
    TrainSpec,
)
from stimctl.hal._driver import Stimulator, found_armed_notice
from stimctl.hal._fire import VIA_SERIAL, FireReceipt
from stimctl.hal._keepalive import KeepAlive
from stimctl.hal._output import SINGLE_PULSE, OutputPlan, OutputState, PairedPulse, Setting
from stimctl.hal._registry import available_drivers, driver_target, load_driver
from stimctl.hal._trigger import (
    TriggerLine,
    TriggerLoopbackError,
    TriggerUnavailable,
    make_trigger,
    open_trigger,
    trigger_schemes,
)

if TYPE_CHECKING:
    from stimctl.hal._scripted import ScriptedPort, ScriptMismatch
    from stimctl.hal._transport import SerialPort, Transport

__all__ = [
    "SINGLE_PULSE",
    "VIA_SERIAL",
    "ArmState",
    "Capabilities",
    "DeviceIdentity",
    "DeviceStatus",
    "FireReceipt",
    "KeepAlive",
    "OutputPlan",
    "OutputState",
    "PairedPulse",
    "SafeStopReport",
    "ScriptMismatch",
    "ScriptedPort",
    "SerialPort",
    "Setting",
    "Stimulator",
    "TrainSpec",
    "Transport",
    "TriggerLine",
    "TriggerLoopbackError",
    "TriggerUnavailable",
    "available_drivers",
    "driver_target",
    "found_armed_notice",
    "load_driver",
    "make_trigger",
    "open_trigger",
    "trigger_schemes",
]

_LAZY = {
    "Transport": "stimctl.hal._transport",
    "SerialPort": "stimctl.hal._transport",
    "ScriptedPort": "stimctl.hal._scripted",
    "ScriptMismatch": "stimctl.hal._scripted",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'stimctl.hal' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
