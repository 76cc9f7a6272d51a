"""Segment rule semantics of the built-in server (documented in docs/SIMULATOR.md).

Values are compared as text: booleans become "true"/"false", integral numbers lose their ".0",
everything else is `str(value)`. Comparisons are case-sensitive. A user without the attribute (or
with null) matches only `notEquals` and `notIn`. `in`/`notIn` take a list (a scalar counts as
a list of one).
A segment matches when every rule matches (AND); a segment without rules matches everybody.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

OPERATORS = ("equals", "notEquals", "contains", "startsWith", "endsWith", "in", "notIn")
NEGATIVE_OPERATORS = frozenset({"notEquals", "notIn"})


def normalize(value: Any) -> str | None:
    """The text form used for every comparison; None for a missing value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _as_list(value: Any) -> list[str | None]:
    values = value if isinstance(value, list | tuple) else [value]
    return [normalize(v) for v in values]


def _predicate(operator: str, value: Any) -> Callable[[str], bool]:
    """A test on a present (normalized) attribute value."""
    if operator in ("in", "notIn"):
        options = set(_as_list(value))
        return (lambda text: text in options) if operator == "in" else (
            lambda text: text not in options)
    target = normalize(value)
    if target is None:
        return lambda text: operator == "notEquals"
    tests: dict[str, Callable[[str], bool]] = {
        "equals": lambda text: text == target,
        "notEquals": lambda text: text != target,
        "contains": lambda text: target in text,
        "startsWith": lambda text: text.startswith(target),
        "endsWith": lambda text: text.endswith(target),
    }
    return tests[operator]


def rule_matches(rule: Mapping[str, Any], attributes: Mapping[str, Any]) -> bool:
    """Whether one user's attributes match one rule."""
    operator = rule.get("operator")
    if operator not in OPERATORS:
        return False
    text = normalize(attributes.get(str(rule.get("attribute"))))
    if text is None:
        return operator in NEGATIVE_OPERATORS
    return _predicate(operator, rule.get("value"))(text)


def segment_matches(rules: Iterable[Mapping[str, Any]], attributes: Mapping[str, Any]) -> bool:
    """Whether one user's attributes match every rule of a segment."""
    return all(rule_matches(rule, attributes) for rule in rules)


def category_mask(rule: Mapping[str, Any], categories: Sequence[Any]) -> list[bool]:
    """For a column stored as category codes: which categories match the rule."""
    column_rule = {**rule, "attribute": "_"}
    return [rule_matches(column_rule, {"_": category}) for category in categories]
