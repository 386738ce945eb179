"""Roles end to end through the real CLI, on real SQLite files and simulators.

Passwords go in on standard input (``--password-stdin``: the operator's line first, then
``--override-password-stdin``: the signer's), as a script or a test would give them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ExitCode
from stimctl.identity import auth_events, signatures_of
from stimctl.journal import read
from stimctl.records import Store, list_courses, list_sessions
from stimctl.safety.tables import screening_table
from tests.identity.people import SECRETS, register

SHORT = """schema_version = 1
name = "short"
title = "2 pulses at 2 Hz"
indication = "research"
source = "test"
[target]
site = "M1-hand"
hemisphere = "left"
[coil]
family = "figure-8"
[intensity]
percent_rmt = 100
[pattern]
kind = "continuous"
frequency_hz = 2.0
pulses = 2
"""
# a protocol whose standard session needs an override (WASS1998_T4 '>' cell, issue 15)
OVERRIDE_PROTOCOL = str(Path(__file__).resolve().parents[1] / "data" / "pain-10hz-10s-trains.toml")
OVERRIDE = (OVERRIDE_PROTOCOL, "--rmt", "50", "--override-reason", "Hodaj regime per protocol")


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
        self.capsys = capsys
        self.monkeypatch = monkeypatch

    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        self.monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(capsys, monkeypatch)


@pytest.fixture
def people(home: Path) -> None:
    with Store.open() as store:
        register(store)


@pytest.fixture
def subject(home: Path, tmp_path: Path, cli: Cli) -> str:
    """S-01 with a screening and an RMT on record: ready for a clinical session."""
    answers = tmp_path / "answers.toml"
    items = "\n".join(f"{item} = false" for item in screening_table().items)
    today = dt.date.today().isoformat()
    answers.write_text(f'questionnaire = "rossi-2011"\nanswered_on = {today}\n[answers]\n{items}\n')
    assert cli("subject", "add", "S-01")[0] == 0
    assert cli("screen", "S-01", "--answers", str(answers))[0] == 0
    assert cli("rmt", "record", "S-01", "--value", "40", "--method", "emg")[0] == 0
    return "S-01"


@pytest.fixture
def short(tmp_path: Path) -> str:
    path = tmp_path / "short.toml"
    path.write_text(SHORT)
    return str(path)


def _one_line(err: str) -> str:
    # a site file of the test's own is shown as locally modified (issue 13 item 5): a
    # warning before the one error line
    lines = [line for line in err.strip().splitlines() if not line.startswith("locally modified")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _journals(home: Path) -> list[Path]:
    folder = home / "journals"
    return sorted(folder.glob("*.jsonl")) if folder.exists() else []


def _clinical_run(short: str, *extra: str) -> tuple[str, ...]:
    return (
        "run",
        short,
        "--subject",
        "S-01",
        "--device",
        "magpro-x100",
        "--port",
        "stimsim://magpro-x100",
        "--headless",
        "--yes",
        "--json",
        *extra,
    )


# --- the first-operator rule ----------------------------------------------------------


def test_first_operator_rule_on_the_command_line(home: Path, cli: Cli) -> None:
    add_ann = ("operator", "add", "op-ann", "--name", "Ann Operator", "--role", "operator")
    code, _, err = cli(*add_ann, "--password-stdin", stdin="ann-pass-1\n")
    assert code == ExitCode.AUTH
    assert "first operator must be a physician or an engineer" in _one_line(err)
    code, out, _ = cli(
        "operator", "add", "dr-lee", "--name", "Dr. Ann Lee", "--role", "physician",
        "--password-stdin", stdin="lee-pass-1\n",
    )  # fmt: skip
    assert code == 0 and "as the first operator" in out
    # later ones: a physician's or engineer's credential, then the new one's
    code, _, err = cli(*add_ann, "--password-stdin", stdin="ann-pass-1\n")
    assert code == ExitCode.AUTH and "give --by ID" in _one_line(err)
    code, _, err = cli(*add_ann, "--by", "dr-lee", "--password-stdin", stdin="wrong-one\nx\n")
    assert code == ExitCode.AUTH and "wrong credential" in _one_line(err)
    code, out, _ = cli(
        *add_ann, "--by", "dr-lee", "--password-stdin", stdin="lee-pass-1\nann-p-1\n"
    )
    assert code == 0 and "registered operator op-ann (Ann Operator) by dr-lee" in out
    code, out, _ = cli("operator", "list", "--json")
    assert {(o["id"], o["role"], o["state"]) for o in json.loads(out)} == {
        ("dr-lee", "physician", "active"),
        ("op-ann", "operator", "active"),
    }
    # an operator cannot register anyone
    code, _, err = cli(
        "operator", "add", "op-bo", "--name", "Bo Op", "--role", "operator", "--by", "op-ann",
        "--password-stdin", stdin="ann-p-1\nbo-pass-1\n",
    )  # fmt: skip
    assert code == ExitCode.AUTH and "op-ann" in _one_line(err)


# --- an operator cannot sign an override, a prescription or a review -----------------


def test_an_operator_cannot_sign_an_override(home: Path, people: None, cli: Cli) -> None:
    code, _, err = cli(
        "dry-run", *OVERRIDE, "--override-operator", "op-ann", "--override-password-stdin",
        stdin=SECRETS["op-ann"] + "\n",
    )  # fmt: skip
    assert code == ExitCode.AUTH
    assert "'op-ann' is an operator" in _one_line(err) and "needs a physician" in err
    assert _journals(home) == []  # no session started
    with Store.open() as store:
        assert signatures_of(store) == []
        assert auth_events(store, "op-ann")[-1].event == "refused-role"


def test_a_physician_signs_an_override_with_a_fresh_entry(
    home: Path, people: None, cli: Cli
) -> None:
    code, out, err = cli(
        "dry-run", *OVERRIDE, "--json", "--operator", "op-ann", "--password-stdin",
        "--override-operator", "dr-lee", "--override-password-stdin",
        stdin=f"{SECRETS['op-ann']}\n{SECRETS['dr-lee']}\n",
    )  # fmt: skip
    assert code == 0, err
    journal = Path(json.loads(out)["journal"])
    records = read(journal)
    start = records[0]["payload"]
    assert start["operator"] == "operator:op-ann"
    assert start["operator_identity"]["role"] == "operator"
    assert start["operator_identity"]["authenticated"] is True
    (override,) = [r for r in records if r["event"] == "override"]
    assert override["actor"] == "operator:dr-lee"
    signed = override["payload"]["signature"]
    assert signed["signer_name"] == "Dr. Ann Lee"
    assert signed["meaning"] == "approved override of WASS1998_T4"
    with Store.open() as store:
        (stored,) = signatures_of(store, "override")
    assert stored.as_dict() == signed and stored.record_id == override["payload"]["override_id"]
    code, out, _ = cli("report", str(journal), "--format", "json", "-o", "-")
    assert json.loads(out)["signatures"] == [signed]


def test_an_override_without_the_signers_entry_is_refused(
    home: Path, people: None, cli: Cli
) -> None:
    # one line for the operator, none left for the signer: no override, no session
    code, _, err = cli(
        "dry-run", *OVERRIDE, "--operator", "dr-lee", "--password-stdin",
        "--override-operator", "dr-lee", "--override-password-stdin",
        stdin=f"{SECRETS['dr-lee']}\n",
    )  # fmt: skip
    assert code == ExitCode.AUTH and "standard input ended" in _one_line(err)
    assert _journals(home) == []


def test_an_operator_cannot_prescribe_a_course(
    home: Path, people: None, subject: str, cli: Cli
) -> None:
    # a prescription the subject's records allow (issue 15: SAINT needs cortical depths)
    start = ("course", "start", subject, "np-m1-10hz-90", "--sessions", "10", "--password-stdin")
    code, _, err = cli(*start, "--by", "op-ann", stdin=SECRETS["op-ann"] + "\n")
    assert code == ExitCode.AUTH and "needs a physician" in _one_line(err)
    code, _, err = cli(*start, stdin=SECRETS["dr-lee"] + "\n")
    assert code == ExitCode.AUTH and "give --by ID" in _one_line(err)
    with Store.open() as store:
        assert list_courses(store, subject) == []
    code, out, _ = cli(*start, "--by", "dr-lee", stdin=SECRETS["dr-lee"] + "\n")
    assert code == 0 and "prescribed by Dr. Ann Lee" in out
    with Store.open() as store:
        (course,) = list_courses(store, subject)
        (signature,) = signatures_of(store, "course", course.id)
    assert signature.meaning.startswith("prescribed course of np-m1-10hz-90, 10 sessions")


def test_an_operator_cannot_review_an_adverse_event(
    home: Path, people: None, subject: str, cli: Cli
) -> None:
    code, out, _ = cli("ae", "record", subject, "--kind", "seizure", "--severity", "severe")
    event_id = out.split("stimctl ae review ")[1].split()[0]
    review = ("ae", "review", event_id, "--password-stdin", "--notes")
    code, _, err = cli(*review, "EEG normal, cleared", "--by", "op-ann", stdin="ann-pass-1\n")
    assert code == ExitCode.AUTH and "needs a physician" in _one_line(err)
    code, _, err = cli(*review, ".", "--by", "dr-lee", stdin="lee-pass-1\n")
    assert code == ExitCode.BAD_INPUT and "review notes" in _one_line(err)
    assert "BLOCKS until reviewed" in cli("ae", "list", subject)[1]
    code, _, _ = cli(*review, "EEG normal, cleared", "--by", "dr-lee", stdin="lee-pass-1\n")
    assert code == 0
    with Store.open() as store:
        (signature,) = signatures_of(store, "adverse_event_review", event_id)
    assert signature.meaning == "reviewed adverse event " + signature.meaning.split("event ")[1]
    assert signature.signer_id == "dr-lee"


# --- sessions need an enabled, authenticated operator --------------------------------


def test_a_clinical_run_needs_an_authenticated_operator(
    home: Path, people: None, subject: str, short: str, cli: Cli
) -> None:
    code, _, err = cli(*_clinical_run(short))
    assert code == ExitCode.AUTH
    assert "needs an authenticated operator" in _one_line(err)
    code, _, err = cli(*_clinical_run(short, "--operator", "eng-kim", "--password-stdin"),
                       stdin=SECRETS["eng-kim"] + "\n")  # fmt: skip
    assert code == ExitCode.AUTH and "is an engineer" in _one_line(err)
    with Store.open() as store:
        assert list_sessions(store, subject) == []
    cli.monkeypatch.setenv("STIMCTL_OPERATOR", "op-ann")
    code, out, err = cli(*_clinical_run(short, "--password-stdin"), stdin=SECRETS["op-ann"] + "\n")
    assert code == 0, err
    start = read(Path(json.loads(out)["journal"]))[0]["payload"]
    assert start["operator"] == "operator:op-ann"
    with Store.open() as store:
        (session,) = list_sessions(store, subject)
    assert session.operator_id == "op-ann"


def test_a_disabled_operator_cannot_start_a_session(
    home: Path, people: None, subject: str, short: str, cli: Cli
) -> None:
    code, _, _ = cli("operator", "disable", "op-ann", "--by", "dr-lee", "--password-stdin",
                     stdin=SECRETS["dr-lee"] + "\n")  # fmt: skip
    assert code == 0
    code, _, err = cli(*_clinical_run(short, "--operator", "op-ann", "--password-stdin"),
                       stdin=SECRETS["op-ann"] + "\n")  # fmt: skip
    assert code == ExitCode.AUTH and "'op-ann' is disabled" in _one_line(err)
    code, _, err = cli("dry-run", short, "--rmt", "40", "--operator", "op-ann",
                       "--password-stdin", stdin=SECRETS["op-ann"] + "\n")  # fmt: skip
    assert code == ExitCode.AUTH and "'op-ann' is disabled" in _one_line(err)
    assert _journals(home) == []
    with Store.open() as store:
        assert list_sessions(store, subject) == []
    assert "op-ann               operator   disabled" in cli("operator", "list")[1]


def test_three_wrong_passwords_lock_the_account_and_are_recorded(
    home: Path, people: None, short: str, cli: Cli
) -> None:
    attempt = ("dry-run", short, "--rmt", "40", "--operator", "op-ann", "--password-stdin")
    errors = [cli(*attempt, stdin="not-the-one\n") for _ in range(3)]
    assert [code for code, _, _ in errors] == [ExitCode.AUTH] * 3
    assert "wrong credential" in _one_line(errors[0][2])
    assert "the account is locked until" in _one_line(errors[2][2])
    code, _, err = cli(*attempt, stdin=SECRETS["op-ann"] + "\n")
    assert code == ExitCode.AUTH and "is locked after 3 wrong entries" in _one_line(err)
    assert _journals(home) == []
    out = cli("operator", "events", "op-ann")[1]
    assert out.count("credential-rejected") == 3 and " locked " in out and "refused-locked" in out


def test_wrong_entries_before_a_session_are_journaled(
    home: Path, people: None, short: str, cli: Cli
) -> None:
    attempt = ("dry-run", short, "--rmt", "40", "--json", "--operator", "op-ann")
    assert cli(*attempt, "--password-stdin", stdin="not-the-one\n")[0] == ExitCode.AUTH
    code, out, _ = cli(*attempt, "--password-stdin", stdin=SECRETS["op-ann"] + "\n")
    assert code == 0
    start = read(Path(json.loads(out)["journal"]))[0]["payload"]
    assert start["operator_identity"]["failed_entries_before"] == 1


def test_unauthenticated_dry_runs_follow_the_site_file(
    home: Path, tmp_path: Path, short: str, cli: Cli
) -> None:
    code, out, _ = cli("dry-run", short, "--rmt", "40", "--json")
    assert code == 0
    start = read(Path(json.loads(out)["journal"]))[0]["payload"]
    assert start["operator"] == "operator:local"
    assert start["operator_identity"] == {"id": "local", "authenticated": False}
    site = tmp_path / "site.toml"
    site.write_text("schema_version = 1\nunauthenticated_dry_runs = false\n")
    code, _, err = cli("dry-run", short, "--rmt", "40", "--site", str(site))
    assert code == ExitCode.AUTH and "needs an authenticated operator" in _one_line(err)


# --- invalid ids and reasons, table-driven --------------------------------------------

ZWSP = "\u200b"
BAD_OPERATOR_IDS = ["", " ", "dr lee", "dr-lee\n", "<script>", f"op-ann{ZWSP}", ".", "engine"]


@pytest.mark.parametrize("value", BAD_OPERATOR_IDS)
def test_invalid_operator_ids_are_refused_with_exit_2(
    home: Path, people: None, short: str, cli: Cli, value: str
) -> None:
    code, _, err = cli("dry-run", short, "--rmt", "40", "--operator", value, "--password-stdin",
                       stdin="whatever\n")  # fmt: skip
    assert code == ExitCode.BAD_INPUT
    _one_line(err)
    assert _journals(home) == []


@pytest.mark.parametrize("value", [" ", "dr lee", "<script>", f"dr-lee{ZWSP}", ".", "engine"])
def test_invalid_override_signers_are_refused(
    home: Path, people: None, cli: Cli, value: str
) -> None:
    code, _, err = cli("dry-run", *OVERRIDE, "--override-operator", value,
                       "--override-password-stdin", stdin="lee-pass-1\n")  # fmt: skip
    assert code in (ExitCode.BAD_INPUT, ExitCode.AUTH)
    assert "invalid operator id" in _one_line(err)
    assert _journals(home) == []


@pytest.mark.parametrize(
    "reason", ["", " ", "\n", ".", ZWSP, "ok", "<script>alert(1)</script>", "a b c"]
)
def test_invalid_override_reasons_are_refused(
    home: Path, people: None, cli: Cli, reason: str
) -> None:
    code, _, err = cli(
        "dry-run", OVERRIDE_PROTOCOL, "--rmt", "50", "--override-operator", "dr-lee",
        "--override-reason", reason, "--override-password-stdin", stdin="lee-pass-1\n",
    )  # fmt: skip
    assert code in (ExitCode.BAD_INPUT, ExitCode.OVERRIDE_REQUIRED)
    assert "reason" in _one_line(err)
    assert _journals(home) == []
    with Store.open() as store:
        assert signatures_of(store) == []


@pytest.mark.parametrize(
    ("name", "text"),
    [("", "name"), ("Ann\nLee", "control character"), ("<script>", "contains"), (".", "name")],
)
def test_invalid_printed_names_are_refused(home: Path, cli: Cli, name: str, text: str) -> None:
    code, _, err = cli("operator", "add", "dr-lee", "--name", name, "--role", "physician",
                       "--password-stdin", stdin="lee-pass-1\n")  # fmt: skip
    assert code == ExitCode.BAD_INPUT and text in _one_line(err)


def test_passwd_own_and_reset_by_a_physician(home: Path, people: None, cli: Cli) -> None:
    own = ("operator", "passwd", "op-ann", "--password-stdin")
    code, _, err = cli(*own, stdin="not-the-one\nnew-pass-1\n")
    assert code == ExitCode.AUTH and "wrong credential" in _one_line(err)
    assert cli(*own, stdin=f"{SECRETS['op-ann']}\nnew-pass-1\n")[0] == 0
    code, _, err = cli(*own, stdin=f"{SECRETS['op-ann']}\nnew-pass-2\n")
    assert code == ExitCode.AUTH  # the old one no longer works
    reset = ("operator", "passwd", "dr-roe", "--by", "op-ann", "--password-stdin")
    code, _, err = cli(*reset, stdin="new-pass-1\nroe-new-1\n")
    assert code == ExitCode.AUTH and "is an operator" in _one_line(err)
    reset = ("operator", "passwd", "op-ann", "--by", "dr-lee", "--password-stdin")
    assert cli(*reset, stdin=f"{SECRETS['dr-lee']}\nreset-pass-1\n")[0] == 0
    code, _, err = cli("operator", "passwd", "op-ann", stdin="")
    assert code == ExitCode.AUTH and "use --password-stdin" in _one_line(err)


@pytest.mark.parametrize("value", ["engine", "<script>", " ", f"dr-lee{ZWSP}"])
def test_screening_reviewers_and_ae_recorders_are_people(
    home: Path, subject: str, cli: Cli, value: str
) -> None:
    code, _, err = cli("ae", "record", subject, "--kind", "headache", "--severity", "mild",
                       "--by", value)  # fmt: skip
    assert code == ExitCode.BAD_INPUT and "invalid operator id" in _one_line(err)
    code, _, err = cli("screen", subject, "--answers", "/nonexistent.toml", "--reviewer", value)
    assert code == ExitCode.BAD_INPUT and "invalid operator id" in _one_line(err)


def test_a_signed_override_survives_the_recheck_at_the_start_on_record(
    home: Path, people: None, subject: str, cli: Cli
) -> None:
    """With a subject on record the rules are re-checked under the subject's lock at the
    start (`SessionRecorder.claim`); the override it accepts is the one the physician
    signed, and `open_session` (which refuses unsigned overrides) opens the session."""
    code, out, err = cli(
        "dry-run", OVERRIDE_PROTOCOL, "--subject", subject, "--json",
        "--operator", "op-ann", "--password-stdin",
        "--override-operator", "dr-lee", "--override-reason", "Hodaj regime per protocol",
        "--override-password-stdin",
        stdin=f"{SECRETS['op-ann']}\n{SECRETS['dr-lee']}\n",
    )  # fmt: skip
    assert code == 0, err
    records = read(Path(json.loads(out)["journal"]))
    (override,) = [r for r in records if r["event"] == "override"]
    with Store.open() as store:
        (stored,) = signatures_of(store, "override")
    assert override["payload"]["signature"] == stored.as_dict()
    assert override["payload"]["override_id"] == stored.record_id
