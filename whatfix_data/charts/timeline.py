"""Trend builder: lines over date windows, the comparison period dashed, partial windows
ringed, labelled ticks on window starts.

The comparison comes in the same frame, from ``analytics.comparison.aligned_comparison``: its
``comparison_<metric>`` value of row k is drawn at window k's position, and its hover names its
own window (``comparison_window_label``), so a line never pairs windows by date arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from whatfix_data.charts import style
from whatfix_data.charts.builders import Measure, ValueKind, hover_value, value_axis

# Granularity -> date axis title (the "unit" of a time axis is what one point stands for).
WINDOW_AXIS_TITLES = {"day": "Day", "week": "Week starting", "month": "Month starting"}
DAYS_IN_WEEK = 7
MAX_WINDOW_TICKS = 14  # daily trends longer than this use plotly's automatic date ticks
TARGET_TICKS = 8       # at most this many labelled window ticks (every 2nd, 3rd... window)
MANY_POINTS = 40       # above this many windows, markers shrink so the line stays readable
LONE_POINTS = 2        # up to this many windows, markers grow (there is hardly a line to see)
PARTIAL_NOTE = " (partial window)"
PARTIAL_LEGEND = "Partial window (cut short by the range)"
COMPARISON_PREFIX = "comparison_"
BEFORE_DATA_NOTE = " (starts before the account's data)"



def window_axis_title(frame: pd.DataFrame, granularity: str | None = None) -> str:
    """Date-axis title from the granularity, or inferred from the window lengths."""
    if granularity in WINDOW_AXIS_TITLES:
        return WINDOW_AXIS_TITLES[granularity]
    if frame is None or frame.empty or "window_end" not in frame:
        return "Date"
    span = (pd.to_datetime(frame["window_end"]) - pd.to_datetime(frame["window_start"])).dt.days
    longest = int(span.max()) + 1
    if longest <= 1:
        return WINDOW_AXIS_TITLES["day"]
    return WINDOW_AXIS_TITLES["week"] if longest <= DAYS_IN_WEEK else WINDOW_AXIS_TITLES["month"]


def _flags(frame: pd.DataFrame, column: str) -> list[bool]:
    """A boolean column as plain bools (False where missing or unknown)."""
    if column not in frame:
        return [False] * len(frame)
    return [bool(v) is True for v in frame[column].astype("boolean").fillna(False)]


def _window_notes(frame: pd.DataFrame, prefix: str = "") -> list[str]:
    """Hover label per window: its label, plus a note when the window is partial (and, on the
    comparison side, when it starts before the account's data)."""
    label_column = f"{prefix}window_label"
    labels = (frame[label_column].astype("string").fillna("no matching window").tolist()
              if label_column in frame else style.iso_dates(frame["window_start"]))
    partial = _flags(frame, "comparison_partial" if prefix else "partial")
    early = _flags(frame, "comparison_before_data") if prefix else [False] * len(frame)
    # windows.split_range already labels cut windows "(partial)"; add the note only when missing.
    return [style.escape_text(lbl)
            + (PARTIAL_NOTE if cut and "partial" not in str(lbl) else "")
            + (BEFORE_DATA_NOTE if before else "")
            for lbl, cut, before in zip(labels, partial, early, strict=True)]


def _partial_rings(frame: pd.DataFrame, x: list[str], measures: Sequence[Measure]) -> go.Scatter:
    """Rings around the points of partial windows (current and comparison side), with one
    legend entry that explains them, so a short last week does not read as a drop."""
    xs: list[str] = []
    ys: list[Any] = []
    for prefix, flag in (("", "partial"), (COMPARISON_PREFIX, "comparison_partial")):
        partial = _flags(frame, flag)
        for measure in measures:
            column = f"{prefix}{measure.column}"
            if column not in frame:
                continue
            values = style.plain_values(frame[column])
            for xi, value, cut in zip(x, values, partial, strict=True):
                if cut and value is not None:
                    xs.append(xi)
                    ys.append(value)
    return go.Scatter(
        x=xs, y=ys, mode="markers", name=PARTIAL_LEGEND, hoverinfo="skip",
        marker={"symbol": "circle-open", "size": _marker_size(len(x)) + 8,
                "color": style.NEUTRAL_COLOUR, "line": {"width": 2}},
        meta={"partial_windows": True},
    )


def trend_lines(
    frame: pd.DataFrame,
    *,
    measures: Sequence[Measure],
    title: str,
    value_title: str,
    kind: ValueKind = "count",
    previous_label: str | None = None,
    granularity: str | None = None,
    subtitle: str | None = None,
    empty_message: str = "No data in this date range",
) -> go.Figure:
    """Lines over `window_start`, one per measure; the comparison period drawn dashed.

    ``frame`` has one row per window; when it holds ``comparison_<measure>`` columns (an
    ``aligned_comparison`` frame) each is drawn dashed at its paired window, named
    ``previous_label``.
    """
    if frame is None or frame.empty:
        return style.empty_figure(title, empty_message, subtitle=subtitle)
    frame = frame.sort_values("window_start")
    x = style.iso_dates(frame["window_start"])
    fig = go.Figure()
    max_value = 0.0
    for measure in measures:
        values = style.plain_values(frame[measure.column])
        max_value = max([max_value, *(v for v in values if v is not None)])
        fig.add_trace(_line_trace(measure, x, values, _window_notes(frame), kind))
    if any(f"{COMPARISON_PREFIX}{m.column}" in frame for m in measures):
        max_value = max(max_value, _add_previous(fig, frame, x, measures, kind,
                                                 previous_label or "Comparison period"))
    rings = _partial_rings(frame, x, measures)
    if rings.x:
        fig.add_trace(rings)  # last: its legend entry closes the list
    style.apply_layout(fig, title, subtitle=subtitle,
                       show_legend=len(fig.data) > 1)
    axis_title = window_axis_title(frame, granularity)
    fig.update_layout(
        hovermode="x unified" if len(fig.data) > 1 else "closest",
        xaxis={"title": {"text": axis_title}, "type": "date", "automargin": True,
               **window_ticks(x, axis_title)},
        yaxis=value_axis(kind, value_title, max_value),
    )
    return fig


def window_ticks(x: list[str], axis_title: str) -> dict[str, Any]:
    """Ticks on window starts (plotly's own fall between weeks/months), at most TARGET_TICKS
    of them so labels stay horizontal; many daily windows keep plotly's automatic ticks."""
    if axis_title == WINDOW_AXIS_TITLES["day"] and len(x) > MAX_WINDOW_TICKS:
        return {}
    step = -(-len(x) // TARGET_TICKS)  # ceiling division
    x = x[::step]
    stamps = [pd.Timestamp(v) for v in x]
    if axis_title == WINDOW_AXIS_TITLES["month"]:
        text = [f"{s:%b %Y}" for s in stamps]
    else:
        text = [f"{s.day} {s:%b}" + (f" {s.year}" if i == 0 else "")
                for i, s in enumerate(stamps)]
    return {"tickmode": "array", "tickvals": x, "ticktext": text}


def _marker_size(points: int) -> int:
    """Big markers for a lone point (no line to see), small ones on a dense line."""
    if points <= LONE_POINTS:
        return 12
    return 8 if points <= MANY_POINTS else 4


def _line_trace(
    measure: Measure,
    x: list[str],
    values: list[Any],
    notes: list[str],
    kind: ValueKind,
) -> go.Scatter:
    """A current-period line with per-window hover labels."""
    return go.Scatter(
        x=x,
        y=values,
        mode="lines+markers",
        name=measure.label,
        line={"color": measure.colour, "width": 2.5},
        marker={"color": measure.colour, "size": _marker_size(len(x))},
        customdata=[[n] for n in notes],
        hovertemplate=(f"{measure.label}: {hover_value(kind, 'y')}"
                       " · %{customdata[0]}<extra></extra>"),
    )


def _add_previous(
    fig: go.Figure,
    frame: pd.DataFrame,
    x: list[str],
    measures: Sequence[Measure],
    kind: ValueKind,
    previous_label: str,
) -> float:
    """Dashed, lighter comparison lines, row k at window k; returns their maximum for the axis."""
    notes = _window_notes(frame, COMPARISON_PREFIX)
    max_value = 0.0
    for measure in measures:
        column = f"{COMPARISON_PREFIX}{measure.column}"
        if column not in frame:
            continue
        values = style.plain_values(frame[column])
        max_value = max([max_value, *(v for v in values if v is not None)])
        name = previous_label if len(measures) == 1 else f"{measure.label} · {previous_label}"
        fig.add_trace(go.Scatter(
            x=x,
            y=values,
            mode="lines",
            name=name,
            opacity=style.PREVIOUS_OPACITY,
            line={"color": measure.colour, "width": 2, "dash": style.PREVIOUS_DASH},
            customdata=[[n] for n in notes],
            hovertemplate=(f"{measure.label} (comparison): {hover_value(kind, 'y')}"
                           " · %{customdata[0]}<extra></extra>"),
            meta={"comparison": True},
        ))
    return max_value
