"""Ids, printed names and reasons: what a signature may name and say (table-driven)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stimctl.errors import ConfigError
from stimctl.identity import check_name, check_operator_id, check_reason
from stimctl.identity.text import RESERVED_IDS

ZWSP = "\u200b"

BAD_IDS = [
    ("", "empty"),
    (" ", "a space"),
    ("dr lee", "a space inside"),
    ("dr-lee\n", "a newline"),
    ("dr\nlee", "a newline inside"),
    ("<script>", "markup"),
    ("<script>alert(1)</script>", "markup"),
    (f"dr-lee{ZWSP}", "a zero-width space"),
    (ZWSP, "only a zero-width space"),
    (".", "punctuation"),
    ("-lee", "a leading dash"),
    ("engine", "the engine's actor name"),
    ("Engine", "the engine's actor name, capitalised"),
    ("watchdog", "a system actor"),
    ("local", "the unauthenticated stand-in"),
    ("x" * 65, "too long"),
]


@pytest.mark.parametrize(("value", "why"), BAD_IDS, ids=[w for _, w in BAD_IDS])
def test_invalid_operator_ids_are_refused(value: str, why: str) -> None:
    with pytest.raises(ConfigError, match="invalid operator id"):
        check_operator_id(value)


@pytest.mark.parametrize("value", ["dr-lee", "op.ann", "eng_kim", "A1", "x" * 64])
def test_valid_operator_ids(value: str) -> None:
    assert check_operator_id(value) == value


def test_every_reserved_id_is_refused() -> None:
    for name in RESERVED_IDS:
        with pytest.raises(ConfigError, match="reserved"):
            check_operator_id(name)


BAD_REASONS = [
    ("", "empty"),
    ("   ", "spaces"),
    ("\n", "a newline"),
    ("second session\nsame day", "a newline inside"),
    ("<script>alert(1)</script>", "markup"),
    ("ok <b>fine</b>", "a tag"),
    (ZWSP, "a zero-width space"),
    (f"approved {ZWSP}today", "a zero-width space inside"),
    ("\u2060\u2060", "word joiners"),
    ("\u3164\u3164 \u3164", "Hangul fillers"),
    ("\u202eevil reason", "a bidi override"),
    (".", "a full stop"),
    ("...!?", "punctuation only"),
    ("ok", "one short word"),
    ("approved", "one word"),
    ("a b c d", "words of one letter"),
    ("12 34", "numbers only"),
    ("x" * 10 + " " + "y" * 1000, "too long"),
]


@pytest.mark.parametrize(("value", "why"), BAD_REASONS, ids=[w for _, w in BAD_REASONS])
def test_invalid_reasons_are_refused(value: str, why: str) -> None:
    with pytest.raises(ConfigError, match="reason"):
        check_reason(value)


@pytest.mark.parametrize(
    "value",
    [
        "Hodaj regime per protocol",
        "make-up session",
        "second session today, 6 h apart as prescribed",
        "intensity < 120% RMT, reviewed",
        "Zweite Sitzung: ärztlich geprüft",
    ],
)
def test_reasons_made_of_words_are_accepted(value: str) -> None:
    assert check_reason(f"  {value} ") == value


BAD_NAMES = [
    ("", "empty"),
    ("  ", "spaces"),
    ("Ann\nLee", "a newline"),
    ("<script>", "markup"),
    (f"Ann{ZWSP}Lee", "a zero-width space"),
    (".", "punctuation"),
    ("A", "one letter"),
    ("Ann  Lee", "repeated spaces"),
    ("R2-D2", "digits"),
]


@pytest.mark.parametrize(("value", "why"), BAD_NAMES, ids=[w for _, w in BAD_NAMES])
def test_invalid_printed_names_are_refused(value: str, why: str) -> None:
    with pytest.raises(ConfigError, match="name"):
        check_name(value)


@pytest.mark.parametrize("value", ["Dr. Ann Lee", "Jo Kim", "Zoë O'Neil-Émile", "李 小龙"])
def test_printed_names(value: str) -> None:
    assert check_name(value) == value


_INVISIBLE = st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"])


@given(
    before=st.text(alphabet=st.characters(categories=["L", "Zs"]), max_size=30),
    hidden=_INVISIBLE,
    after=st.text(alphabet=st.characters(categories=["L", "Zs"]), max_size=30),
)
def test_an_invisible_character_anywhere_refuses_the_reason(
    before: str, hidden: str, after: str
) -> None:
    with pytest.raises(ConfigError, match="invisible or control character"):
        check_reason(f"reviewed {before}{hidden}{after} approved")
