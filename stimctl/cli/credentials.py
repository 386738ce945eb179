"""Where a password or PIN comes from: a hidden prompt, or standard input.

Never from the command line (it would be in the shell history and in `ps`). Scripts
and tests pass ``--password-stdin`` (and, for an override, ``--override-password-stdin``):
each reads the next line of standard input, in a fixed order that the command documents
(for sessions: the operator's line first, the override signer's second), as
``docker login --password-stdin`` does. Without them the secret is asked on the terminal
with the input hidden; end of input is a refusal (exit 10), not an empty password.
"""

from __future__ import annotations

import sys

import click

from stimctl.errors import AuthError

PASSWORD_STDIN_HELP = "Read the password or PIN from the next line of standard input."


def read_secret(prompt: str, *, from_stdin: bool) -> str:
    """One secret: the next stdin line if `from_stdin`, else a hidden terminal prompt."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise AuthError(f"standard input ended before the {prompt.lower()}")
        return line.rstrip("\r\n")
    if not _interactive():
        # getpass would fall back to reading stdin with the echo on: refuse instead
        raise AuthError(
            f"no terminal to ask the {prompt.lower()} on: use --password-stdin in scripts"
        )
    try:
        secret = click.prompt(prompt, hide_input=True, err=True, default="", show_default=False)
    except (click.Abort, EOFError, OSError):
        raise AuthError(f"no {prompt.lower()} entered") from None
    if not secret:
        raise AuthError(f"no {prompt.lower()} entered")
    return str(secret)


def read_new_secret(prompt: str, *, from_stdin: bool) -> str:
    """A new secret: asked twice on a terminal (a typo would lock the person out)."""
    first = read_secret(prompt, from_stdin=from_stdin)
    if from_stdin:
        return first
    again = read_secret(f"{prompt} (again)", from_stdin=False)
    if again != first:
        raise AuthError("the two entries differ; nothing was changed")
    return first


def _interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):  # closed or replaced stdin
        return False
