"""`sessions list` shows every session with its kind, and says so when there is none.

Issue 16: the journals folder held 8 sessions and `sessions list` showed 2; threshold
hunts and dry runs given only `--rmt` have journals but no record row. Real commands,
real journals, a real SQLite store.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.safety.tables import screening_table


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_an_empty_record_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sessions", "list")
    assert code == 0
    assert out.strip() == "no sessions on record"


def test_hunts_and_dry_runs_without_a_subject_are_listed_with_their_kind(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(capsys, "subject", "add", "S-01", "--age", "40")[0] == 0
    hunt = ("rmt", "hunt", "S-01", "--method", "ml-pest", "--device", "magpro-x100")
    code, _, err = run(capsys, *hunt, "--virtual-rmt", "52", "--speed", "max")
    assert code == 0, err
    code, out, err = run(capsys, "dry-run", "np-m1-10hz-90", "--rmt", "52", "--json")
    assert code == 0, err
    dry_id = json.loads(out)["session_id"]

    code, out, _ = run(capsys, "sessions", "list")
    assert code == 0
    lines = out.splitlines()
    hunts = [line for line in lines if line.startswith("rmt-")]
    assert len(hunts) == 1
    assert " threshold-hunt S-01 " in hunts[0] and "ml-pest on magpro-x100" in hunts[0]
    dry = [line for line in lines if line.startswith(dry_id)]
    assert len(dry) == 1
    assert " simulated " in dry[0] and "2000/2000 pulses" in dry[0] and "np-m1-10hz-90" in dry[0]
    assert lines[-1].startswith("kinds: ")
    assert "threshold-hunt = a motor-threshold hunt" in lines[-1]
    assert "simulated = a dry run" in lines[-1]

    code, out, _ = run(capsys, "sessions", "list", "--kind", "threshold-hunt")
    assert dry_id not in out and out.startswith("rmt-")
    code, out, _ = run(capsys, "sessions", "list", "--subject", "S-01")
    assert dry_id not in out and "threshold-hunt" in out
    code, out, _ = run(capsys, "sessions", "list", "--json")
    kinds = sorted(item["kind"] for item in json.loads(out))
    assert kinds == ["simulated", "threshold-hunt"]


def test_a_subjects_dry_run_is_listed_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = tmp_path / "answers.toml"
    items = "\n".join(f"{k} = false" for k in screening_table().items)
    today = dt.date.today().isoformat()
    answers.write_text(f'questionnaire = "rossi-2011"\nanswered_on = {today}\n[answers]\n{items}\n')
    assert run(capsys, "subject", "add", "S-02", "--age", "40")[0] == 0
    assert run(capsys, "screen", "S-02", "--answers", str(answers))[0] == 0
    assert run(capsys, "rmt", "record", "S-02", "--value", "52", "--method", "emg")[0] == 0
    code, out, err = run(capsys, "dry-run", "np-m1-10hz-90", "--subject", "S-02", "--json")
    assert code == 0, err
    sid = json.loads(out)["session_id"]
    code, out, _ = run(capsys, "sessions", "list")
    listed = [line for line in out.splitlines() if line.startswith(sid)]
    assert len(listed) == 1 and " simulated " in listed[0] and "journal only" not in listed[0]
