"""Generic figure builders behind the dataset charts: ranked bars, histograms, stacks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
import plotly.graph_objects as go

from whatfix_data.charts import style

ValueKind = Literal["count", "percent", "seconds", "minutes", "number"]

# Hover number format and unit suffix per kind of value.
_HOVER_FORMAT: dict[str, tuple[str, str]] = {
    "count": (",.0f", ""),
    "percent": (".1f", "%"),
    "seconds": (",.0f", " s"),
    "minutes": (",.1f", " min"),
    "number": (",.1f", ""),
}
_TEXT_FORMAT: dict[str, str] = {
    "count": "%{x:,.0f}",
    "percent": "%{x:.1f}%",
    "seconds": "%{x:,.0f} s",
    "minutes": "%{x:,.1f} min",
    "number": "%{x:,.1f}",
}
BIN_FILL = 0.9   # share of a bin its bar fills: a thin gap keeps neighbouring bins apart
HIST_TICKS = 10  # about this many labelled ticks on a binned axis (on bin edges)


@dataclass(frozen=True)
class Measure:
    """One numeric column drawn as a series: legend label and colour."""

    column: str
    label: str
    colour: str = style.PALETTE[0]
    previous: bool = False  # comparison series: lighter and dashed/see-through


def hover_value(kind: ValueKind, axis: str = "x") -> str:
    """Hover template fragment showing the value with its unit."""
    fmt, suffix = _HOVER_FORMAT[kind]
    return f"%{{{axis}:{fmt}}}{suffix}"


def value_axis(kind: ValueKind, title: str, max_value: float | None) -> dict[str, Any]:
    """Value axis by kind: integer counts, 0..100 percentages, or plain numbers from zero."""
    if kind == "count":
        return style.count_axis(title, max_value)
    if kind == "percent":
        return style.percent_axis(title)
    return {"title": {"text": title}, "rangemode": "tozero", "automargin": True}


def _keys(frame: pd.DataFrame, key_col: str | None) -> list[str]:
    """Unique category keys: the id column when it is unique, else the row position."""
    if key_col and key_col in frame and frame[key_col].notna().all() and frame[key_col].is_unique:
        return [str(k) for k in frame[key_col]]
    return [f"row-{i}" for i in range(len(frame))]


def top_rows(frame: pd.DataFrame, sort_by: str, name_col: str, limit: int | None) -> pd.DataFrame:
    """Rows sorted by `sort_by` descending (ties by name), cut to `limit`."""
    ordered = frame.assign(_name=frame[name_col].astype("string").fillna(""))
    ordered = ordered.sort_values([sort_by, "_name"], ascending=[False, True], na_position="last")
    ordered = ordered.drop(columns="_name")
    return ordered if limit is None else ordered.head(limit)


def top_and_bottom(
    ordered: pd.DataFrame, limit: int | None, keep: pd.Series | None = None
) -> pd.DataFrame:
    """The first and the last ``limit`` rows of an ordered frame (all when there are no more than
    2 x limit), plus the rows where ``keep`` is True, in the frame's order."""
    if limit is None or len(ordered) <= 2 * limit:
        return ordered
    position = pd.Series(range(len(ordered)), index=ordered.index)
    shown = (position < limit) | (position >= len(ordered) - limit)
    if keep is not None:
        shown |= keep.reindex(ordered.index, fill_value=False).astype(bool)
    return ordered[shown.to_numpy()]


def shown_subtitle(
    subtitle: str | None, shown: int, total: int, noun: str, *, bottom: int = 0,
    extra: str | None = None,
) -> str | None:
    """Subtitle, extended with the cut: "Top 30 of 57 flows", or with ``bottom`` "Top 15 and
    bottom 15 of 57 flows"; ``extra`` adds e.g. "and the most viewed flow"."""
    if shown >= total:
        return subtitle
    note = (f"Top {bottom} and bottom {bottom} of {total:,} {noun}" if bottom
            else f"Top {shown} of {total:,} {noun}")
    if extra:
        note += f", {extra}"
    return f"{subtitle} · {note}" if subtitle else note


