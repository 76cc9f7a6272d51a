"""One rule for comparing JSON values from the API: `json_key(value)`, hashable and type-exact.

Two values get the same key exactly when they are the same JSON: the same type and an equal value,
lists element by element in order, objects key by key in any order. Python's own equality is
looser (`True == 1 == 1.0`), and an id or attribute value of the wrong type (a list, an object)
is not hashable at all; both the pagination's duplicate-id check and the segment rules' per-value
memo need a key that is neither.
"""

from __future__ import annotations

from typing import Any

LIST_TAG = "__list__"
OBJECT_TAG = "__dict__"
OTHER_TAG = "__repr__"


def json_key(value: Any) -> Any:
    """A hashable key: equal for two values exactly when they are the same JSON value."""
    if isinstance(value, list):
        return (LIST_TAG, tuple(json_key(item) for item in value))
    if isinstance(value, dict):
        return (OBJECT_TAG, tuple(sorted((str(k), json_key(v)) for k, v in value.items())))
    try:
        hash(value)
    except TypeError:  # not JSON (a set, a tuple holding a list): compared by its text
        return (OTHER_TAG, repr(value))
    # bool/int/float are equal as dict keys (True == 1 == 1.0) but are different JSON values.
    return (type(value).__name__, value)


__all__ = ["json_key"]
