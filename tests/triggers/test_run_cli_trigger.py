"""`stimctl run --trigger URL` through the console script: a trigger line whose package
is missing stops the session with one line and exit 2, never with a traceback (issue 18
item 1). That the device is closed disarmed then is shown on the simulator in
test_session_trigger.py (`test_a_trigger_that_cannot_open_stops_the_session...`)."""

from __future__ import annotations

import datetime as dt
import io
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
