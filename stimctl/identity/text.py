"""What an operator id, a printed name and a reason must look like (ADR 0014).

A signature is only worth something if a reader can see what was signed: an id that
is a real person's pseudonym (not a system actor such as ``engine``), a printed name
made of letters, and a reason made of words. Invisible characters (zero-width spaces,
joiners, bidirectional controls, the Hangul and Braille blanks) would let two different
strings look the same, or let an empty-looking reason pass: they are refused, not
stripped (never clean silently).

Rules for a reason (overrides, prescriptions, adverse-event reviews):

- no control characters (newline, tab, ...), no format or invisible characters, no
  unassigned or private-use code points;
- no markup: nothing that opens an HTML tag (``<script``, ``</b``, ``<!--``);
- 2 to 1000 characters after trimming the ends;
- at least two words of two or more letters each ("ok" or "." is not a reason).

A printed name: 2 to 100 characters of letters, spaces and ``.'-,``, single spaces,
with at least one word of two or more letters.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from stimctl.errors import ConfigError
from stimctl.records.values import check_person_id

RESERVED_IDS: Final = frozenset(
    {
        # the journal's system actors (stimctl.session.engine._actor) and stand-ins
        "engine",
        "watchdog",
        "device",
        "recovery",
        "console",
        "system",
        "local",
        "unauthenticated",
        "anonymous",
        "operator",
        "root",
        "admin",
    }
)
"""Ids no person may have: they name the system, or nobody."""

# Code points that render as nothing (or as a blank) but are letters or symbols in
# Unicode's categories, so a category check alone misses them.
_INVISIBLE: Final = frozenset(
    {
        "\u115f",  # HANGUL CHOSEONG FILLER
        "\u1160",  # HANGUL JUNGSEONG FILLER
        "\u3164",  # HANGUL FILLER
        "\uffa0",  # HALFWIDTH HANGUL FILLER
        "\u2800",  # BRAILLE PATTERN BLANK
        "\u180e",  # MONGOLIAN VOWEL SEPARATOR
        "\u034f",  # COMBINING GRAPHEME JOINER
    }
)
# Cc control, Cf format (zero-width space/joiners, bidi controls, BOM), Cs surrogate,
# Co private use, Cn unassigned, Zl/Zp line and paragraph separators.
_REFUSED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_MARKUP = re.compile(r"<\s*[/!?]?\s*[A-Za-z!-]")
_NAME_CHARS = re.compile(r"[^\W\d_]|[ .'\-,]")
MIN_REASON_WORDS: Final = 2
MAX_REASON_CHARS: Final = 1000
MAX_NAME_CHARS: Final = 100


def check_operator_id(value: str) -> str:
    """`value` if it can be a person's operator id: a valid pseudonym (the same rule as
    subject ids, `check_person_id`) and not one of `RESERVED_IDS`."""
    check_person_id(value, "operator")
    if value.lower() in RESERVED_IDS:
        raise ConfigError(f"invalid operator id {value!r}: reserved for the system, not a person")
    return value


def check_reason(value: str, what: str = "reason") -> str:
    """`value` trimmed, if it is a reason a reader can understand; ConfigError if not."""
    _refuse_invisible(value, what)
    text = value.strip()
    if not text:
        raise ConfigError(f"the {what} is empty")
    if len(text) > MAX_REASON_CHARS:
        raise ConfigError(f"the {what} is longer than {MAX_REASON_CHARS} characters")
    if _MARKUP.search(text):
        raise ConfigError(f"the {what} {text!r} contains markup (an HTML tag); write plain words")
    words = [w for w in _words(text) if len(w) >= 2]
    if len(words) < MIN_REASON_WORDS:
        raise ConfigError(
            f"the {what} {text!r} needs at least {MIN_REASON_WORDS} words of two or more"
            " letters (say what was decided and why)"
        )
    return text


def check_name(value: str) -> str:
    """`value` trimmed, if it can be printed under a signature; ConfigError if not."""
    _refuse_invisible(value, "name")
    text = value.strip()
    if not 2 <= len(text) <= MAX_NAME_CHARS:
        raise ConfigError(f"the name {value!r} must have 2 to {MAX_NAME_CHARS} characters")
    bad = sorted({c for c in text if not _NAME_CHARS.fullmatch(c)})
    if bad:
        raise ConfigError(
            f"the name {text!r} contains {''.join(bad)!r}: use letters, spaces and . ' - ,"
        )
    if "  " in text:
        raise ConfigError(f"the name {text!r} has repeated spaces")
    if not any(len(w) >= 2 for w in _words(text)):
        raise ConfigError(f"the name {text!r} needs a word of two or more letters")
    return text


def _words(text: str) -> list[str]:
    """Runs of letters (any script), e.g. ``["Hodaj", "regime"]``."""
    return re.findall(r"[^\W\d_]+", text)


def _refuse_invisible(value: str, what: str) -> None:
    for char in value:
        if char in _INVISIBLE or unicodedata.category(char) in _REFUSED_CATEGORIES:
            code = f"U+{ord(char):04X}"
            name = unicodedata.name(char, "unnamed")
            raise ConfigError(
                f"the {what} contains an invisible or control character {code} ({name})"
            )
