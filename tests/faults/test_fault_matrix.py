"""Every cell of the fault matrix (issue 12 "Must show"): real processes, real ptys."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from stimctl.errors import ExitCode
from tests.faults.matrix import KILLS, TRIGGER_FAULTS, Family, cells, run_cell

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs a Linux pty")

EXPECTED_EXIT = {
    "none": {ExitCode.OK},
    "SIGKILL": {-9},
    "SIGTERM": {ExitCode.INTERRUPTED},
    "SIGINT": {ExitCode.INTERRUPTED},
    "cable pulled": {ExitCode.DEVICE, ExitCode.DISARM_UNCONFIRMED},
    "simulator killed": {ExitCode.DEVICE, ExitCode.DISARM_UNCONFIRMED},
    "ignores disarm": {ExitCode.DISARM_UNCONFIRMED},
    "disk full mid-session": {ExitCode.RECORDS},
    "disk full at the end": {ExitCode.RECORDS},
    "SIGKILL with trigger": {-9},
}


@pytest.mark.parametrize(
    ("family", "fault"), cells(), ids=[f"{family.device}-{fault}" for family, fault in cells()]
)
def test_fault_cell(family: Family, fault: str, tmp_path: Path) -> None:
    cell = run_cell(family, fault, tmp_path)
    assert not cell.notes, cell.notes
    assert cell.exit_code in EXPECTED_EXIT[fault], cell.row()
    # the device is disarmed, or the operator was told to switch it off
    assert cell.safe, cell.row()
    if fault == "ignores disarm":
        assert cell.told_to_switch_off and not cell.disarmed
    # the simulator's own pulse log lies within what the journal says (exact or bounds)
    assert cell.consistent, cell.row()
    if fault == "none":
        assert cell.journal_lower == cell.journal_upper == cell.sim_pulses, cell.row()
    if fault in ("SIGTERM", "SIGINT"):
        # the host aborted: a train cut by its own disarm is counted to within one pulse
        assert cell.journal_upper - cell.journal_lower <= 1, cell.row()
    if fault in KILLS or fault.startswith("disk full"):
        # the journal was left open; the next start closed it from what it holds
        assert cell.status == "interrupted", cell.row()
    if fault in KILLS:
        # cut, not tampered, before the next start closed it...
        assert cell.cut_but_intact, cell.row()
        # ...and the records row is closed from the journal (`stimctl sessions reconcile`)
        assert cell.row_status == "interrupted", cell.row_status
    if fault in TRIGGER_FAULTS:
        # the pulses before the kill left through the trigger line, not over serial
        assert cell.through_trigger > 0 and cell.through_trigger == cell.sim_pulses, cell.row()
    assert cell.journal_ok, cell.row()
