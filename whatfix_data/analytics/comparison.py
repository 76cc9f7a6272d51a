"""Comparisons window by window, and where the account's data begins.

:func:`aligned_comparison` is the one place a trend's current windows meet the comparison's:
window k of the range beside window k of the comparison range (``windows.align_windows``), so
July faces April for "last quarter vs previous quarter" whatever the dates. Every trend chart and
every raw-data table or export of a trend takes its frame from here.

The account's data begins on the day its first content item was created (no one can view or
complete content that does not exist yet): :func:`data_start`. A period that ends before that day
had no data yet; a comparison that starts before it is only partly covered, so its change is
not a fair percentage (:func:`coverage`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from whatfix_data.analytics._common import WINDOW_COLUMNS, frame_of, utc_day
from whatfix_data.windows import DateRange, WindowPair

PREFIX = "comparison_"
BEFORE_DATA = "comparison_before_data"
# coverage() answers: the period holds the account's data fully, partly, or not at all.
COVERED, PARTLY_COVERED, NOT_COVERED = "full", "partial", "none"


def comparison_column(column: str) -> str:
    """The comparison's name for a metric column: views -> comparison_views."""
    return f"{PREFIX}{column}"


def aligned_comparison(
    now: pd.DataFrame | None,
    before: pd.DataFrame | None,
    pairs: Sequence[WindowPair],
    *,
    data_start: date | None = None,
) -> pd.DataFrame:
    """One row per current window: its window columns and metrics, then the paired comparison
    window (``comparison_window_start``, ``_end``, ``_label``, ``comparison_partial``) and its
    metrics (``comparison_<metric>``).

    ``now`` / ``before`` are per-window totals (window columns + metric columns, e.g.
    ``flows.totals_by_window``); a window they do not list had nothing reported, so its counts
    are 0 and its rates unknown. With ``before`` None there are no comparison columns. A
    comparison window that starts before ``data_start`` has ``comparison_before_data`` True,
    and one that ends before it has unknown values (the account had no data yet).
    """
    now = frame_of(now)
    metrics = [c for c in now.columns if c not in WINDOW_COLUMNS]
    rows = {
        "window_start": [p.current.start for p in pairs],
        "window_end": [p.current.end for p in pairs],
        "window_label": pd.array([p.current.label for p in pairs], dtype="string"),
        "partial": pd.array([p.current.partial for p in pairs], dtype="boolean"),
    }
    out = pd.DataFrame(rows)
    _add_metrics(out, now, [p.current.start for p in pairs], metrics, "")
    if before is None:
        return out
    others = [p.comparison for p in pairs]
    out["comparison_window_start"] = [w.start if w else None for w in others]
    out["comparison_window_end"] = [w.end if w else None for w in others]
    out["comparison_window_label"] = pd.array([w.label if w else None for w in others],
                                              dtype="string")
    out["comparison_partial"] = pd.array([w.partial if w else None for w in others],
                                         dtype="boolean")
    out[BEFORE_DATA] = pd.array(
        [None if w is None or data_start is None else w.start < data_start for w in others],
        dtype="boolean",
    )
    _add_metrics(out, frame_of(before), [w.start if w else None for w in others], metrics,
                 PREFIX)
    if data_start is not None:  # windows wholly before the data: unknown, not zero
        empty = [w is not None and w.end < data_start for w in others]
        for metric in metrics:
            out.loc[empty, comparison_column(metric)] = pd.NA
    return out


def _add_metrics(out: pd.DataFrame, totals: pd.DataFrame, starts: list[date | None],
                 metrics: list[str], prefix: str) -> None:
    """Metric values looked up by window start; counts of windows not listed are 0."""
    if not metrics or "window_start" not in totals:
        return
    indexed = totals.drop_duplicates("window_start").set_index("window_start")
    for metric in metrics:
        dtype = totals[metric].dtype
        missing = 0 if pd.api.types.is_integer_dtype(dtype) else pd.NA
        values = [pd.NA if s is None else indexed.at[s, metric] if s in indexed.index
                  else missing for s in starts]
        out[f"{prefix}{metric}"] = pd.array(values, dtype=dtype)


def data_start(content: pd.DataFrame | None) -> date | None:
    """The day the account's data begins: its first content item's creation day (UTC)."""
    frame = frame_of(content, "content")
    days = [d for d in (utc_day(v) for v in frame["created_at"].dropna()) if d is not None]
    return min(days) if days else None


def coverage(period: DateRange | None, start: date | None) -> str:
    """Whether ``period`` holds the account's data: ``full``, ``partial`` (it starts before the
    data begins) or ``none`` (it ends before). Unknown start: ``full``."""
    if period is None or start is None or period.start >= start:
        return COVERED
    return NOT_COVERED if period.end < start else PARTLY_COVERED
