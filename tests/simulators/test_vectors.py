"""The shared expected-message tables (tests/vectors/*.toml) run against the simulators.

Each row: put a fresh simulator in the row's `state`, write `sent`, and the simulator
must put exactly `reply` on the wire (nothing more, nothing less). Rows with
`variant = "pre-change-status"` / `"post-change-status"` run on a simulator configured
that way; rows without a variant must hold under both. Rows without `versions` run on
every Rapid layout (before v7, v7-8, v9, v10+).

Skipped, on purpose: `variant = "fault"` rows. They script replies that no honest
device sends (a wrong checksum, a wrong echo, a short or missing reply, an unsolicited
message racing the reply) to test the drivers' error paths; the simulators' own fault
injection is tested in test_faults.py instead.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from simulators import create_simulator
from simulators.core import SimulatorBase
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
            if case.get("variant") == "fault":
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
    reports = VARIANT_REPORT[case.get("variant")]
    versions = case.get("versions", ALL_RAPID_VERSIONS) if device == "magstim-rapid2" else [None]
    specs = []
    for report in reports:
        for version in versions:
            extra = f"&version={version}" if version else ""
            specs.append(f"{device}?status_report={report}{extra}")
    return specs


ROWS = _rows()


def test_the_tables_are_there_and_cover_every_model() -> None:
    devices = {param.values[0]["device"] for param in ROWS}
    assert devices == {"magstim-200", "magstim-bistim", "magstim-rapid2", "magpro"}
    assert len(ROWS) > 60


@pytest.mark.parametrize(("case", "spec"), ROWS)
def test_simulator_replies_exactly_the_scripted_bytes(case: dict[str, Any], spec: str) -> None:
    sim: SimulatorBase = create_simulator(spec, clock=VirtualClock(start=50.0))
    sim.set_state(**case.get("state", {}))
    sim.write(bytes.fromhex(case["sent"]))
    assert sim.read(10_000).hex(" ").upper() == case["reply"].upper()
