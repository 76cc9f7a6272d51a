"""Typed frames: API records -> pandas DataFrames with fixed columns, dtypes and quality findings.

Every dataset has fixed snake_case columns in a fixed order (its `whatfix_data.registry` spec):
``string`` columns are pandas ``string``, counts ``Int64``, rates and durations ``Float64``,
timestamps ``datetime64[ns, UTC]``, content type and status categoricals over the spec's enums, and
``attributes`` / ``rules`` plain Python objects.

Rules applied to every record (each field of the spec is optional):

* unknown extra fields are ignored; a missing field or ``null`` becomes NA, silently;
* a value of the wrong type is coerced when that is unambiguous (``"12"`` -> 12, ``12.0`` -> 12,
  ``7`` -> ``"7"``, ``"published"`` -> ``Published``); otherwise it becomes NA and a ``Finding``
  records the original value;
* impossible values become NA and a ``Finding``, so that they never reach a chart or a total:
  negative counts or durations, rates outside 0..100, ``completions > views`` (completions and rate
  set to NA), ``completed_tasks > total_tasks`` (completed tasks and rate set to NA), and a rate
  that disagrees with its counts by more than rounding (the rate set to NA);
* duplicate ids and records without an id are reported (the rows are kept);
* a record that is not a JSON object is dropped with a Finding;
* API text is cleaned here, once (:func:`clean_text`): control characters (NUL...) removed, line
  breaks and tabs made spaces, Unicode direction overrides, embeddings, isolates and marks removed
  (they can make a name read backwards). Ids keep their exact value; a missing or empty name is
  shown as its id (the spec's ``name_fallback``).

Conversion is vectorised per column; only the rows with problems are visited one by one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from whatfix_data import registry
from whatfix_data import segments as segment_rules
from whatfix_data.registry import CONTENT_STATUSES, CONTENT_TYPES, Col
from whatfix_data.windows import Window

__all__ = [
    "CONTENT_STATUSES", "CONTENT_TYPES", "Col", "Finding", "FrameResult", "clean_text", "columns",
    "empty_frame", "findings_frame", "to_frame", "trend_frame",
]

# A rate may differ from 100 * part / whole by this many points before it counts as inconsistent
# (the API rounds rates; 0.5 covers rounding to a whole percent).
RATE_TOLERANCE_PCT = 0.51
MAX_VALUE_CHARS = 120
# Timestamps outside the datetime64[ns] range become NA with a finding.
TS_MIN = pd.Timestamp("1678-01-01", tz="UTC")
TS_MAX = pd.Timestamp("2261-12-31", tz="UTC")
# Findings listed per field of one dataset; beyond it they are counted in one summary finding.
MAX_FINDINGS_PER_FIELD = 500
GROUP_COLUMN = "__group__"  # the trend window of a row, while ids are checked per window
# Counts beyond this are not believable and would overflow int64 (and float precision) anyway.
MAX_WHOLE_NUMBER = 2**53
FINDING_COLUMNS: tuple[str, ...] = ("dataset", "row_key", "field", "value", "problem")
# Removed from API text: C0/C1 control characters, and the bidirectional controls (LRM/RLM/ALM,
# embeddings, overrides U+202A-U+202E, isolates U+2066-U+2069) that can spoof a name's reading.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f"
                        "\u202a-\u202e\u2066-\u2069]")
_SPACING = re.compile("[\t\n\r\u2028\u2029]+")
# Columns that can never be negative (registry columns marked non_negative).
NON_NEGATIVE: tuple[str, ...] = registry.non_negative_columns()


@dataclass(frozen=True)
class Finding:
    """One data-quality problem: which dataset, row and field, the value as received, and why."""

    dataset: str
    row_key: str
    field: str
    value: str
    problem: str


@dataclass
class FrameResult:
    """A typed frame and the data-quality findings met while building it."""

    frame: pd.DataFrame
    findings: list[Finding] = field(default_factory=list)


class _Context:
    """Collects findings for one dataset; row keys are resolved lazily (only for bad rows).

    At most MAX_FINDINGS_PER_FIELD findings are kept per field; the rest are counted and
    summarised in one extra finding, so a broken feed cannot flood the report (or the time).
    """

    def __init__(self, dataset: str, raw_keys: list[list[Any]]) -> None:
        self.dataset = dataset
        self._raw_keys = raw_keys
        self.findings: list[Finding] = []
        self._per_field: dict[str, int] = {}

    def row_key(self, row: int) -> str:
        parts = [_short(column[row]) for column in self._raw_keys if not _missing(column[row])]
        return "/".join(parts) if parts else f"row {row + 1}"

    def add(self, row: int, column: str, value: Any, problem: str) -> None:
        seen = self._per_field.get(column, 0) + 1
        self._per_field[column] = seen
        if seen <= MAX_FINDINGS_PER_FIELD:
            self.findings.append(
                Finding(self.dataset, self.row_key(row), column, _short(value), problem)
            )

    def report(
        self,
        rows: np.ndarray,
        column: str,
        value: Callable[[int], Any],
        problem: str | Callable[[int], str],
    ) -> None:
        """Findings for many rows; only the rows that fit under the cap are formatted."""
        room = max(0, MAX_FINDINGS_PER_FIELD - self._per_field.get(column, 0))
        for row in rows[:room]:
            text = problem(int(row)) if callable(problem) else problem
            self.add(int(row), column, value(int(row)), text)
        skipped = max(0, len(rows) - room)
        self._per_field[column] = self._per_field.get(column, 0) + skipped

    def finish(self) -> list[Finding]:
        """The findings, plus one summary per field whose findings were cut."""
        for column, seen in self._per_field.items():
            if seen > MAX_FINDINGS_PER_FIELD:
                more = seen - MAX_FINDINGS_PER_FIELD
                self.findings.append(
                    Finding(
                        self.dataset,
                        "-",
                        column,
                        str(more),
                        f"{more} more rows with problems in this field (not listed)",
                    )
                )
        return self.findings


# --------------------------------------------------------------------------- small helpers


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _short(value: Any) -> str:
    """A value as text for a finding, cut to a readable length."""
    if isinstance(value, np.generic):
        value = value.item()  # numpy scalars read as plain numbers, not np.float64(...)
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _empty_series(col: Col) -> pd.Series:
    return _typed([], col)


def _typed(values: Sequence[Any] | pd.api.extensions.ExtensionArray, col: Col) -> pd.Series:
    """A Series of the column's dtype from already-clean values."""
    if col.kind == "string":
        return pd.Series(pd.array(values, dtype="string"))
    if col.kind == "int":
        return pd.Series(pd.array(values, dtype="Int64"))
    if col.kind == "float":
        return pd.Series(pd.array(values, dtype="Float64"))
    if col.kind == "ts":
        return pd.Series(pd.to_datetime(pd.Series(values, dtype=object), utc=True)).astype(
            "datetime64[ns, UTC]"
        )
    if col.kind == "cat":
        return pd.Series(pd.Categorical(values, categories=list(col.categories)))
    return pd.Series(list(values), dtype=object)


