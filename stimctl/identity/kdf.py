"""Credential hashing: Argon2id through argon2-cffi (ADR 0014).

The stored value is the PHC string (``$argon2id$v=19$m=...,t=...,p=...$salt$hash``): it
carries its own parameters, so a hash made with other parameters still verifies and is
re-hashed with the current ones at the next successful entry.

Parameters: RFC 9106's second recommended option ("low memory": t=3, 64 MiB, p=4),
about 0.2 s per entry (0.23 s median on a shared 2-core machine). The test suite sets
``STIMCTL_KDF_PROFILE=test`` (t=1, 8 KiB, p=1) so that hundreds of entries stay fast;
that profile is for tests only and must never be set on a clinical installation
(hashes made under it are upgraded at the next entry without it).
"""

from __future__ import annotations

import os
from typing import Final

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from stimctl.errors import ConfigError

PROFILE_ENV: Final = "STIMCTL_KDF_PROFILE"
MIN_SECRET_CHARS: Final = 6
"""A PIN of six digits at least; the lockout (3 tries, then 5 minutes) does the rest."""

_PRODUCTION = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4, type=Type.ID)
_TEST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)


def hasher() -> PasswordHasher:
    """The hasher for new hashes: production parameters unless the test profile is set."""
    profile = os.environ.get(PROFILE_ENV, "")
    if profile == "test":
        return _TEST
    if profile:
        raise ConfigError(f"${PROFILE_ENV}={profile!r}: the only other profile is 'test'")
    return _PRODUCTION


def check_secret(secret: str) -> str:
    """`secret` if it may become a credential (length only: a PIN is allowed)."""
    if len(secret) < MIN_SECRET_CHARS:
        raise ConfigError(f"a password or PIN needs at least {MIN_SECRET_CHARS} characters")
    if secret != secret.strip() or "\n" in secret or "\r" in secret:
        raise ConfigError("a password or PIN may not start or end with spaces or hold a newline")
    return secret


def hash_secret(secret: str) -> str:
    return hasher().hash(check_secret(secret))


def verify_secret(stored: str, secret: str) -> bool:
    """True if `secret` matches the stored hash; a malformed hash matches nothing."""
    try:
        return hasher().verify(stored, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return hasher().check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return True
