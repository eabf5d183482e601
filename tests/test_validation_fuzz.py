"""Property-based tests (Hypothesis) of the one input policy: ``lookimagine.pipeline.validation``.

Whatever arrives as text or as a number, the answer is a value within bounds
or a ``QueryError`` with a sentence — never another exception.
"""

import math
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lookimagine.pipeline import validation
from lookimagine.pipeline.outputs import QueryError

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LOW, HIGH = 1, 50
anything = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                     st.text(max_size=40), st.lists(st.integers(), max_size=3),
                     st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), st.binary(max_size=8))


@FUZZ
@given(anything)
def test_whole_number_returns_an_int_in_range_or_refuses_with_a_sentence(value):
    try:
        number = validation.whole_number(value, LOW, HIGH, "k")
    except QueryError as err:
        assert str(err).startswith("k must be") and str(err).endswith(".")
        return
    assert type(number) is int and LOW <= number <= HIGH
    assert not isinstance(value, bool)


@FUZZ
@given(st.integers())
def test_whole_number_keeps_every_int_in_range_and_refuses_the_rest(value):
    if LOW <= value <= HIGH:
        assert validation.whole_number(value, LOW, HIGH, "k") == value
        assert validation.whole_number(str(value), LOW, HIGH, "k") == value  # the same number, spelled
        assert validation.whole_number(float(value), LOW, HIGH, "k") == value
    else:
        with pytest.raises(QueryError, match="must be between"):
            validation.whole_number(value, LOW, HIGH, "k")


@FUZZ
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_whole_number_accepts_a_float_only_without_a_fraction(value):
    whole = math.isfinite(value) and value.is_integer() and LOW <= value <= HIGH
    if whole:
        assert validation.whole_number(value, LOW, HIGH, "k") == int(value)
    else:
        with pytest.raises(QueryError):
            validation.whole_number(value, LOW, HIGH, "k")


@FUZZ
@given(st.text(max_size=3000))
def test_clean_text_is_short_printable_collapsed_and_idempotent(text):
    try:
        cleaned, notices = validation.clean_text(text)
    except QueryError as err:
        assert "empty" in str(err)
        return
    assert 0 < len(cleaned) <= validation.MAX_TEXT_CHARS
    assert cleaned == cleaned.strip() and "  " not in cleaned
    assert not any(unicodedata.category(ch).startswith("C") for ch in cleaned)
    assert validation.clean_text(cleaned)[0] == cleaned
    assert bool(notices) == (len(text) > validation.MAX_RAW_CHARS or len(validation.clean_text(
        text[: validation.MAX_RAW_CHARS], max_chars=10**9)[0]) > validation.MAX_TEXT_CHARS)


@FUZZ
@given(st.text(min_size=1, max_size=50), st.integers(1, 5000))
def test_clean_text_only_looks_at_the_head_of_a_long_text(head, repeats):
    """The work is bounded: a text is cleaned exactly as its first MAX_RAW_CHARS characters are."""
    text = head * repeats
    try:
        expected = validation.clean_text(text[: validation.MAX_RAW_CHARS])[0]
    except QueryError:
        with pytest.raises(QueryError):
            validation.clean_text(text)
        return
    assert validation.clean_text(text)[0] == expected


@FUZZ
@given(anything.filter(lambda v: not isinstance(v, str)))
def test_clean_text_refuses_what_is_not_a_string(value):
    with pytest.raises(QueryError):
        validation.clean_text(value)