# --------------------------------------------------------------------------- column converters


def clean_text(value: str) -> str:
    """API text made safe to show: no control or direction characters, breaks as spaces."""
    return _INVISIBLE.sub("", _SPACING.sub(" ", value))


def _clean_series(series: pd.Series) -> pd.Series:
    """:func:`clean_text` over a string column (a no-op pass when nothing needs cleaning)."""
    dirty = series.str.contains(_SPACING.pattern + "|" + _INVISIBLE.pattern, regex=True)
    if not dirty.fillna(False).any():
        return series
    return series.str.replace(_SPACING.pattern, " ", regex=True).str.replace(
        _INVISIBLE.pattern, "", regex=True)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _string_series(values: list[Any]) -> pd.Series:
    """Text (or None) as a string column. JSON may escape a lone surrogate ("\\ud800"), which
    is no character and cannot be stored: it becomes U+FFFD, the replacement character."""
    try:
        return pd.Series(pd.array(values, dtype="string"))
    except UnicodeEncodeError:
        return pd.Series(pd.array(
            [_SURROGATE.sub("\ufffd", v) if isinstance(v, str) else v for v in values],
            dtype="string"))


def _to_string(values: list[Any], col: Col, ctx: _Context) -> pd.Series:
    if all(v is None or type(v) is str for v in values):
        return _string_series(values)
    clean: list[Any] = []
    for row, value in enumerate(values):
        if _missing(value) or isinstance(value, str):
            clean.append(None if _missing(value) else value)
        elif isinstance(value, (bool, int, float)):
            clean.append(str(value).lower() if isinstance(value, bool) else _number_text(value))
        else:
            ctx.add(row, col.name, value, "expected text, got " + type(value).__name__)
            clean.append(None)
    return _string_series(clean)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _numeric(values: list[Any], col: Col, ctx: _Context, whole: bool) -> pd.Series:
    """Numbers from ints, floats and numeric strings; anything else NA with a finding."""
    fast = _fast_numeric(values, whole)
    if fast is not None:
        return fast
    raw = pd.Series(values, dtype=object)
    candidates = raw.map(_numeric_candidate)
    parsed = pd.to_numeric(candidates, errors="coerce").astype("Float64")
    parsed = parsed.where(np.isfinite(parsed.fillna(0).to_numpy(dtype=float)))
    present = ~raw.map(_missing).to_numpy(dtype=bool)
    failed = present & parsed.isna().to_numpy(dtype=bool)
    expected = "a whole number" if whole else "a number"
    ctx.report(
        np.flatnonzero(failed),
        col.name,
        values.__getitem__,
        lambda row: f"expected {expected}, got {values[row]!r}",
    )
    if not whole:
        return parsed
    fraction = (parsed.notna() & (parsed != parsed.round())).fillna(False)
    too_big = (parsed.abs() > MAX_WHOLE_NUMBER).fillna(False)
    ctx.report(
        np.flatnonzero(fraction.to_numpy(dtype=bool)),
        col.name,
        values.__getitem__,
        "expected a whole number",
    )
    ctx.report(
        np.flatnonzero(too_big.to_numpy(dtype=bool)),
        col.name,
        values.__getitem__,
        "number out of range",
    )
    return parsed.mask(fraction | too_big).round().astype("Int64")


