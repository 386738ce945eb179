"""Registered people for tests: real rows with real (test-cost) Argon2id credentials."""

from __future__ import annotations

import pytest

from stimctl.identity import Authenticated, add_operator, authenticate
from stimctl.records import Store

SECRETS = {
    "dr-lee": "lee-pass-1",
    "eng-kim": "kim-pass-1",
    "op-ann": "ann-pass-1",
    "dr-roe": "roe-pass-1",
}
NAMES = {
    "dr-lee": "Dr. Ann Lee",
    "eng-kim": "Jo Kim",
    "op-ann": "Ann Operator",
    "dr-roe": "Dr. Max Roe",
}
ROLES = {"dr-lee": "physician", "eng-kim": "engineer", "op-ann": "operator", "dr-roe": "physician"}


def register(store: Store, *ids: str) -> None:
    """Register `ids` (default: all of the above), the first by the first-operator rule
    (so it must be a physician or engineer), the others by dr-lee."""
    by: Authenticated | None = None
    for operator_id in ids or tuple(SECRETS):
        add_operator(
            store,
            operator_id,
            name=NAMES[operator_id],
            role=ROLES[operator_id],
            secret=SECRETS[operator_id],
            by=by,
        )
        if by is None:
            first = operator_id
            by = authenticate(store, first, SECRETS[first], purpose="test setup")


ENGINEER = "eng-kim"


def ensure_engineer(store: Store) -> list[str]:
    """Register eng-kim if they are not (the first operator of an empty store, else by a
    registered physician or engineer of the above) and return the arguments that sign
    in as them: `--by eng-kim --password-stdin` (the password is `SECRETS[ENGINEER]`)."""
    from stimctl.identity.operators import ADMIN_ROLES, get_operator, registered_count

    if get_operator(store, ENGINEER) is None:
        by: Authenticated | None = None
        if registered_count(store) > 0:
            registered = {i for i in SECRETS if (o := get_operator(store, i)) and o.registered}
            admin = next(i for i in SECRETS if ROLES[i] in ADMIN_ROLES and i in registered)
            by = authenticate(store, admin, SECRETS[admin], purpose="test setup")
        add_operator(
            store, ENGINEER, name=NAMES[ENGINEER], role="engineer", secret=SECRETS[ENGINEER], by=by
        )
    return ["--by", ENGINEER, "--password-stdin"]


def as_engineer(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`ensure_engineer` in the current STIMCTL_HOME, with eng-kim's password waiting on
    standard input for the next command."""
    import io

    with Store.open() as store:
        args = ensure_engineer(store)
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRETS[ENGINEER] + "\n"))
    return args
