"""`stimctl keys ...` and `stimctl site approve` need an authenticated engineer.

Creating or rotating the site's journal signing key and approving a modified safety
table or site file were open to anyone at the keyboard. The roles table
(`stimctl.identity.operators.ALLOWED`) gives both to the engineer ("manage keys",
"change site files"). A wrong role, a wrong password or no operator named is exit 10
(AUTH), one line, and nothing changes. The one bootstrap is the one `operator add` has:
while no operator is registered, `keys init` makes the installation's first key.
Real SQLite stores, the real CLI, passwords on standard input.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ExitCode
from stimctl.identity import auth_events, signatures_of
from stimctl.records import Store
from tests.identity.people import SECRETS, register


def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = ""
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def people(home: Path) -> None:
    with Store.open() as store:
        register(store)  # dr-lee (physician), eng-kim (engineer), op-ann, dr-roe


def _keys_on_record() -> list[tuple[str, str | None]]:
    with Store.open() as store, store.read() as conn:
        rows = conn.execute("SELECT key_id, retired_at FROM signing_keys ORDER BY created_at")
        return [(str(k), r) for k, r in rows.fetchall()]


def _key_files(home: Path) -> list[str]:
    keys = home / "keys"
    return sorted(p.name for p in keys.iterdir()) if keys.exists() else []


def _approvals() -> int:
    with Store.open() as store, store.read() as conn:
        return int(conn.execute("SELECT count(*) FROM site_approvals").fetchone()[0])


REFUSALS = {
    "no operator named": ((), ""),
    "an operator": (("--by", "op-ann", "--password-stdin"), SECRETS["op-ann"] + "\n"),
    "a physician": (("--by", "dr-lee", "--password-stdin"), SECRETS["dr-lee"] + "\n"),
    "a wrong password": (("--by", "eng-kim", "--password-stdin"), "not-the-password\n"),
}


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize("who", REFUSALS)
def test_keys_init_is_refused_to_anyone_but_an_engineer(
    who: str, home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STIMCTL_OPERATOR", raising=False)
    args, stdin = REFUSALS[who]
    code, out, err = cli(capsys, monkeypatch, "keys", "init", *args, stdin=stdin)
    assert code == ExitCode.AUTH, (out, err)
    assert len(err.strip().splitlines()) == 1, err
    assert _keys_on_record() == [] and _key_files(home) == []


@pytest.mark.usefixtures("people")
def test_keys_init_by_an_engineer_is_recorded(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = cli(
        capsys, monkeypatch, "keys", "init", "--by", "eng-kim", "--password-stdin",
        stdin=SECRETS["eng-kim"] + "\n",
    )  # fmt: skip
    assert code == ExitCode.OK, err
    ((key_id, retired),) = _keys_on_record()
    assert retired is None and "by eng-kim" in out
    with Store.open() as store:
        events = [(e.event, e.purpose) for e in auth_events(store, "eng-kim")]
    assert ("signing-key-created", f"key {key_id}") in events


def test_the_first_key_of_an_installation_without_operators_needs_no_sign_in(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = cli(capsys, monkeypatch, "keys", "init")
    assert code == ExitCode.OK, err
    assert "no operator is registered yet" in out
    assert len(_keys_on_record()) == 1


@pytest.mark.parametrize("who", REFUSALS)
def test_keys_rotate_is_refused_to_anyone_but_an_engineer(
    who: str, home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STIMCTL_OPERATOR", raising=False)
    assert cli(capsys, monkeypatch, "keys", "init")[0] == ExitCode.OK  # the bootstrap key
    with Store.open() as store:
        register(store)
    before, files = _keys_on_record(), _key_files(home)
    args, stdin = REFUSALS[who]
    code, out, err = cli(capsys, monkeypatch, "keys", "rotate", *args, stdin=stdin)
    assert code == ExitCode.AUTH, (out, err)
    assert len(err.strip().splitlines()) == 1, err
    assert _keys_on_record() == before and _key_files(home) == files


def test_keys_rotate_by_an_engineer_retires_the_old_key_and_is_recorded(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli(capsys, monkeypatch, "keys", "init")[0] == ExitCode.OK
    with Store.open() as store:
        register(store, "eng-kim")
    code, _, err = cli(
        capsys, monkeypatch, "keys", "rotate", "--by", "eng-kim", "--password-stdin",
        stdin=SECRETS["eng-kim"] + "\n",
    )  # fmt: skip
    assert code == ExitCode.OK, err
    (old, old_retired), (new, new_retired) = _keys_on_record()
    assert old_retired is not None and new_retired is None
    with Store.open() as store:
        events = [(e.event, e.purpose) for e in auth_events(store, "eng-kim")]
    assert ("signing-key-rotated", f"key {new}, retired {old}") in events


APPROVE = ("site", "approve", "safety/limits.toml", "--reason", "cap raised for study HD-10")


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize(
    ("by", "secret"),
    [("op-ann", SECRETS["op-ann"]), ("dr-lee", SECRETS["dr-lee"]), ("eng-kim", "wrong-one")],
)
def test_site_approve_is_refused_to_anyone_but_an_engineer(
    by: str, secret: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = cli(
        capsys, monkeypatch, *APPROVE, "--by", by, "--password-stdin", stdin=secret + "\n"
    )
    assert code == ExitCode.AUTH, (out, err)
    assert len(err.strip().splitlines()) == 1, err
    assert _approvals() == 0


def test_site_approve_without_any_operator_is_refused(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No bootstrap here: an approval made before anyone is registered would stay on
    record and later let a modified safety table run clinical sessions."""
    code, _, err = cli(
        capsys, monkeypatch, *APPROVE, "--by", "eng-1", "--password-stdin", stdin="x\n"
    )
    assert code == ExitCode.AUTH and len(err.strip().splitlines()) == 1, err
    assert _approvals() == 0


@pytest.mark.usefixtures("people")
def test_site_approve_by_an_engineer_is_signed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = cli(
        capsys, monkeypatch, *APPROVE, "--by", "eng-kim", "--password-stdin",
        stdin=SECRETS["eng-kim"] + "\n",
    )  # fmt: skip
    assert code == ExitCode.OK, err
    assert _approvals() == 1
    with Store.open() as store:
        (signature,) = signatures_of(store, "site_approval")
    assert (signature.signer_id, signature.signer_role) == ("eng-kim", "engineer")
    assert signature.meaning.startswith("approved safety/limits.toml")


@pytest.mark.usefixtures("people")
def test_site_approve_refuses_a_reason_without_words_before_asking_the_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[str] = []

    def no_password(prompt: str, *, from_stdin: bool) -> str:
        read.append(prompt)
        return SECRETS["eng-kim"]

    monkeypatch.setattr("stimctl.cli.admin_auth.read_secret", no_password)
    code, _, err = cli(
        capsys, monkeypatch, "site", "approve", "safety/limits.toml", "--reason", " . ",
        "--by", "eng-kim", "--password-stdin", stdin="",
    )  # fmt: skip
    assert code == ExitCode.BAD_INPUT and "reason in words" in err
    assert read == [] and _approvals() == 0