def _fast_numeric(values: list[Any], whole: bool) -> pd.Series | None:
    """The common case (clean JSON numbers) without per-value parsing; None when not clean."""
    allowed = (int,) if whole else (int, float)
    if not all(v is None or type(v) in allowed for v in values):
        return None
    try:
        array = pd.array(values, dtype="Int64" if whole else "Float64")
    except (OverflowError, TypeError, ValueError):
        return None
    numbers = array.to_numpy(dtype=float, na_value=0.0)
    if not np.isfinite(numbers).all() or (np.abs(numbers) > MAX_WHOLE_NUMBER).any():
        return None
    return pd.Series(array)


def _numeric_candidate(value: Any) -> Any:
    """Values pd.to_numeric may see: numbers and trimmed strings; everything else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return float(value)  # huge ints would overflow to_numeric's int64 path
    if isinstance(value, float):
        return value
    return value.strip() if isinstance(value, str) else None


def _to_int(values: list[Any], col: Col, ctx: _Context) -> pd.Series:
    return _numeric(values, col, ctx, whole=True)


def _to_float(values: list[Any], col: Col, ctx: _Context) -> pd.Series:
    return _numeric(values, col, ctx, whole=False)


def _to_ts(values: list[Any], col: Col, ctx: _Context) -> pd.Series:
    texts = [v if isinstance(v, str) else None for v in values]
    parsed = _parse_timestamps(pd.Series(texts, dtype=object))
    failed = parsed.isna().to_numpy(dtype=bool) & ~np.array([_missing(v) for v in values], bool)
    ctx.report(
        np.flatnonzero(failed), col.name, values.__getitem__, "expected an ISO 8601 date-time"
    )
    return parsed.reset_index(drop=True)


def _parse_timestamps(texts: pd.Series) -> pd.Series:
    """ISO 8601 strings -> datetime64[ns, UTC]; unparseable or out-of-range values become NaT."""
    try:
        parsed = pd.to_datetime(texts, utc=True, errors="coerce", format="ISO8601")
    except (ValueError, TypeError, OverflowError):  # defensive: one value at a time
        parsed = pd.Series([_one_timestamp(t) for t in texts], dtype="datetime64[ns, UTC]")
    # pandas may parse at second resolution; years outside the nanosecond range (e.g. "-1")
    # cannot be held in the column's dtype and are not believable anyway.
    in_range = (parsed >= TS_MIN) & (parsed <= TS_MAX)
    return parsed.where(in_range.fillna(False)).astype("datetime64[ns, UTC]")


def _one_timestamp(text: Any) -> pd.Timestamp | None:
    try:
        stamp = pd.to_datetime(text, utc=True, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        return None
    return stamp if TS_MIN <= stamp <= TS_MAX else None


def _to_cat(values: list[Any], col: Col, ctx: _Context) -> pd.Series:
    allowed = set(col.categories)
    folded = {c.casefold(): c for c in col.categories}
    clean: list[Any] = []
    for row, value in enumerate(values):
        if value is None or (isinstance(value, str) and value in allowed):
            clean.append(value)
        elif isinstance(value, str) and value.strip().casefold() in folded:
            clean.append(folded[value.strip().casefold()])
        else:
            if not _missing(value):
                ctx.add(row, col.name, value, "not one of " + ", ".join(col.categories))
            clean.append(None)
    return pd.Series(pd.Categorical(clean, categories=list(col.categories)))


def _to_dict(values: list[Any], col: Col, ctx: _Context) -> pd.Series:
    clean: list[Any] = []
    for row, value in enumerate(values):
        if isinstance(value, dict) or value is None:
            clean.append(value)
        else:
            ctx.add(row, col.name, value, "expected an object, got " + type(value).__name__)
            clean.append(None)
    return pd.Series(clean, dtype=object)


def _to_list(values: list[Any], col: Col, ctx: _Context) -> pd.Series:
    clean: list[Any] = []
    for row, value in enumerate(values):
        if isinstance(value, list) or value is None:
            clean.append(value)
            for problem in segment_rules.rule_problems(value):
                ctx.add(row, col.name, value, problem)
        else:
            ctx.add(row, col.name, value, "expected a list, got " + type(value).__name__)
            clean.append(None)
    return pd.Series(clean, dtype=object)


_CONVERTERS: dict[str, Callable[[list[Any], Col, _Context], pd.Series]] = {
    "string": _to_string,
    "int": _to_int,
    "float": _to_float,
    "ts": _to_ts,
    "cat": _to_cat,
    "dict": _to_dict,
    "list": _to_list,
}


# --------------------------------------------------------------------------- quality checks


def _null_out(frame: pd.DataFrame, mask: np.ndarray, columns: Iterable[str]) -> None:
    for column in columns:
        frame[column] = frame[column].mask(pd.Series(mask, index=frame.index))


def _report(ctx: _Context, frame: pd.DataFrame, mask: np.ndarray, column: str, problem: str):
    ctx.report(np.flatnonzero(mask), column, frame[column].iat.__getitem__, problem)


def _check_non_negative(frame: pd.DataFrame, ctx: _Context) -> None:
    for column in NON_NEGATIVE:
        if column not in frame:
            continue
        bad = (frame[column] < 0).fillna(False).to_numpy(dtype=bool)
        if bad.any():
            _report(ctx, frame, bad, column, "negative value")
            _null_out(frame, bad, [column])


def _check_rate_range(frame: pd.DataFrame, ctx: _Context) -> None:
    if "completion_rate_pct" not in frame:
        return
    rate = frame["completion_rate_pct"]
    bad = ((rate < 0) | (rate > 100)).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        _report(ctx, frame, bad, "completion_rate_pct", "rate outside 0..100")
        _null_out(frame, bad, ["completion_rate_pct"])


def _check_rate_triple(frame: pd.DataFrame, ctx: _Context, spec: registry.DatasetSpec) -> None:
    if not spec.rate_check:
        return
    part_name, whole_name, rate_name = spec.rate_check
    part, whole = frame[part_name], frame[whole_name]
    over = (part > whole).fillna(False).to_numpy(dtype=bool)
    if over.any():
        ctx.report(
            np.flatnonzero(over),
            part_name,
            part.iat.__getitem__,
            lambda row: f"{part_name} > {whole_name} ({whole.iat[row]})",
        )
        _null_out(frame, over, [part_name, rate_name])
    part, rate = frame[part_name], frame[rate_name]
    positive = whole.where(whole > 0)
    expected = (part.astype("Float64") * 100 / positive.astype("Float64")).round(6)
    zero_whole = (whole == 0).fillna(False) & (rate != 0).fillna(False)
    off = ((expected - rate).abs() > RATE_TOLERANCE_PCT).fillna(False) | zero_whole
    off_mask = off.to_numpy(dtype=bool)

    def mismatch(row: int) -> str:
        shown = "n/a" if pd.isna(expected.iat[row]) else f"{expected.iat[row]:.1f}"
        return f"rate does not match counts ({shown})"

    ctx.report(np.flatnonzero(off_mask), rate_name, rate.iat.__getitem__, mismatch)
    if off_mask.any():
        _null_out(frame, off_mask, [rate_name])


def _check_keys(frame: pd.DataFrame, ctx: _Context, spec: registry.DatasetSpec,
                groups: np.ndarray | None = None) -> None:
    keys = list(spec.ids)
    missing = frame[keys[0]].isna().to_numpy(dtype=bool)
    ctx.report(np.flatnonzero(missing), keys[0], lambda row: None, "missing id")
    present = frame.loc[~missing, keys]
    if groups is not None:  # unique within each group (a trend's window), not overall
        present = present.assign(**{GROUP_COLUMN: groups[~missing]})
    duplicated = present.duplicated(keep="first")
    rows = np.asarray(present.index[duplicated.to_numpy(dtype=bool)], dtype=int)
    ctx.report(rows, keys[-1], frame[keys[-1]].iat.__getitem__, "duplicate id")


# --------------------------------------------------------------------------- public API


def columns(dataset: str) -> list[str]:
    """The fixed column names of a dataset (trend datasets include the window columns)."""
    return list(empty_frame(dataset).columns)


def _spec(dataset: str) -> registry.DatasetSpec:
    """The registry spec of a dataset whose records become a frame (not a trend)."""
    spec = registry.get(dataset)
    if spec.is_trend:
        raise ValueError(f"{dataset!r} is a trend: build it with trend_frame.")
    return spec


def empty_frame(dataset: str) -> pd.DataFrame:
    """A frame with no rows and the dataset's columns and dtypes."""
    spec = registry.get(dataset)
    if spec.is_trend:
        base = empty_frame(spec.trend_base)
        return _prepend_window_columns(base, [], [], [], [])
    return pd.DataFrame({col.name: _empty_series(col) for col in spec.columns})


