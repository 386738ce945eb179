"""`protocols show` and `check` print words and units a newcomer can read (issue 16).

No Python dicts, a mean rate that is pulses over the session's duration (a 10 Hz train
protocol with 25 s pauses averages 1.7 Hz), comparisons in words instead of
"train 5 s <= >5 s", wrapped lines that keep their indent, and a `check` without
`--device` that says the device rules were not checked.
"""

from __future__ import annotations

import json

import pytest

from stimctl.cli import main
from stimctl.protocol import derive, load_protocol


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_mean_rate_is_pulses_over_the_session_duration() -> None:
    d = derive(load_protocol("np-m1-10hz-90"))
    assert d.session_mean_rate_hz == pytest.approx(2000 / 1175.0)
    assert d.train_mean_rate_hz == 10.0
    assert d.as_dict()["session_mean_rate_hz"] == pytest.approx(1.702, abs=1e-3)
    assert "mean_rate_hz" not in d.as_dict()  # the ambiguous name is gone


def test_protocols_show_prints_fields_in_words(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "70")
    code, out = run(capsys, "protocols", "show", "np-m1-10hz-90")
    assert code == 0
    assert "{" not in out and "': " not in out, out
    assert "  pattern:    40 train(s) of 50 pulses at 10 Hz (5 s), 25 s pauses" in out
    assert "  intensity:  90% of the resting motor threshold (RMT)" in out
    assert "  total:      2000 pulses in 19 min 35 s" in out
    assert "  mean rate:  1.70 Hz over the session" in out
    # a wrapped value continues under the value column, not at column 0
    for line in out.splitlines()[1:]:
        assert line.startswith("  "), line
        assert len(line) <= 70


def test_protocols_show_json_has_the_session_mean_rate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(capsys, "protocols", "show", "np-m1-10hz-90", "--json")
    assert code == 0
    derived = json.loads(out)["derived"]
    assert derived["session_mean_rate_hz"] == pytest.approx(1.702, abs=1e-3)
    assert derived["train_mean_rate_hz"] == 10.0


def test_check_says_comparisons_in_words_and_keeps_indents(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "72")
    code, out = run(capsys, "check", "np-m1-10hz-90", "--rmt", "55")
    assert code == 0
    assert "<=" not in out.split("sources:")[0]
    assert "train of 5 s is within" in out
    sources = out.split("sources:\n", 1)[1].split("tags:", 1)[0]
    assert sources.count("\n") > 5  # long sources wrapped at 72 columns...
    for line in sources.splitlines():
        assert line.startswith("  "), line  # ...and every continuation keeps its indent
    header = out.splitlines()[1:3]
    assert all(line.startswith("  ") for line in header if "%" in line), header


def test_check_without_device_says_device_rules_were_not_checked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(capsys, "check", "np-m1-10hz-90", "--rmt", "55")
    assert code == 0
    assert "device rules not checked (no --device)" in out
    code, out = run(capsys, "check", "np-m1-10hz-90", "--rmt", "55", "--json")
    assert json.loads(out)["device_rules_checked"] is False
    code, out = run(
        capsys, "check", "np-m1-10hz-90", "--rmt", "55", "--device", "magstim-rapid2-super-240v"
    )
    assert "device rules not checked" not in out
