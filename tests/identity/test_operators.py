"""Operators, credentials, lockout and signatures on a real SQLite file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3

import pytest

from stimctl.errors import AuthError, ConfigError
from stimctl.identity import (
    add_operator,
    auth_events,
    authenticate,
    authorize_signature,
    change_secret,
    disable_operator,
    insert_signature,
    list_operators,
    require_role,
    signatures_of,
)
from stimctl.identity.operators import LOCK_AFTER, LOCK_FOR
from stimctl.identity.signatures import MAX_SIGNING_DELAY, matches
from stimctl.records import Store, add_subject
from stimctl.records.schema import MIGRATIONS, migrate
from stimctl.records.subjects import add_operator as add_legacy_operator
from tests.identity.people import SECRETS, register


def _events(store: Store, operator_id: str) -> list[str]:
    return [e.event for e in auth_events(store, operator_id)]


@pytest.mark.parametrize("role", ["operator"])
def test_the_first_operator_must_be_a_physician_or_engineer(store: Store, role: str) -> None:
    with pytest.raises(AuthError, match="first operator must be a physician or an engineer"):
        add_operator(store, "op-ann", name="Ann Operator", role=role, secret="secret-1", by=None)
    assert list_operators(store) == []


@pytest.mark.parametrize("role", ["physician", "engineer"])
def test_the_first_operator_needs_no_credential_check(store: Store, role: str) -> None:
    made = add_operator(store, "first", name="First Person", role=role, secret="secret-1", by=None)
    assert made.registered and made.role == role and made.created_by is None
    assert _events(store, "first") == ["registered"]


def test_later_operators_need_a_physician_or_engineer(store: Store) -> None:
    register(store, "dr-lee", "op-ann")
    with pytest.raises(AuthError, match="needs a physician's or engineer's credential"):
        add_operator(store, "op-bo", name="Bo Op", role="operator", secret="secret-1", by=None)
    operator = authenticate(store, "op-ann", SECRETS["op-ann"], purpose="test")
    with pytest.raises(AuthError, match="only a physician or an engineer"):
        add_operator(store, "op-bo", name="Bo Op", role="operator", secret="secret-1", by=operator)
    physician = authenticate(store, "dr-lee", SECRETS["dr-lee"], purpose="test")
    made = add_operator(
        store, "op-bo", name="Bo Op", role="operator", secret="secret-1", by=physician
    )
    assert made.created_by == "dr-lee"


def test_a_legacy_row_without_credential_cannot_authenticate(store: Store) -> None:
    register(store, "dr-lee")
    add_legacy_operator(store, "old-op")  # created on first use by an earlier version
    with pytest.raises(AuthError, match="unknown operator 'old-op'"):
        authenticate(store, "old-op", "", purpose="test")
    with pytest.raises(AuthError, match="unknown operator 'nobody'"):
        authenticate(store, "nobody", "anything", purpose="test")
    assert _events(store, "nobody") == ["refused-unknown"]


def test_credentials_are_stored_as_argon2id_hashes(store: Store) -> None:
    register(store, "dr-lee")
    with sqlite3.connect(store.path) as conn:
        (stored,) = conn.execute("SELECT credential FROM operators").fetchone()
    assert stored.startswith("$argon2id$") and SECRETS["dr-lee"] not in stored


def test_three_wrong_entries_lock_the_account_for_a_while_and_are_recorded(
    store: Store,
) -> None:
    register(store, "dr-lee", "op-ann")
    now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    for attempt in range(1, LOCK_AFTER + 1):
        message = "locked until 09:05:00 UTC" if attempt == LOCK_AFTER else "wrong credential"
        with pytest.raises(AuthError, match=message):
            authenticate(store, "op-ann", "not-the-one", purpose="test", now=now)
    # locked: even the right secret is refused, without being checked
    with pytest.raises(AuthError, match="is locked"):
        authenticate(store, "op-ann", SECRETS["op-ann"], purpose="test", now=now + LOCK_FOR / 2)
    assert _events(store, "op-ann")[-5:] == [
        "credential-rejected",
        "credential-rejected",
        "credential-rejected",
        "locked",
        "refused-locked",
    ]
    # after the lock: the right secret works, and says how many wrong ones came before
    proof = authenticate(store, "op-ann", SECRETS["op-ann"], purpose="test", now=now + LOCK_FOR)
    assert proof.failures_before == LOCK_AFTER


def test_a_right_entry_resets_the_count_of_wrong_ones(store: Store) -> None:
    register(store, "dr-lee", "op-ann")
    for _ in range(LOCK_AFTER - 1):
        with pytest.raises(AuthError):
            authenticate(store, "op-ann", "not-the-one", purpose="test")
    assert authenticate(store, "op-ann", SECRETS["op-ann"], purpose="t").failures_before == 2
    with pytest.raises(AuthError, match=r"wrong credential for operator 'op-ann'$"):
        authenticate(store, "op-ann", "not-the-one", purpose="test")


def test_a_disabled_operator_cannot_authenticate(store: Store) -> None:
    register(store, "dr-lee", "op-ann")
    admin = authenticate(store, "dr-lee", SECRETS["dr-lee"], purpose="test")
    disable_operator(store, "op-ann", by=admin)
    with pytest.raises(AuthError, match="'op-ann' is disabled"):
        authenticate(store, "op-ann", SECRETS["op-ann"], purpose="test")
    assert _events(store, "op-ann")[-2:] == ["disabled", "refused-disabled"]


def test_the_last_physician_or_engineer_cannot_be_disabled(store: Store) -> None:
    register(store, "dr-lee", "op-ann")
    admin = authenticate(store, "dr-lee", SECRETS["dr-lee"], purpose="test")
    with pytest.raises(ConfigError, match="last enabled physician or engineer"):
        disable_operator(store, "dr-lee", by=admin)


def test_require_role_refuses_a_wrong_role_and_records_it(store: Store) -> None:
    register(store, "dr-lee", "op-ann", "eng-kim")
    with pytest.raises(AuthError, match="'op-ann' is an operator; sign overrides needs a phys"):
        require_role(store, "op-ann", "physician", SECRETS["op-ann"], purpose="sign overrides")
    assert _events(store, "op-ann")[-1] == "refused-role"
    proof = require_role(store, "eng-kim", ("engineer",), SECRETS["eng-kim"], purpose="site")
    assert proof.operator.role == "engineer"


def test_own_credential_change_and_admin_reset(store: Store) -> None:
    register(store, "dr-lee", "op-ann")
    own = authenticate(store, "op-ann", SECRETS["op-ann"], purpose="test")
    change_secret(store, "op-ann", "new-secret-1", by=own)
    with pytest.raises(AuthError):
        authenticate(store, "op-ann", SECRETS["op-ann"], purpose="test")
    other = authenticate(store, "op-ann", "new-secret-1", purpose="test")
    with pytest.raises(AuthError, match="cannot change dr-lee's credential"):
        change_secret(store, "dr-lee", "new-secret-2", by=other)


def test_a_signature_needs_a_fresh_entry_used_once(store: Store) -> None:
    register(store, "dr-lee")
    add_subject(store, "S-01")
    grant = authorize_signature(store, "dr-lee", SECRETS["dr-lee"], meaning="reviewed test")
    content = {"answer": 42}
    with store.write() as conn:
        signature = insert_signature(
            conn,
            grant,
            meaning="reviewed test",
            record_type="other",
            record_id="r1",
            content=content,
        )
    assert signature.signer_name == "Dr. Ann Lee" and signature.signer_role == "physician"
    assert signatures_of(store, "other", "r1") == [signature]
    assert matches(signature, content) and not matches(signature, {"answer": 43})
    with pytest.raises(AuthError, match="signs one record only"), store.write() as conn:
        insert_signature(
            conn, grant, meaning="again", record_type="other", record_id="r2", content=content
        )
    stale = authorize_signature(store, "dr-lee", SECRETS["dr-lee"], meaning="late")
    late = stale.proof.at + MAX_SIGNING_DELAY + dt.timedelta(seconds=1)
    with pytest.raises(AuthError, match="older than"), store.write() as conn:
        insert_signature(
            conn, stale, meaning="late", record_type="other", record_id="r3", content={}, now=late
        )
    assert [s.record_id for s in signatures_of(store)] == ["r1"]


def test_only_a_registered_physician_may_sign(store: Store) -> None:
    register(store, "dr-lee", "op-ann", "eng-kim")
    for who in ("op-ann", "eng-kim"):
        with pytest.raises(AuthError, match="needs a physician"):
            authorize_signature(store, who, SECRETS[who], meaning="approved override of X")
    with pytest.raises(ConfigError, match="reserved"):
        authorize_signature(store, "engine", "whatever", meaning="approved override of X")
    with pytest.raises(AuthError, match="wrong credential"):
        authorize_signature(store, "dr-lee", "not-the-one", meaning="approved override of X")


def test_the_identity_migration_keeps_old_operator_rows(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    names = [m.__name__ for m in MIGRATIONS]
    migrate(conn, target=names.index("_operator_identities_and_signatures"))
    conn.execute(
        "INSERT INTO operators (id, role, created_at) VALUES ('old', 'operator',"
        " '2026-01-01T00:00:00.000000Z')"
    )
    conn.close()
    with Store.open(path) as store:
        (old,) = list_operators(store)
    assert old.id == "old" and not old.registered and old.name == ""
    assert dataclasses.is_dataclass(old)