def to_frame(dataset: str, records: Iterable[Any] | None) -> FrameResult:
    """Typed frame plus findings for one dataset's records (the API's ``data`` items).

    Never raises on bad records: see the module docstring for what happens to them.
    """
    return _typed_records(_spec(dataset), list(records or []), groups=None)


def window_records_frame(
    dataset: str, windows_with_records: Iterable[tuple[Window, Iterable[Any] | None]]
) -> FrameResult:
    """A trend built from raw records: each window's records of the base `dataset` (e.g.
    ``flows``), typed and checked together in one pass, with the window columns prepended.

    The same as `to_frame` per window then `trend_frame`, without pandas' fixed cost per window
    (90 daily windows cost 90 small frames before: most of a trend fetch's CPU). Ids must be
    unique within a window, not across windows; a ranked report is ranked per window.
    """
    spec = _spec(dataset)
    items: list[Any] = []
    windows: list[Window] = []
    counts: list[int] = []
    for window, records in windows_with_records:
        dicts = [r for r in records or [] if isinstance(r, dict)]
        if spec.ranked:
            dicts = [_with_rank(r, position) for position, r in enumerate(dicts, start=1)]
        items.extend(dicts)
        items.extend(r for r in records or [] if not isinstance(r, dict))  # reported, dropped
        windows.append(window)
        counts.append(len(dicts))
    groups = np.repeat(np.arange(len(counts)), counts)
    result = _typed_records(spec, items, groups=groups, ranked_already=True)
    frame = _prepend_window_columns(
        result.frame,
        _repeat([w.start for w in windows], counts),
        _repeat([w.end for w in windows], counts),
        _repeat([w.label for w in windows], counts),
        _repeat([w.partial for w in windows], counts),
    )
    return FrameResult(frame, result.findings)