def ranked_bars(
    frame: pd.DataFrame,
    *,
    name_col: str,
    measures: Sequence[Measure],
    title: str,
    value_title: str,
    kind: ValueKind = "count",
    key_col: str | None = None,
    sort_by: str | None = None,
    limit: int | None = style.DEFAULT_TOP_N,
    noun: str = "items",
    subtitle: str | None = None,
    empty_message: str = "No data in this date range",
    scale: float = 1.0,
    presorted: bool = False,
    bottom: bool = False,
    keep: pd.Series | None = None,
    keep_note: str | None = None,
    cut_noun: str | None = None,
) -> go.Figure:
    """Horizontal bars, one row per named item, largest first at the top.

    Several measures become grouped bars. Long names are truncated on the axis; the hover shows
    the full (escaped) name. `scale` divides values (seconds -> minutes). `presorted` keeps
    the caller's row order (a ranking made by the analytics module). With `bottom`, `limit`
    rows of each end are shown (the best and the worst), and `keep` (a boolean Series on
    `frame`'s index) keeps rows that must stay visible, named in the subtitle by `keep_note`;
    `cut_noun` names what was cut in the subtitle ("flows with at least 100 views").
    """
    if frame is None or frame.empty:
        return style.empty_figure(title, empty_message, subtitle=subtitle)
    ordered = frame if presorted else top_rows(frame, sort_by or measures[0].column, name_col,
                                               None)
    if bottom:
        rows = top_and_bottom(ordered, limit, keep)
    else:
        rows = ordered if limit is None else ordered.head(limit)
    kept_extra = bottom and limit is not None and len(rows) > min(len(frame), 2 * limit)
    cut_bottom = limit if bottom and limit is not None and len(frame) > 2 * limit else 0
    keys = _keys(rows, key_col)
    full_names = [style.escape_text(n) for n in rows[name_col]]
    fig = go.Figure()
    max_value = 0.0
    for measure in measures:
        values = [None if v is None else v / scale if scale != 1 else v
                  for v in style.plain_values(rows[measure.column])]
        numeric = [v for v in values if v is not None]
        max_value = max([max_value, *numeric])
        fig.add_trace(_bar_trace(measure, keys, values, full_names, kind, len(measures) == 1))
    height = style.bar_height(len(rows), rows_per_bar=max(1.0, 0.7 * len(measures)))
    style.apply_layout(
        fig, title,
        subtitle=shown_subtitle(subtitle, len(rows), len(frame), cut_noun or noun,
                                bottom=cut_bottom, extra=keep_note if kept_extra else None),
        height=height, show_legend=len(measures) > 1,
    )
    fig.update_layout(
        barmode="group",
        yaxis=style.category_axis(keys, [style.short_label(n) for n in rows[name_col]],
                                  reverse=True),
        xaxis=value_axis(kind, value_title, max_value),
    )
    return fig


def _bar_trace(
    measure: Measure,
    keys: list[str],
    values: list[Any],
    full_names: list[str],
    kind: ValueKind,
    with_text: bool,
) -> go.Bar:
    """One horizontal bar series with the full name and unit in its hover."""
    trace = go.Bar(
        x=values,
        y=keys,
        orientation="h",
        name=measure.label,
        customdata=[[n] for n in full_names],
        hovertemplate=(f"<b>%{{customdata[0]}}</b><br>{measure.label}: "
                       f"{hover_value(kind)}<extra></extra>"),
        marker={"color": style.lighten(measure.colour) if measure.previous else measure.colour},
    )
    if with_text:
        trace.update(texttemplate=_TEXT_FORMAT[kind], textposition="outside", cliponaxis=False)
    return trace


# ---------------------------------------------------------------------------------------------
# Distributions


