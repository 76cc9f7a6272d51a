"""json_key: one type-exact comparison of JSON values (pagination ids, segment rule memo)."""

from __future__ import annotations

import copy
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from whatfix_data.json_keys import json_key

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3),
                     st.floats(allow_nan=False, allow_infinity=False, min_value=-3, max_value=3),
                     st.sampled_from([0.0, 1.0, -0.0, 2.5]),
                     st.sampled_from(["", "a", "1", "true", "[1]"]))
JSON_VALUES = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["k", "v", "1"]), inner, max_size=2)),
    max_leaves=6,
)


def _same_json(left: object, right: object) -> bool:
    """The reference: the same JSON type, and equal values (lists in order, objects by key)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(
            _same_json(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_same_json(left[k], right[k]) for k in left)
    return left == right


@settings(max_examples=600, deadline=None)
@given(JSON_VALUES, JSON_VALUES)
def test_two_values_share_a_key_exactly_when_they_are_the_same_json(left, right) -> None:
    assert (json_key(left) == json_key(right)) == _same_json(left, right)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_a_key_is_hashable_and_survives_a_json_round_trip(value) -> None:
    hash(json_key(value))
    assert json_key(copy.deepcopy(value)) == json_key(value)
    reparsed = json.loads(json.dumps(value))
    if _same_json(reparsed, value):  # JSON text keeps types (1.0 stays a float)
        assert json_key(reparsed) == json_key(value)


def test_python_equality_is_not_json_equality() -> None:
    assert len({json_key(v) for v in (1, True, 1.0, "1", [1], {"1": 1})}) == 6
    assert json_key({"a": 1, "b": [2]}) == json_key({"b": [2], "a": 1})
