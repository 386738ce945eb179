"""`stimctl run --trigger URL` through the console script: a trigger line whose package
is missing stops the session with one line and exit 2, never with a traceback (issue 18
item 1). That the device is closed disarmed then is shown on the simulator in
test_session_trigger.py (`test_a_trigger_that_cannot_open_stops_the_session...`)."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ExitCode
from stimctl.safety.tables import screening_table

UNLOCK = "abcd-0123abcd-5e"


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_with_a_trigger_whose_package_is_missing_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = tmp_path / "answers.toml"
    items = "\n".join(f"{item} = false" for item in screening_table().items)
    today = dt.date.today().isoformat()
    answers.write_text(f'questionnaire = "rossi-2011"\nanswered_on = {today}\n[answers]\n{items}\n')
    assert _cli(capsys, "keys", "init")[0] == 0
    assert _cli(capsys, "subject", "add", "S-01")[0] == 0
    assert _cli(capsys, "screen", "S-01", "--answers", str(answers))[0] == 0
    assert _cli(capsys, "rmt", "record", "S-01", "--value", "52", "--method", "emg")[0] == 0
    from stimctl.records import Store
    from tests.identity.people import register

    with Store.open() as store:
        register(store, "dr-lee")
    monkeypatch.setattr("sys.stdin", io.StringIO("lee-pass-1\n"))
    monkeypatch.setitem(sys.modules, "pyftdi.gpio", None)  # pyftdi is not installed
    port = f"stimsim://magstim-rapid2?version=10&unlock_code={UNLOCK}&type=super-plus"
    code, _, err = _cli(
        capsys,
        "run", "np-m1-10hz-90", "--subject", "S-01", "--device",
        "magstim-rapid2-super-plus-240v", "--port", port, "--headless", "--yes",
        "--driver-option", f"unlock_code={UNLOCK}", "--trigger", "ftdi://ftdi:232h/1?pin=0",
        "--operator", "dr-lee", "--password-stdin",
    )  # fmt: skip
    assert code == ExitCode.BAD_INPUT, err
    assert "needs the Python package 'pyftdi' (pip install 'stimctl[ftdi]')" in err
    assert "Traceback" not in err
    # the plan comes first (issue 16); the refusal is one line, the last, said once
    lines = err.strip().splitlines()
    assert lines[0].startswith("plan: ")
    assert "pyftdi" in lines[-1] and sum("pyftdi" in line for line in lines) == 1


SHORT_TBS = """schema_version = 1
name = "tbs-short"
title = "Three theta bursts at 80% AMT"
indication = "research"
source = "test"
[target]
site = "M1-hand"
hemisphere = "left"
[coil]
family = "figure-8"
[intensity]
percent_amt = 80
muscle = "hand"
[pattern]
kind = "theta-burst"
pulses_per_burst = 3
burst_frequency_hz = 50.0
burst_rate_hz = 5.0
train_duration_s = 0.6
trains = 1
"""


def test_a_session_on_record_with_a_trigger_is_judged_with_it_when_claimed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start-of-session re-check under the subject's lock (records_link) must know the
    trigger too: without it, a theta burst on a Rapid² that `prepare` allowed through Trigger
    In was refused at the claim with TBS-5 ("an external trigger source is needed")."""
    protocol = tmp_path / "tbs-short.toml"
    protocol.write_text(SHORT_TBS)
    answers = tmp_path / "answers.toml"
    items = "\n".join(f"{item} = false" for item in screening_table().items)
    today = dt.date.today().isoformat()
    answers.write_text(f'questionnaire = "rossi-2011"\nanswered_on = {today}\n[answers]\n{items}\n')
    assert _cli(capsys, "subject", "add", "S-01")[0] == 0
    assert _cli(capsys, "screen", "S-01", "--answers", str(answers))[0] == 0
    assert _cli(capsys, "rmt", "record", "S-01", "--value", "52", "--method", "emg")[0] == 0
    amt = ("--value", "40", "--method", "emg", "--type", "amt")
    assert _cli(capsys, "rmt", "record", "S-01", *amt)[0] == 0
    from stimctl.records import Store
    from tests.identity.people import register

    with Store.open() as store:
        register(store, "dr-lee")
    monkeypatch.setattr("sys.stdin", io.StringIO("lee-pass-1\n"))
    port = (
        f"stimsim://magstim-rapid2?version=10&unlock_code={UNLOCK}&type=super-plus"
        "&trigger=sim://claim-test"
    )
    code, out, err = _cli(
        capsys,
        "run", str(protocol), "--subject", "S-01", "--device",
        "magstim-rapid2-super-plus-240v", "--port", port, "--headless", "--yes",
        "--driver-option", f"unlock_code={UNLOCK}", "--trigger", "sim://claim-test",
        "--operator", "dr-lee", "--password-stdin", "--json",
    )  # fmt: skip
    assert "TBS-5" not in err and "external trigger source" not in err, err
    assert code == ExitCode.OK, err
    summary = json.loads(out)
    assert summary["pulses_delivered"] == 9, summary