def distribution_bars(
    dist: pd.DataFrame,
    *,
    title: str,
    value_title: str,
    count_title: str = "Users (count)",
    unit_noun: str = "users",
    colour: str = style.PALETTE[0],
    subtitle: str | None = None,
    empty_message: str = "No data in this date range",
) -> go.Figure:
    """A histogram from pre-binned counts (`analytics.engagement.distribution` columns:
    bin_start, bin_end inclusive, label, users), drawn as touching bars on a numeric axis."""
    if dist is None or dist.empty or int(dist["users"].fillna(0).sum()) == 0:
        return style.empty_figure(title, empty_message, subtitle=subtitle)
    starts = [int(v) for v in dist["bin_start"]]
    ends = [int(v) for v in dist["bin_end"]]
    counts = [int(v) for v in dist["users"].fillna(0)]
    width = ends[0] - starts[0] + 1
    fig = go.Figure(go.Bar(
        x=[(s + e) / 2 for s, e in zip(starts, ends, strict=True)],
        y=counts,
        width=[(e - s + 1) * BIN_FILL for s, e in zip(starts, ends, strict=True)],
        marker={"color": colour},
        customdata=[[style.escape_text(lbl)] for lbl in dist["label"]],
        hovertemplate=f"%{{customdata[0]}}: %{{y:,d}} {unit_noun}<extra></extra>",
        name=count_title,
    ))
    style.apply_layout(fig, title, subtitle=subtitle, show_legend=False)
    x_axis = style.count_axis(value_title, float(ends[-1]))
    x_axis.update(rangemode="normal", range=[starts[0] - 0.5, ends[-1] + 0.5])
    if width > 1:
        x_axis.update(tick0=0, dtick=width * max(1, len(starts) // HIST_TICKS))
    fig.update_layout(xaxis=x_axis, yaxis=style.count_axis(count_title, float(max(counts))))
    return fig


# ---------------------------------------------------------------------------------------------
# Stacked parts of a whole


def stacked_bars(
    table: pd.DataFrame,
    *,
    colours: dict[str, str],
    title: str,
    value_title: str,
    normalise: bool = False,
    noun: str = "items",
    subtitle: str | None = None,
    empty_message: str = "No data in this date range",
    names: Sequence[Any] | None = None,
) -> go.Figure:
    """Horizontal stacked bars: one row per index entry, one stack part per column.

    `table` holds counts (index: raw names, columns: part labels in stacking order). With
    `normalise` each row is shown as shares of 100 % (hover keeps the count). `names` labels
    the rows when the index holds ids.
    """
    if table is None or table.empty or float(table.to_numpy().sum()) == 0:
        return style.empty_figure(title, empty_message, subtitle=subtitle)
    totals = table.sum(axis=1)
    keys = [f"row-{i}" for i in range(len(table))]
    labels = list(table.index) if names is None else list(names)
    full = [style.escape_text(n) for n in labels]
    fig = go.Figure()
    for part in table.columns:
        counts = [int(c) for c in table[part]]
        shares = [100.0 * c / t if t else 0.0 for c, t in zip(counts, totals, strict=True)]
        fig.add_trace(go.Bar(
            x=shares if normalise else counts,
            y=keys,
            orientation="h",
            name=style.escape_text(part),
            marker={"color": colours.get(str(part), style.NEUTRAL_COLOUR)},
            customdata=[[n, c, s] for n, c, s in zip(full, counts, shares, strict=True)],
            hovertemplate=(f"<b>%{{customdata[0]}}</b><br>{style.escape_text(part)}: "
                           f"%{{customdata[1]:,d}} {noun}"
                           " (%{customdata[2]:.1f}%)<extra></extra>"),
        ))
    style.apply_layout(fig, title, subtitle=subtitle, height=style.bar_height(len(table)))
    fig.update_layout(
        barmode="stack",
        yaxis=style.category_axis(keys, [style.short_label(n) for n in labels], reverse=True),
        xaxis=(style.percent_axis(value_title) if normalise
               else style.count_axis(value_title, float(totals.max()))),
    )
    return fig
