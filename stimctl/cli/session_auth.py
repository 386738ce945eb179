"""Who runs a session, and the physician's signature on an override (ADR 0014).

`authorize_session` runs after the safety check and before a byte goes to the device:

- ``--operator ID`` (or ``$STIMCTL_OPERATOR``) names the operator; their password or PIN
  is asked with hidden input, or read from the first line of standard input with
  ``--password-stdin``. On a stimulator (`stimctl run`) they must be an operator or a
  physician; a dry run accepts any role.
- Without ``--operator`` the session runs as the unauthenticated ``local`` only where
  the site file allows it: ``unauthenticated_dry_runs`` (default true) for dry runs,
  ``unauthenticated_research_runs`` (default false) for research sessions on a
  stimulator; never for a clinical session on a stimulator.
- An override verdict needs the signer's fresh credential, asked after the operator's
  (or the next line of standard input with ``--override-password-stdin``: with both
  flags, line 1 is the operator's, line 2 the signer's), even when the signer is the
  operator. The signer must be a registered physician. The override row (when the
  subject is on record) and the signature row are written in one transaction.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import click

from stimctl.cli.credentials import read_secret
from stimctl.errors import AuthError

if TYPE_CHECKING:
    from stimctl.cli.session_cmd import SessionRequest
    from stimctl.records import Store
    from stimctl.session.engine import SessionEngine
    from stimctl.session.runner import Override, Prepared

UNAUTHENTICATED = "local"
"""The operator id of a session nobody signed in to (reserved: no person can have it)."""


def authorize_session(
    request: SessionRequest, prepared: Prepared, *, on_stimulator: bool
) -> tuple[SessionRequest, Prepared]:
    """The request with its authenticated operator id, and `prepared` with the operator's
    identity and a signed override; AuthError (exit 10) when either is refused."""
    from stimctl.identity import check_operator_id, require_role
    from stimctl.identity.operators import ROLES, SESSION_ROLES
    from stimctl.records import Store

    operator_id = request.operator
    if operator_id:
        check_operator_id(operator_id)
    elif not _unauthenticated_allowed(request, prepared, on_stimulator):
        if not on_stimulator:
            where = "this site"
        elif prepared.site.mode == "research":
            where = (
                "a research session on a stimulator at this site"
                " (unauthenticated_research_runs is false)"
            )
        else:
            where = "a clinical session on a stimulator"
        raise AuthError(
            f"{where} needs an authenticated operator: give --operator ID (or"
            " $STIMCTL_OPERATOR) and the password on the terminal or with --password-stdin"
        )
    if not operator_id and prepared.override is None:
        anonymous: dict[str, Any] = {"id": UNAUTHENTICATED, "authenticated": False}
        return replace(request, operator=UNAUTHENTICATED), replace(
            prepared, operator_identity=anonymous
        )
    identity: dict[str, Any]
    with Store.open() as store:
        if operator_id:
            secret = read_secret(f"Password for {operator_id}", from_stdin=request.password_stdin)
            what = "run sessions on a stimulator" if on_stimulator else "run dry runs"
            proof = require_role(
                store,
                operator_id,
                SESSION_ROLES if on_stimulator else ROLES,
                secret,
                purpose=f"{what}: {prepared.protocol.name}",
            )
            identity = {
                "id": proof.operator.id,
                "name": proof.operator.name,
                "role": proof.operator.role,
                "authenticated": True,
                "authenticated_at": proof.at.isoformat(),
                "failed_entries_before": proof.failures_before,
            }
        else:
            operator_id = UNAUTHENTICATED
            identity = {"id": UNAUTHENTICATED, "authenticated": False}
        override = prepared.override
        if override is not None:
            override = sign_override(
                store, prepared, override, from_stdin=request.override_password_stdin
            )
    # The signed override is also the one the start re-check on record accepts
    # (`SessionRecorder.claim` decides on `requested_override`): `open_session` refuses
    # an unsigned one.
    return replace(request, operator=operator_id), replace(
        prepared, override=override, requested_override=override, operator_identity=identity
    )


def sign_override(
    store: Store, prepared: Prepared, override: Override, *, from_stdin: bool
) -> Override:
    """The physician's electronic signature on `override`, stored with its record
    (`stimctl.identity.override_signing.sign_override`: the API signs the same way)."""
    from stimctl.identity.override_signing import override_meaning
    from stimctl.identity.override_signing import sign_override as sign

    secret = read_secret(
        f"Password for {override.operator} to sign ({override_meaning(prepared)})",
        from_stdin=from_stdin,
    )
    signed = sign(store, replace(prepared, override=override), secret).override
    assert signed is not None
    return signed


def operator_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    """``--operator``: "" when not given; an explicitly empty or blank id is bad input."""
    if value is None:
        return ""
    if not value.strip():
        raise click.BadParameter(f"{value!r} is not an operator id", ctx=ctx, param=param)
    return value


def session_actor(engine: SessionEngine) -> str:
    """The journal actor of the session's operator (``operator:<id>``): who pressed Ctrl-C."""
    from stimctl.journal.events import operator_actor

    named = getattr(engine, "operator", None)  # a public property, once the engine has one
    if isinstance(named, str) and named:
        return named if named.startswith("operator:") else operator_actor(named)
    payload: dict[str, Any] = getattr(engine, "_start_payload", {})
    return str(payload.get("operator") or operator_actor(UNAUTHENTICATED))


def _unauthenticated_allowed(
    request: SessionRequest, prepared: Prepared, on_stimulator: bool
) -> bool:
    from stimctl.site import load_site_file

    site = load_site_file(request.site_file)
    if not on_stimulator:
        return site.unauthenticated_dry_runs
    return prepared.site.mode == "research" and site.unauthenticated_research_runs
