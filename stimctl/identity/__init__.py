"""Who did what: operators with roles and credentials, and electronic signatures.

`require_role(store, operator_id, role, credential)` is the one check every command
that needs a person of a role calls (sessions, overrides, prescriptions, reviews, and
engineer-only commands such as site approval). See ADR 0014.
"""

from stimctl.identity.operators import (
    ALLOWED,
    ROLES,
    Authenticated,
    Operator,
    Role,
    add_operator,
    auth_events,
    authenticate,
    change_secret,
    disable_operator,
    list_operators,
    require_role,
)
from stimctl.identity.signatures import (
    Signature,
    SigningGrant,
    authorize_signature,
    insert_signature,
    signatures_of,
)
from stimctl.identity.text import check_name, check_operator_id, check_reason

__all__ = [
    "ALLOWED",
    "ROLES",
    "Authenticated",
    "Operator",
    "Role",
    "Signature",
    "SigningGrant",
    "add_operator",
    "auth_events",
    "authenticate",
    "authorize_signature",
    "change_secret",
    "check_name",
    "check_operator_id",
    "check_reason",
    "disable_operator",
    "insert_signature",
    "list_operators",
    "require_role",
    "signatures_of",
]
