"""The shared expected-message tables (tests/vectors/*.toml) run against the simulators.

Each row: put a fresh simulator in the row's `state`, write `sent`, and the simulator
must put exactly `reply` on the wire (nothing more, nothing less). Rows with
`variant = "pre-change-status"` / `"post-change-status"` run on a simulator configured
that way; rows without a variant must hold under both. Rows without `versions` run on
every Rapid layout (before v7, v7-8, v9, v10+).

`variant = "fault"` rows script replies that no honest device sends, to test the
drivers' error paths. Two are reproduced here with the simulators' fault injection
(FAULT_SETUPS: a missing reply = drop everything; an unsolicited ID 1 before the reply =
a front-panel change). The others are skipped on purpose: S-bad-checksum, S-wrong-echo,
S-short-reply (Magstim) and S-bad-crc, S-bad-end-byte (MagPro) name one exact corrupted
byte, while corruption here is random per byte (test_faults.py covers it).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simulators import create_simulator
from simulators.core import SimulatorBase
from simulators.magventure import MagProSimulator
from stimctl.clock import VirtualClock

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
ALL_RAPID_VERSIONS = ["6.0", "8.0", "9.0", "10.0"]
VARIANT_REPORT = {
    "pre-change-status": ["pre"],
    "post-change-status": ["post"],
    None: ["pre", "post"],
}
MAGPRO_MODELS = {0: "magpro-r30", 1: "magpro-x100", 2: "magpro-r30", 3: "magpro-x100"}


def _rows() -> list[Any]:
    params = []
    for name in ("magstim.toml", "magventure.toml"):
        path = VECTORS / name
        if not path.exists():
            continue
        for case in tomllib.loads(path.read_text(encoding="utf-8"))["case"]:
            if case.get("variant") == "fault" and case["id"] not in FAULT_SETUPS:
                continue
            for spec in _specs(case):
                params.append(pytest.param(case, spec, id=f"{case['id']}[{spec}]"))
    return params


def _specs(case: dict[str, Any]) -> list[str]:
    device = case["device"]
    if device == "magpro":
        model = case.get("state", {}).get("model", 1)
        option = "&magoption=1" if model in (2, 3) else ""
        return [f"{MAGPRO_MODELS[model]}?seed=1{option}"]
    variant = case.get("variant")
    reports = VARIANT_REPORT[None if variant == "fault" else variant]
    versions = case.get("versions", ALL_RAPID_VERSIONS) if device == "magstim-rapid2" else [None]
    specs = []
    for report in reports:
        for version in versions:
            extra = f"&version={version}" if version else ""
            specs.append(f"{device}?status_report={report}{extra}")
    return specs


def _drop_everything(sim: SimulatorBase) -> None:
    sim.faults.drop_rate = 1.0


def _panel_change(sim: SimulatorBase) -> None:
    assert isinstance(sim, MagProSimulator)
    sim.front_panel(amplitude_a=60, amplitude_b=40)


FAULT_SETUPS: dict[str, Callable[[SimulatorBase], None]] = {
    "S-no-reply": _drop_everything,
    "S-status-unsolicited-first": _panel_change,
}

ROWS = _rows()


def test_the_tables_are_there_and_cover_every_model() -> None:
    devices = {param.values[0]["device"] for param in ROWS}
    assert devices == {"magstim-200", "magstim-bistim", "magstim-rapid2", "magpro"}
    assert len(ROWS) > 60


@pytest.mark.parametrize(("case", "spec"), ROWS)
def test_simulator_replies_exactly_the_scripted_bytes(case: dict[str, Any], spec: str) -> None:
    sim: SimulatorBase = create_simulator(spec, clock=VirtualClock(start=50.0))
    sim.set_state(**case.get("state", {}))
    if case.get("variant") == "fault":
        FAULT_SETUPS[case["id"]](sim)
    sim.write(bytes.fromhex(case["sent"]))
    assert sim.read(10_000).hex(" ").upper() == case["reply"].upper()