def _typed_records(spec: registry.DatasetSpec, items: list[Any], *, groups: np.ndarray | None,
           ranked_already: bool = False) -> FrameResult:
    """Type and check `items` (records, maybe with non-objects among them) as `spec` says;
    `groups` (one label per object record) scopes the duplicate-id check (trend windows)."""
    schema = spec.columns
    dicts = [r for r in items if isinstance(r, dict)]
    dropped = [r for r in items if not isinstance(r, dict)]
    if spec.ranked and not ranked_already:
        dicts = [_with_rank(r, position) for position, r in enumerate(dicts, start=1)]
    key_columns = [
        [r.get(col.source) for r in dicts] for col in schema if col.name in spec.ids
    ]
    ctx = _Context(spec.name, key_columns)
    for value in dropped:
        ctx.findings.append(Finding(spec.name, "-", "-", _short(value), "record is not an object"))
    if not dicts:
        return FrameResult(empty_frame(spec.name), ctx.findings)
    data = {
        col.name: _CONVERTERS[col.kind]([r.get(col.source) for r in dicts], col, ctx)
        for col in schema
    }
    frame = pd.DataFrame(data)
    _clean_texts(frame, spec)
    _check_non_negative(frame, ctx)
    _check_rate_range(frame, ctx)
    _check_rate_triple(frame, ctx, spec)
    _check_keys(frame, ctx, spec, groups)
    return FrameResult(frame, ctx.finish())


