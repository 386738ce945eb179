"""Registered people for tests: real rows with real (test-cost) Argon2id credentials."""

from __future__ import annotations

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
