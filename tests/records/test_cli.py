"""The records commands end to end: one clear line and a distinct exit code on errors."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ExitCode
from stimctl.records import Store, begin_session, end_session
from stimctl.safety.tables import screening_table
from tests.identity.people import SECRETS, register
from tests.records.conftest import DIGEST, NOW, write_journal


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_subject_add_list_show(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "subject", "add", "S-01")[0] == ExitCode.OK
    assert run(capsys, "rmt", "record", "S-01", "--value", "55", "--method", "emg")[0] == 0
    code, out, _ = run(capsys, "subject", "list")
    assert code == 0 and out.startswith("S-01")
    code, out, _ = run(capsys, "subject", "show", "S-01")
    assert code == 0 and "RMT: 55% MSO, emg, FDI" in out


def test_unknown_subject_is_one_line_and_exit_2(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "subject", "show", "S-404")
    assert code == ExitCode.BAD_INPUT
    assert "unknown subject 'S-404'" in _one_line_error(err)


def test_threshold_above_100_mso_is_one_line_and_exit_2(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "subject", "add", "S-01")
    code, _, err = run(capsys, "rmt", "record", "S-01", "--value", "101", "--method", "emg")
    assert code == ExitCode.BAD_INPUT
    assert "outside 10-100 % MSO" in _one_line_error(err)
    assert "RMT: none on record" in run(capsys, "subject", "show", "S-01")[1]


def _answers_file(path: Path, skip: str | None = None) -> Path:
    items = [k for k in screening_table().items if k != skip]
    body = "\n".join(f"{k} = false" for k in items)
    path.write_text(
        f'questionnaire = "rossi-2011"\nanswered_on = 2026-11-24\n[answers]\n{body}\n',
        encoding="utf-8",
    )
    return path


def test_screening_file_with_a_missing_answer_is_one_line_and_exit_2(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "subject", "add", "S-01")
    bad = _answers_file(tmp_path / "bad.toml", skip="cochlear_implant")
    code, _, err = run(capsys, "screen", "S-01", "--answers", str(bad))
    assert code == ExitCode.BAD_INPUT
    assert "answers.cochlear_implant: missing answer" in _one_line_error(err)
    good = _answers_file(tmp_path / "good.toml")
    code, out, _ = run(capsys, "screen", "S-01", "--answers", str(good), "--reviewer", "dr-lee")
    assert code == 0 and "no contraindications answered yes" in out


def test_corrupted_database_is_one_line_and_exit_7(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home.mkdir(parents=True)
    (home / "stimctl.db").write_bytes(b"\x00garbage" * 1000)
    code, _, err = run(capsys, "subject", "list")
    assert code == ExitCode.RECORDS
    assert "corrupted" in _one_line_error(err)


def test_interactive_screening_asks_every_item(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "subject", "add", "S-01")
    count = len(screening_table().items)
    answers = "y\n" + "n\n" * (count - 1) + "sertraline\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(answers))
    code, out, _ = run(capsys, "screen", "S-01")
    assert code == 0
    first = next(iter(screening_table().items))
    assert f"yes to {first}" in out


def test_interactive_screening_cut_short_records_nothing(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "subject", "add", "S-01")
    monkeypatch.setattr("sys.stdin", io.StringIO("n\nn\n"))  # then end of input
    code, _, _ = run(capsys, "screen", "S-01")
    assert code == ExitCode.INTERRUPTED
    assert "screening: none on record" in run(capsys, "subject", "show", "S-01")[1]


def test_ae_record_blocks_and_review_clears(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "subject", "add", "S-01")
    code, out, _ = run(capsys, "ae", "record", "S-01", "--kind", "seizure", "--severity", "severe")
    assert code == 0 and "blocked (SES-4)" in out
    event_id = out.split("stimctl ae review ")[1].split()[0]
    assert "BLOCKS until reviewed" in run(capsys, "ae", "list", "S-01")[1]
    with Store.open() as store:
        register(store, "dr-lee")
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRETS["dr-lee"] + "\n"))
    code, _, _ = run(
        capsys, "ae", "resolve", event_id, "--by", "dr-lee", "--notes", "EEG ok",
        "--password-stdin",
    )  # fmt: skip
    assert code == 0
    assert "reviewed by dr-lee" in run(capsys, "ae", "list", "S-01")[1]


def test_course_start_and_unknown_protocol(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "subject", "add", "S-01")
    # a prescription is checked on the subject's records: no threshold, no course
    with Store.open() as store:
        register(store, "dr-lee")
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRETS["dr-lee"] + "\n"))
    code, _, err = run(
        capsys, "course", "start", "S-01", "dep-saint", "--sessions", "50", "--by", "dr-lee",
        "--password-stdin",
    )  # fmt: skip
    assert code == ExitCode.BAD_INPUT and "no motor threshold" in _one_line_error(err)
    code, _, err = run(capsys, "course", "start", "S-01", "no-such", "--sessions", "5")
    assert code == ExitCode.BAD_INPUT
    assert "unknown protocol" in _one_line_error(err)


def test_sessions_show_flags_a_rewritten_journal_with_exit_1(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "subject", "add", "S-01")
    path, head, pulses = write_journal(tmp_path / "journals", "sess-1")
    with Store.open() as store:
        begin_session(
            store,
            session_id="sess-1",
            subject_id="S-01",
            protocol_name="p",
            protocol_digest=DIGEST,
            pulses_planned=pulses,
            started_at=NOW,
            journal_path=path,
        )
        end_session(
            store,
            "sess-1",
            status="completed",
            pulses_delivered=pulses,
            chain_head=head,
            ended_at=NOW,
        )
    code, out, _ = run(capsys, "sessions", "show", "sess-1")
    assert code == 0 and "journal: UNSIGNED: intact but UNSIGNED" in out
    assert "sess-1" in run(capsys, "sessions", "list", "--subject", "S-01")[1]
    path.write_bytes(b"\n".join(path.read_bytes().splitlines()[:-1]) + b"\n")
    code, out, _ = run(capsys, "sessions", "show", "sess-1")
    assert code == ExitCode.TAMPERED
    assert "journal: TAMPERED: the seal after session_end is missing" in out
    out_dir = tmp_path / "export"
    code, _, err = run(capsys, "export", "S-01", "--format", "csv", "-o", str(out_dir))
    assert code == ExitCode.TAMPERED
    _one_line_error(err)


def test_export_writes_the_chosen_format(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "subject", "add", "S-01")
    for fmt in ("csv", "json", "bids"):
        code, out, _ = run(capsys, "export", "S-01", "--format", fmt, "-o", str(tmp_path / fmt))
        assert code == 0, fmt
        assert Path(out.splitlines()[0]).is_file()


def test_rmt_group_lists_the_lazy_hunt_command(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "rmt", "--help")
    assert code == 0
    assert "hunt" in out and "record" in out


def test_rmt_on_an_unknown_device_profile_is_refused(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "subject", "add", "S-01")
    code, _, err = run(
        capsys, "rmt", "record", "S-01", "--value", "50", "--method", "emg", "--device", "nope"
    )
    assert code == ExitCode.BAD_INPUT
    assert "nope" in _one_line_error(err)
