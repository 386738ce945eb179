"""Four sessions started at once for one subject: exactly one runs (issue 12 item 3a).

Real processes on one real database: the per-subject lock is SQLite's write lock held
across "read history, check the rules, insert the running row", which threads in one
process would not exercise.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.session.records_helpers import (
    PASSWORD,
    SIGN_IN,
    enroll,
    sessions_of,
    sign_in_ready,
    spawn,
    write_protocol,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")


def test_four_concurrent_runs_for_one_subject_only_one_runs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    enroll(home)
    enroll(home, "S-02")
    sign_in_ready(home)  # clinical runs on a stimulator: the operator signs in
    # one 6 s train at 1 Hz: no pulse reaches the row before every start has checked
    protocol = write_protocol(tmp_path, pulses=6)
    # (dry runs never count towards the daily rules, item 5: only `run` can race)
    args = ["run", str(protocol), "--subject", "S-01", "--json", "--headless", "--yes"]
    args += ["--device", "magpro-x100", "--port", "stimsim://magpro-x100", *SIGN_IN]
    # S-02's start at the same time: the lock is per subject, it is not refused
    other = spawn(home, *[("S-02" if a == "S-01" else a) for a in args], stdin=PASSWORD)
    starts = [spawn(home, *args, stdin=PASSWORD) for _ in range(4)]
    results = [p.communicate(timeout=120) for p in starts]
    assert other.wait(timeout=120) == 0
    assert [r.status for r in sessions_of(home, "S-02")] == ["completed"]
    codes = sorted(p.returncode for p in starts)
    errors = [err for p, (_, err) in zip(starts, results, strict=True) if p.returncode]
    assert codes == [0, 1, 1, 1], [err for _, err in results]
    # the losers get the daily rule's verdict, one line each
    for err in errors:
        assert "override required" in err and "SES-1" in err
        assert len(err.strip().splitlines()) == 1
    rows = sessions_of(home)
    assert len(rows) == 1
    assert rows[0].status == "completed" and rows[0].pulses_delivered == 6
    assert not rows[0].simulated
    # the losers were refused before the device was opened: no journal of theirs
    journals = {j.stem for j in (home / "journals").glob("*.jsonl")}
    assert journals == {rows[0].id, sessions_of(home, "S-02")[0].id}
