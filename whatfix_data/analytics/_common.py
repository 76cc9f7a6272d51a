"""Shared helpers of the analytics modules: frame access, safe rates, changes, day arithmetic."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from whatfix_data import frames, registry

WINDOW_COLUMNS: tuple[str, ...] = registry.WINDOW_COLUMNS
PERCENT = 100.0
RATE_DECIMALS = 1


def frame_of(source: Any, dataset: str | None = None) -> pd.DataFrame:
    """A DataFrame from a frame, a Dataset/FrameResult (``.frame``), or a mapping of those.

    ``None`` (or a missing key) gives the dataset's empty frame, so every function accepts
    "no data" without special cases.
    """
    if isinstance(source, Mapping):
        source = source.get(dataset) if dataset else None
    if source is not None and not isinstance(source, pd.DataFrame):
        source = getattr(source, "frame", None)
    if source is None:
        if dataset is None or registry.find(dataset) is None:
            return pd.DataFrame()
        return frames.empty_frame(dataset)
    return source


def total(series: pd.Series) -> int:
    """Sum of a count column ignoring NA (0 when empty)."""
    return int(series.sum(skipna=True)) if len(series) else 0


def rate_pct(part: float | None, whole: float | None) -> float | None:
    """100 * part / whole, or None when whole is 0 or unknown."""
    if part is None or whole is None or pd.isna(part) or pd.isna(whole) or whole == 0:
        return None
    return float(part) * PERCENT / float(whole)


def rate_series(part: pd.Series, whole: pd.Series) -> pd.Series:
    """Element-wise 100 * part / whole as Float64, NA where whole is 0 or unknown."""
    whole_f = whole.astype("Float64")
    return (part.astype("Float64") * PERCENT / whole_f.where(whole_f > 0)).astype("Float64")


def change(current: float | None, previous: float | None) -> float | None:
    """current - previous, or None when either is unknown."""
    if current is None or previous is None or pd.isna(current) or pd.isna(previous):
        return None
    return float(current) - float(previous)


def change_pct(current: float | None, previous: float | None) -> float | None:
    """Relative change in percent, or None when previous is 0 or unknown."""
    delta = change(current, previous)
    if delta is None or previous == 0:
        return None
    return delta * PERCENT / abs(float(previous))


def utc_day(value: Any) -> date | None:
    """The UTC calendar day of a timestamp/date, or None when missing (None, NA, NaT)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if not isinstance(value, date) and pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        stamp = value.tz_convert("UTC") if value.tzinfo else value
        return stamp.date()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()


def end_of_day_utc(day: date) -> pd.Timestamp:
    """The first instant after ``day`` in UTC (exclusive bound for 'on or before day')."""
    return pd.Timestamp(day + timedelta(days=1), tz="UTC")


def days_between(later: date, earlier: pd.Series) -> pd.Series:
    """Whole days from each timestamp's UTC day to ``later`` (Int64, NA when missing)."""
    stamps = pd.to_datetime(earlier, utc=True)
    days = (pd.Timestamp(later, tz="UTC") - stamps.dt.floor("D")).dt.days
    return days.astype("Int64")


def name_or_id(names: pd.Series, ids: pd.Series) -> pd.Series:
    """Display names, falling back to the id where the name is missing."""
    return names.astype("string").fillna(ids.astype("string"))


def ordered(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The frame with exactly ``columns`` in that order, index reset."""
    return frame[columns].reset_index(drop=True)
