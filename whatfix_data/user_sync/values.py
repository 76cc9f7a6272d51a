"""Typing of cell text: numbers become numbers, booleans booleans, everything else stays text.

The rules are per cell, so a value types the same whatever the rest of the file holds (a
re-uploaded subset of rows gives exactly the same values):

* empty text -> missing (the attribute is not sent, the user's current value is kept);
* ``true``/``false`` in any case -> bool;
* an integer without leading zeros and at most 15 digits (``42``, ``-7``) -> int; ``00123``,
  ``+44 20 ...`` and longer digit strings (ids, phone numbers, zip codes) stay text;
* a decimal number (``3.5``, ``-0.25``, ``1.5e3``) -> float;
* dates stay exactly as written (``2026-11-27`` is sent as that text: JSON has no date type).

A column mapped as "text" skips typing entirely.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

INT_PATTERN = r"-?(?:0|[1-9][0-9]{0,14})"
FLOAT_PATTERN = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+)"
TRUE_TEXT = "true"
FALSE_TEXT = "false"

# The type a column can be given in the mapping.
AUTO = "auto"
TEXT = "text"
COLUMN_TYPES: tuple[str, ...] = (AUTO, TEXT)


def type_column(text: pd.Series, column_type: str = AUTO) -> pd.Series:
    """Typed values of one column of cell text (object dtype; None where the cell is empty)."""
    values = text.to_numpy(dtype=object).copy()
    empty = (text == "").to_numpy(dtype=bool)
    values[empty] = None
    if column_type == TEXT or empty.all():
        return pd.Series(values, index=text.index, dtype=object)
    lowered = text.str.lower()
    values[(lowered == TRUE_TEXT).to_numpy(dtype=bool)] = True
    values[(lowered == FALSE_TEXT).to_numpy(dtype=bool)] = False
    is_int = text.str.fullmatch(INT_PATTERN).to_numpy(dtype=bool)
    if is_int.any():
        # At most 15 digits: exact in int64; tolist() gives Python ints for the JSON body.
        values[is_int] = text[is_int].astype("int64").tolist()
    is_float = text.str.fullmatch(FLOAT_PATTERN).to_numpy(dtype=bool)
    if is_float.any():
        floats = text[is_float].astype("float64").to_numpy()
        # inf/nan cannot be sent as JSON: such a cell stays the text it was.
        finite = np.isfinite(floats)
        positions = np.flatnonzero(is_float)
        values[positions[finite]] = floats[finite].tolist()
    return pd.Series(values, index=text.index, dtype=object)


def comparable(value: Any) -> Any:
    """A key under which two values are equal exactly when the API would store the same thing.

    ``5`` and ``5.0`` are the same number; ``True`` is not the number 1; ``"5"`` is not 5.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            return None
        return ("number", float(value))
    if isinstance(value, str):
        return ("text", value)
    if isinstance(value, list | tuple):
        return ("list", tuple(comparable(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), comparable(v)) for k, v in value.items())))
    return ("other", repr(value))
