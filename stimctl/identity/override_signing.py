"""A physician's signature on a session's override, and the check that one is there.

The CLI signs every override (`stimctl.cli.session_auth.sign_override`, which reads the
secret and calls `sign_override` here). The Python API could pass
`Override(operator, reason)` to `prepare` and `open_session` and run outside the tables
with nobody's credential. `require_signed_override` closes that: `open_session` calls
it before it loads a driver, and a verdict that needs an override opens only with a
signature that

- is on record (the row, not the object handed in, is what counts),
- was made by the override's operator, a physician (`SIGNING_ROLES`),
- signs exactly this override: subject, protocol and its digest, rules, findings, reason
  (`override_content`; the digest covers the record id and meaning too),
- and was made at most `SIGNATURE_VALID_FOR` before the session opens (an old
  signature is not replayed for a later session; the CLI signs right before it opens).

Anything else is `AuthError` (exit 10).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

from stimctl.errors import AuthError

if TYPE_CHECKING:
    from stimctl.records import Store
    from stimctl.session.runner import Override, Prepared


SIGNATURE_VALID_FOR: Final = dt.timedelta(minutes=30)
"""From the override's signature to the session's opening: covers reading the plan and
typing the subject id (headless confirmation), not a signature kept for another day."""


def override_content(prepared: Prepared, override: Override) -> dict[str, Any]:
    """What a signature on `override` of `prepared` covers."""
    from stimctl.configs import file_digest

    deciding = prepared.verdict.deciding()
    return {
        "subject_id": prepared.subject.subject_id,
        "protocol": prepared.protocol.name,
        "protocol_digest": file_digest(prepared.protocol_path),
        "rules": [f.rule for f in deciding],
        "findings": [f"{f.rule}: {f.message}" for f in deciding],
        "reason": override.reason,
    }


def override_meaning(prepared: Prepared) -> str:
    return f"approved override of {', '.join(f.rule for f in prepared.verdict.deciding())}"


def sign_override(store: Store, prepared: Prepared, secret: str) -> Prepared:
    """`prepared` with its override signed by its operator with `secret` (a fresh entry).

    The override row (when the subject is on record) and the signature row are written
    in one transaction. AuthError (exit 10) for a wrong secret or a signer who is not a
    physician; ConfigError when `prepared` has no override to sign."""
    from stimctl.errors import ConfigError
    from stimctl.identity.signatures import authorize_signature, insert_signature
    from stimctl.records import OverrideRecord, record_override
    from stimctl.records.values import new_id

    override = prepared.override
    if override is None:
        raise ConfigError("this session needs no override: there is nothing to sign")
    meaning = override_meaning(prepared)
    grant = authorize_signature(store, override.operator, secret, meaning=meaning)
    content = override_content(prepared, override)
    subject_id = prepared.subject.subject_id
    if subject_id is not None:
        holder: list[Any] = []
        rules = tuple(content["rules"])
        stored = record_override(
            store,
            OverrideRecord(subject_id, rules, override.operator, override.reason, prepared.now),
            within=lambda conn, record: holder.append(
                insert_signature(
                    conn,
                    grant,
                    meaning=meaning,
                    record_type="override",
                    record_id=record.id,
                    content=content,
                )
            ),
        )
        signed = replace(override, override_id=stored.id, signature=holder[0])
        return replace(prepared, override=signed)
    # No subject on record (a dry run with --rmt): the override lives in the journal
    # only; the signature names the id the journal's override event carries.
    override_id = new_id()
    with store.write() as conn:
        signature = insert_signature(
            conn,
            grant,
            meaning=meaning,
            record_type="override",
            record_id=override_id,
            content=content,
        )
    signed = replace(override, override_id=override_id, signature=signature)
    return replace(prepared, override=signed)


def require_signed_override(
    prepared: Prepared, store: Store | None = None, *, now: dt.datetime | None = None
) -> None:
    """Refuse (AuthError) a session whose verdict needs an override that is not signed
    as the module docstring says, at `now` (default: the wall clock). A session that
    needs no override passes."""
    from stimctl.identity.operators import SIGNING_ROLES
    from stimctl.safety import Severity

    if prepared.verdict.verdict is not Severity.OVERRIDE:
        return
    override = prepared.override
    rules = ", ".join(f.rule for f in prepared.verdict.deciding())
    if override is None or override.signature is None or not override.override_id:
        raise AuthError(
            f"the override of {rules} is not signed: a physician signs it with a fresh"
            " credential (the CLI asks; the API: stimctl.identity.override_signing.sign_override)"
        )
    if store is None:
        from stimctl.records import Store

        with Store.open() as opened:
            signed_at = _check_on_record(opened, prepared, override, rules, SIGNING_ROLES)
    else:
        signed_at = _check_on_record(store, prepared, override, rules, SIGNING_ROLES)
    moment = now or dt.datetime.now(dt.UTC)
    if moment - signed_at > SIGNATURE_VALID_FOR:
        minutes = int(SIGNATURE_VALID_FOR.total_seconds() // 60)
        raise AuthError(
            f"the override of {rules} was signed at {signed_at:%Y-%m-%d %H:%M:%S} UTC, more"
            f" than {minutes} min before this session: sign it again"
        )


def _check_on_record(
    store: Store, prepared: Prepared, override: Override, rules: str, roles: tuple[str, ...]
) -> dt.datetime:
    """The time of the override's signature on record, once it is shown to be the one."""
    from stimctl.identity.signatures import matches, signatures_of

    given = override.signature
    assert given is not None
    on_record = signatures_of(store, "override", override.override_id)
    found = next((s for s in on_record if s.id == given.id), None)
    if found is None or found.content_digest != given.content_digest:
        raise AuthError(f"the signature on the override of {rules} is not on record")
    if found.signer_id != override.operator or found.signer_role not in roles:
        raise AuthError(
            f"the override of {rules} is signed by {found.signer_id} ({found.signer_role}):"
            f" an override needs the signature of its operator {override.operator}, a physician"
        )
    if found.meaning != override_meaning(prepared) or not matches(
        found, override_content(prepared, override)
    ):
        raise AuthError(f"the signature on record does not match this override of {rules}")
    return found.signed_at


__all__ = ["override_content", "require_signed_override", "sign_override"]
