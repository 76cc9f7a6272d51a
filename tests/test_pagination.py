"""Pagination: the one totalCount rule, shared by the client's lists and the datasets' counts."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whatfix_data import datasets, pagination
from whatfix_data.errors import BadResponseError, TooLargeError
from whatfix_data.pagination import MAX_COUNT_DIGITS, as_count, total_count

ASCII_DIGITS = re.compile(r"[0-9]+")
SPACES = " \t\n"

# Every value a JSON `totalCount` can hold: the spec's integer, and what a misbehaving API sends.
_json_integers = st.one_of(st.integers(min_value=-10**40, max_value=10**40),
                           st.sampled_from([0, 1, 12, -1, -42, 10**15, 10**30, 10**31]))
_numeric_strings = st.one_of(
    st.builds(lambda n, left, right: f"{left}{n}{right}", st.integers(-10**35, 10**35),
              st.text(SPACES, max_size=2), st.text(SPACES, max_size=2)),
    st.sampled_from(["12", " 12 ", "+12", "-12", "12.0", "1e3", "0x10", "12 rows", "", " ",
                     "٣", "１２", "²", "0" * MAX_COUNT_DIGITS, "9" * (MAX_COUNT_DIGITS + 1)]),
    st.text(max_size=40),
)
_floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                    st.integers(-10**20, 10**20).map(float),
                    st.sampled_from([12.0, 12.5, -3.0, 1e20, 1e300, -0.0]))
_others = st.one_of(st.booleans(), st.none(), st.lists(st.integers(), max_size=3),
                    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
TOTAL_COUNTS = st.one_of(_json_integers, _numeric_strings, _floats, _others)


def _count_by_the_rule(value: object) -> int | None:
    """The rule written out independently: the whole number a JSON value stands for, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value == int(value) else None
    if isinstance(value, str):
        text = value.strip()
        if ASCII_DIGITS.fullmatch(text) and len(text) <= MAX_COUNT_DIGITS:
            return int(text)
    return None


@settings(max_examples=500, deadline=None)
@given(TOTAL_COUNTS)
def test_the_count_rule_accepts_whole_numbers_in_any_json_spelling(raw) -> None:
    assert as_count(raw) == _count_by_the_rule(raw)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**12), st.text(SPACES, max_size=2))
def test_every_spelling_of_one_count_is_the_same_count(count, padding) -> None:
    max_rows = 10**12
    spellings = [count, f"{padding}{count}{padding}", float(count)]
    totals = {total_count({"pagination": {"totalCount": raw}}, "flows", max_rows)
              for raw in spellings}  # counts up to 10**12 are exact as floats
    assert totals == {count}


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.integers(min_value=-10**40, max_value=10**40),
                 st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=60),
                 st.booleans(), st.none(), st.lists(st.integers(), max_size=3)),
       st.integers(min_value=0, max_value=10**9))
def test_total_count_is_a_whole_number_within_max_rows_or_one_clear_error(raw, max_rows):
    payload = {"data": [], "pagination": {"totalCount": raw}}
    whole = (not isinstance(raw, bool) and (isinstance(raw, int) or (
        isinstance(raw, float) and raw.is_integer()) or (
        isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit()
        and len(raw.strip()) <= 30)))
    if not whole or int(raw) < 0:
        with pytest.raises(BadResponseError, match="task-completion") as caught:
            total_count(payload, "task-completion", max_rows)
        assert "totalCount" in str(caught.value)
    elif int(raw) > max_rows:
        with pytest.raises(TooLargeError, match="WHATFIX_MAX_ROWS") as caught:
            total_count(payload, "task-completion", max_rows)
        assert "task-completion" in str(caught.value)
    else:
        assert total_count(payload, "task-completion", max_rows) == int(raw)


@settings(max_examples=200, deadline=None)
@given(TOTAL_COUNTS, st.integers(min_value=0, max_value=10**9))
def test_any_total_count_is_a_count_or_one_message_that_quotes_it_short(raw, max_rows) -> None:
    payload = {"data": [], "pagination": {"totalCount": raw, "page": 1}}
    expected = _count_by_the_rule(raw)
    if expected is None or expected < 0:
        with pytest.raises(BadResponseError) as caught:
            total_count(payload, "the active users of W48", max_rows)
        message = caught.value.user_message
        assert "the active users of W48" in message and "totalCount" in message
        assert len(message) < 400  # a value of any size is quoted short
    elif expected > max_rows:
        with pytest.raises(TooLargeError, match="WHATFIX_MAX_ROWS"):
            total_count(payload, "the active users of W48", max_rows)
    else:
        assert total_count(payload, "the active users of W48", max_rows) == expected


def test_a_missing_or_misplaced_total_count_is_one_clear_error() -> None:
    for payload in ({}, {"pagination": None}, {"pagination": {}}, {"pagination": [12]},
                    {"totalCount": 12}):
        with pytest.raises(BadResponseError, match="without its totalCount"):
            total_count(payload, "end-users", 1000)


def test_datasets_count_with_the_one_parser() -> None:
    # The engagement trend reads totalCount itself (one request per window): the same rule.
    assert datasets.total_count is pagination.total_count
