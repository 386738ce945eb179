"""`stimctl check` and the library commands, end to end through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stimctl.cli import main

# Needs an override (10 s trains at 10 Hz); no shipped protocol does (issue 15 item 7).
OVERRIDE_PROTOCOL = str(Path(__file__).resolve().parents[1] / "data" / "pain-10hz-10s-trains.toml")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("dep-fda-10hz", "--rmt", "55"), 0),
        ((OVERRIDE_PROTOCOL, "--rmt", "55"), 1),
        (("dep-fda-10hz", "--rmt", "90"), 3),  # 108% MSO: not deliverable
        (("dep-itbs-three-d", "--rmt", "55", "--device", "magstim-rapid2-standard-240v"), 3),
    ],
)
def test_exit_code_follows_the_verdict(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], code: int
) -> None:
    assert run(capsys, "check", *args)[0] == code


def test_json_output_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "np-m1-10hz-90", "--rmt", "50", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["verdict"] == "allow"
    assert set(data["findings"][0]) == {"rule", "severity", "message", "value", "limit", "source"}
    assert data["protocol"]["total_pulses"] == 2000
    assert data["protocol"]["dose_percent_mso"] == 45.0


def test_coil_option_replaces_the_protocol_coil(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "check", "dep-h1-deep-tms", "--rmt", "50", "--coil", "figure-8", "--json"
    )
    assert code == 3
    assert any(
        f["rule"] == "WASS1998_T4" and f["severity"] == "block" for f in json.loads(out)["findings"]
    )


def test_human_output_names_rule_and_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", OVERRIDE_PROTOCOL, "--rmt", "55")
    assert code == 1
    assert "WASS1998_T4" in out and "Wassermann 1998" in out and "OVERRIDE" in out


BAD = [
    (("check", "nope", "--rmt", "50"), "unknown protocol 'nope'"),
    (("check", "dep-fda-10hz", "--rmt", "55%"), "not a number of % MSO"),
    (("check", "dep-fda-10hz", "--rmt", "150"), "outside 10-100"),
    (("check", "dep-fda-10hz", "--rmt", "50", "--rmt-date", "24/11/2026"), "YYYY-MM-DD"),
    (("check", "dep-fda-10hz", "--rmt", "50", "--device", "magstim-9000"), "unknown device"),
    (("check", "/no/such/file.toml", "--rmt", "50"), "no such file"),
    (("check", "dep-fda-10hz"), "--rmt"),
    (("protocols", "show", "nope"), "unknown protocol"),
    (("devices", "show", "nope"), "unknown device"),
]


@pytest.mark.parametrize(("args", "text"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], text: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert text in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err + out


def test_bad_protocol_file_through_the_console_script(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'schema_version = 1\nname = "x"\n[pattern]\nkind = "train"\nfrequency_hz = "fast"\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "stimctl", "check", str(path), "--rmt", "50"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"stimctl: error: {path}: ")
    assert "Traceback" not in result.stderr
    # One headline, then every problem on its own indented line (issue 16: all at once).
    head, *problems = result.stderr.strip().splitlines()
    assert head.endswith(f"{len(problems)} problems, one a line:")
    assert "  pattern.frequency_hz: Input should be a valid number (got 'fast')" in problems
    assert all(line.startswith("  ") for line in problems)


def test_screening_option(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from stimctl.safety.tables import screening_table

    answers = "\n".join(
        f"{k} = {'true' if k == 'cochlear_implant' else 'false'}" for k in screening_table().items
    )
    import datetime as dt

    path = tmp_path / "s.toml"
    today = dt.date.today().isoformat()
    header = f'questionnaire = "rossi-2011"\nanswered_on = {today}\n'
    path.write_text(f"{header}[answers]\n{answers}\n")
    code, out, _ = run(
        capsys, "check", "dep-fda-10hz", "--rmt", "50", "--screening", str(path), "--json"
    )
    assert code == 3
    assert any(f["rule"] == "SCR-1" for f in json.loads(out)["findings"])


def test_library_listings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "protocols", "list", "--json")
    names = {row["name"] for row in json.loads(out)}
    assert code == 0 and {"np-m1-10hz-90", "dep-fda-10hz", "dep-saint"} <= names
    code, out, _ = run(capsys, "devices", "list", "--json")
    devices = {row["name"] for row in json.loads(out)}
    assert {"magstim-rapid2-super-plus-115v", "magpro-x100", "magstim-bistim"} <= devices
    code, out, _ = run(capsys, "protocols", "show", "dep-saint")
    assert code == 0 and "  total:      1800 pulses in" in out


def test_check_prints_a_legend_of_the_status_tags(capsys: pytest.CaptureFixture[str]) -> None:
    # issue 15 item 2: every finding's source carries a tag; the legend says what each means
    code, out, _ = run(capsys, "check", "dep-fda-10hz", "--rmt", "55")
    assert code == 0
    legend = out[out.index("tags:") :]
    for tag, word in [
        ("[V]", "verified"),
        ("[V2]", "secondary"),
        ("[R]", "recalled"),
        ("[P]", "proposed"),
        ("[E]", "envelope"),
    ]:
        assert f"{tag} {word}" in legend, tag
    data = json.loads(run(capsys, "check", "dep-fda-10hz", "--rmt", "55", "--json")[1])
    assert set(data["tags"]) == {"V", "V2", "R", "U", "P", "E"}
