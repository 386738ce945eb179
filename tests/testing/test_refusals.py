"""The self-test shows refusals, and its device verdicts agree with the demo table.

Issue 16: `selftest` never showed a block although it claims to prove that unsafe
protocols are refused, and the demo table blocked three TBS protocols on the Super
Rapid² Plus while `selftest` listed them as "PASS allow" (different subject, no device).
"""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from stimctl.cli import main
from stimctl.cli.render import print_verdict_table
from stimctl.testing import refusals
from stimctl.testing.expected import REFERENCE_DEVICE
from stimctl.testing.refusals import UNSAFE_CASES, run_refusal_checks

FAMILIES = {
    "train duration",
    "inter-train interval",
    "intensity",
    "theta burst",
    "device",
    "screening",
}


def test_selftest_shows_a_block_for_every_family_of_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["selftest", "--only", "protocols"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("PASS  refusals: ")]
    assert {case.family for case in UNSAFE_CASES} >= FAMILIES
    for family in FAMILIES:
        found = [line for line in lines if f"({family}) - block by " in line]
        assert found, f"no refusal shown for the {family} rules"
    for case in UNSAFE_CASES:
        assert any(f"{case.name} ({case.family}) - block by {case.rule}" in ln for ln in lines)


def test_a_refusal_that_is_not_blocked_fails_the_battery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    safe = dataclasses.replace(
        UNSAFE_CASES[2],
        name="not-unsafe-at-all",
        fields={**UNSAFE_CASES[2].fields, "intensity": {"percent_rmt": 90}},
    )
    monkeypatch.setattr(refusals, "UNSAFE_CASES", (safe,))
    (result,) = run_refusal_checks()
    assert result.failed
    assert "verdict allow" in result.detail and "expected a block by INT-1" in result.detail


def test_selftest_and_the_demo_table_agree_on_the_reference_device(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    print_verdict_table(device=REFERENCE_DEVICE)
    table = capsys.readouterr().out
    assert REFERENCE_DEVICE in table
    demo = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^│ (\S+)\s+│ \S+\s+│ [^│]*│ (allow|override|block)", table, re.M)
    }
    assert len(demo) >= 14
    assert main(["selftest", "--only", "protocols", "--json"]) == 0
    battery = json.loads(capsys.readouterr().out)
    selftest = {
        r["name"].removesuffix(f" on {REFERENCE_DEVICE}"): r["detail"].split()[0]
        for r in battery["checks"]
        if r["group"] == "protocols" and r["name"].endswith(f" on {REFERENCE_DEVICE}")
    }
    assert selftest == demo
    # the finding of the issue: the three TBS protocols are blocked on this device, by
    # the device rule, in both
    for name in ("dep-itbs-three-d", "dep-saint", "ctbs-m1"):
        assert demo[name] == "block"
        assert re.search(rf"^│ {name}\s.*TBS-5", table, re.M)