def _clean_texts(frame: pd.DataFrame, spec: registry.DatasetSpec) -> None:
    """Clean every text column but the ids (in place); fill missing names with their id."""
    for col in spec.columns:
        if col.kind == "string" and col.name not in spec.ids:
            frame[col.name] = _clean_series(frame[col.name])
    if spec.name_fallback:
        name, key = spec.name_fallback
        names = frame[name]
        blank = names.isna() | (names.str.strip() == "").fillna(True)
        if blank.any():
            frame[name] = names.mask(blank, _clean_series(frame[key]))


def _with_rank(record: dict[str, Any], position: int) -> dict[str, Any]:
    """A ranked report's records are ranked by their order in it (the spec has no rank field)."""
    if registry.RANK in record:
        return record
    return {**record, registry.RANK: position}


def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """Findings as a DataFrame: dataset, row_key, field, value, problem (all text)."""
    rows = list(findings)
    return pd.DataFrame(
        {
            name: pd.array([getattr(f, name) for f in rows], dtype="string")
            for name in FINDING_COLUMNS
        }
    )


def _prepend_window_columns(
    base: pd.DataFrame,
    starts: list[date],
    ends: list[date],
    labels: list[str],
    partial: list[bool],
) -> pd.DataFrame:
    prefix = pd.DataFrame(
        {
            "window_start": pd.Series(starts, dtype=object),
            "window_end": pd.Series(ends, dtype=object),
            "window_label": pd.array(labels, dtype="string"),
            "partial": pd.Series(partial, dtype=bool),
        },
        index=base.index,
    )
    return pd.concat([prefix, base], axis=1)


def trend_frame(
    windows_with_frames: Iterable[tuple[Window, pd.DataFrame | FrameResult]],
    dataset: str | None = None,
) -> pd.DataFrame:
    """One frame of per-window frames, with window_start, window_end, window_label and partial
    prepended (``window_start``/``window_end`` are ``datetime.date`` values).

    ``dataset`` (a base name like ``flows`` or a trend name like ``flow-trend``) fixes the columns
    of an empty result.
    """
    pairs = [(w, f.frame if isinstance(f, FrameResult) else f) for w, f in windows_with_frames]
    spec = registry.get(dataset) if dataset else None
    base_name = spec.trend_base if spec is not None and spec.is_trend else dataset
    non_empty = [(w, f) for w, f in pairs if not f.empty]
    if not non_empty:
        base = empty_frame(base_name) if base_name else pd.DataFrame()
        return _prepend_window_columns(base, [], [], [], [])
    frames = [f for _, f in non_empty]
    base = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].copy()
    base = base.reset_index(drop=True)
    if base_name:
        base = _restore_dtypes(base, empty_frame(base_name))
    lengths = [len(f) for f in frames]
    windows = [w for w, _ in non_empty]
    return _prepend_window_columns(
        base,
        _repeat([w.start for w in windows], lengths),
        _repeat([w.end for w in windows], lengths),
        _repeat([w.label for w in windows], lengths),
        _repeat([w.partial for w in windows], lengths),
    )


def _repeat(values: list[Any], counts: list[int]) -> list[Any]:
    return [value for value, count in zip(values, counts, strict=True) for _ in range(count)]


def _restore_dtypes(frame: pd.DataFrame, template: pd.DataFrame) -> pd.DataFrame:
    """Concatenation can widen dtypes (e.g. categoricals); put the schema's dtypes back."""
    for name, dtype in template.dtypes.items():
        if name in frame and frame[name].dtype != dtype:
            frame[name] = frame[name].astype(dtype)
    return frame[
        [c for c in template.columns if c in frame]
        + [c for c in frame.columns if c not in template.columns]
    ]
