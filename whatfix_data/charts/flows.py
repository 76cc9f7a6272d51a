"""Flow charts: views, completions, completion rate, time to complete, trend, comparison."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import pandas as pd
import plotly.graph_objects as go

from whatfix_data import glossary
from whatfix_data.analytics import flows as flow_analytics
from whatfix_data.charts import style
from whatfix_data.charts.builders import Measure, ranked_bars
from whatfix_data.charts.timeline import trend_lines

NO_FLOWS = "No flow views in this date range"
TIME_TO_COMPLETE = glossary.term("avg_time_to_complete_s")
VIEWS = Measure("views", "Views", style.OKABE_ITO["blue"])
COMPLETIONS = Measure("completions", "Completions", style.OKABE_ITO["orange"])
RATE = Measure("completion_rate_pct", "Completion rate", style.OKABE_ITO["bluish_green"])
MOD_LINE_COLOUR = style.OKABE_ITO["reddish_purple"]
# Annotation heights (paper units) alternate so edits close together do not print over each other.
MOD_LABEL_HEIGHTS = (1.0, 0.92, 0.84)
LABEL_FLIP_AT = 0.8  # share of the x range after which an edit label sits left of its line
METRIC_TITLES = {
    "views": ("Views", "Views (count)", "count"),
    "completions": ("Completions", "Completions (count)", "count"),
    "completion_rate_pct": ("Completion rate", "Completion rate (%)", "percent"),
}


def flow_views_completions(
    flows: pd.DataFrame, *, limit: int | None = style.RANKED_PER_END,
    subtitle: str | None = None,
) -> go.Figure:
    """Views and completions per flow, grouped horizontal bars sorted by views; with more than
    2 x ``limit`` flows, the ``limit`` most and the ``limit`` least viewed.

    Input: the `flows` frame (flow_id, flow_name, views, completions, ...).
    """
    return ranked_bars(
        flows, name_col="flow_name", key_col="flow_id", measures=[VIEWS, COMPLETIONS],
        title="Views and completions by flow", value_title="Views / completions (count)",
        limit=limit, bottom=True, noun="flows", subtitle=subtitle, empty_message=NO_FLOWS,
    )


def min_views_note(min_views: int) -> str:
    """How the best/worst rankings are limited, e.g. "Flows with at least 100 views"."""
    return f"Flows with at least {min_views:,} views"


def flow_completion_rate(
    flows: pd.DataFrame, *, limit: int | None = style.RANKED_PER_END,
    min_views: int = flow_analytics.MIN_VIEWS_FOR_RANKING, subtitle: str | None = None,
) -> go.Figure:
    """Completion rate per flow (0..100 %), highest first: the ``limit`` best and the ``limit``
    worst of the flows with at least ``min_views`` views (all of them when there are fewer).

    The rows are ``analytics.flows.best_and_worst_flows(flows, limit, min_views)``, so every
    flow of a shorter best/worst list (the Overview's) is on this chart. Input: `flows` frame.
    """
    title = "Completion rate by flow"
    frame = flow_analytics.ranked_flows(flows, min_views)
    note = min_views_note(min_views)
    if frame.empty:
        message = NO_FLOWS if flows is None or flows.empty else f"No flow has {min_views:,} views"
        return style.empty_figure(title, message, subtitle=_joined(subtitle, note))
    if limit is None or len(frame) <= 2 * limit:
        rows, cut = frame, f"all {len(frame):,} {note[0].lower()}{note[1:]}"
    else:
        best, worst = flow_analytics.best_and_worst_flows(flows, limit, min_views)
        rows = pd.concat([best, worst.iloc[::-1]], ignore_index=True)
        cut = f"top {limit} and bottom {limit} of {len(frame):,} {note[0].lower()}{note[1:]}"
    left_out = 0 if flows is None else len(flows) - len(frame)
    if left_out:
        cut += f" ({left_out:,} with fewer views or no rate left out)"
    return ranked_bars(
        rows, name_col="flow_name", key_col="flow_id", measures=[RATE], presorted=True,
        title=title, value_title="Completion rate (%)", kind="percent", limit=None,
        noun="flows", subtitle=_joined(subtitle, cut[:1].upper() + cut[1:]),
        empty_message=NO_FLOWS,
    )


def _joined(subtitle: str | None, note: str) -> str:
    return f"{subtitle} · {note}" if subtitle else note


def flow_time_to_complete(
    flows: pd.DataFrame, *, limit: int | None = style.RANKED_PER_END,
    subtitle: str | None = None,
) -> go.Figure:
    """Average time to complete per flow in seconds (the unit of the tables and the pack),
    longest first: the ``limit`` longest and shortest, and always the most viewed flow.

    Input: the `flows` frame (avg_time_to_complete_s). Flows never completed (no time) are left out.
    """
    title = "Average time to complete by flow"
    if flows is None or flows.empty:
        return style.empty_figure(title, NO_FLOWS, subtitle=subtitle)
    timed = flows[flows["avg_time_to_complete_s"].notna()]
    most_viewed = timed["views"].fillna(-1)
    keep = (most_viewed == most_viewed.max()) if len(timed) else None
    return ranked_bars(
        timed, name_col="flow_name", key_col="flow_id",
        measures=[Measure("avg_time_to_complete_s", TIME_TO_COMPLETE.name,
                          style.OKABE_ITO["sky_blue"])],
        title=title, value_title=TIME_TO_COMPLETE.header, kind="seconds",
        limit=limit, bottom=True, keep=keep, keep_note="and the most viewed flow",
        noun="flows", subtitle=subtitle,
        empty_message="No completed flows in this date range",
    )


def flow_trend(
    trend: pd.DataFrame,
    flow_id: str,
    *,
    modifications: Iterable[date | datetime | pd.Timestamp] = (),
    metric: str = "counts",
    aligned: pd.DataFrame | None = None,
    previous_label: str | None = None,
    granularity: str | None = None,
    subtitle: str | None = None,
) -> go.Figure:
    """One flow over time, with a dotted vertical line where its content was modified.

    Input: the `flow-trend` frame (window_start, window_end, window_label, partial, flow_id,
    flow_name, views, completions, completion_rate_pct, ...); `modifications` are the
    content `modified_at` timestamps of that flow. metric: "counts" (views and completions)
    or "completion_rate_pct". ``aligned``: this flow's windows beside the comparison's
    (``analytics.comparison.aligned_comparison``), drawn instead of the raw rows.
    """
    rows = trend[trend["flow_id"] == flow_id] if trend is not None and not trend.empty else trend
    name = _flow_name(rows, flow_id)
    title = f"Trend of {name}"
    if rows is None or rows.empty:
        return style.empty_figure(title, f"No views of {name} in this date range",
                                  subtitle=subtitle)
    counts = metric == "counts"
    fig = trend_lines(
        rows if aligned is None else aligned, measures=[VIEWS, COMPLETIONS] if counts else [RATE],
        title=title,
        value_title="Views / completions (count)" if counts else "Completion rate (%)",
        kind="count" if counts else "percent", previous_label=previous_label,
        granularity=granularity, subtitle=subtitle,
    )
    return add_modification_markers(fig, rows, modifications)


def _flow_name(rows: pd.DataFrame | None, flow_id: str) -> str:
    """Escaped, truncated name of the flow for titles (its id when the name is unknown)."""
    if rows is not None and not rows.empty and rows["flow_name"].notna().any():
        return style.short_label(rows["flow_name"].dropna().iloc[0])
    return style.short_label(flow_id)


def add_modification_markers(
    fig: go.Figure, rows: pd.DataFrame, modifications: Iterable[date | datetime | pd.Timestamp]
) -> go.Figure:
    """Dotted vertical line + "Edited <date>" label per modification inside the plotted windows."""
    first = pd.Timestamp(min(rows["window_start"])).normalize()
    last = pd.Timestamp(max(rows.get("window_end", rows["window_start"]))).normalize()
    stamps = sorted({_day(m) for m in modifications if m is not None and not pd.isna(m)})
    inside = [s for s in stamps if first <= s <= last]
    span = max((last - first).days, 1)
    for i, stamp in enumerate(inside):
        day = stamp.strftime("%Y-%m-%d")
        # Labels near the right edge grow leftwards, so they are never cut off.
        near_end = (stamp - first).days / span > LABEL_FLIP_AT
        fig.add_shape(type="line", xref="x", yref="paper", x0=day, x1=day, y0=0, y1=1,
                      line={"color": MOD_LINE_COLOUR, "width": 1.5, "dash": "dot"},
                      name="content-modified")
        fig.add_annotation(x=day, xref="x", yref="paper",
                           y=MOD_LABEL_HEIGHTS[i % len(MOD_LABEL_HEIGHTS)], yanchor="top",
                           xanchor="right" if near_end else "left", showarrow=False,
                           text=f"Edited {stamp.day} {stamp:%b}",
                           font={"size": 11, "color": MOD_LINE_COLOUR},
                           bgcolor="rgba(255,255,255,0.8)", name="content-modified")
    earlier = [s for s in stamps if s < first]
    if earlier and not inside:
        note = f"Last edited {earlier[-1]:%Y-%m-%d}, before this range"
        current = fig.layout.title.subtitle.text
        fig.update_layout(title_subtitle_text=f"{current} · {note}" if current else note)
    return fig


def _day(value: date | datetime | pd.Timestamp) -> pd.Timestamp:
    """The UTC calendar day of a timestamp, timezone dropped (the axis is in days)."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.normalize()


def flow_comparison(
    comparison: pd.DataFrame,
    *,
    metric: str = "views",
    current_label: str = "Current period",
    previous_label: str = "Previous period",
    limit: int | None = style.RANKED_PER_END,
    subtitle: str | None = None,
) -> go.Figure:
    """Current vs previous period per flow: grouped bars, previous lighter and labelled by period;
    the ``limit`` highest and lowest flows by the current value when there are more.

    Input columns: flow_id, flow_name, `<metric>` (current) and `<metric>_previous`;
    metric is one of views, completions, completion_rate_pct.
    """
    label, value_title, kind = METRIC_TITLES[metric]
    colour = {"views": VIEWS, "completions": COMPLETIONS}.get(metric, RATE).colour
    return ranked_bars(
        comparison, name_col="flow_name", key_col="flow_id",
        measures=[Measure(metric, current_label, colour),
                  Measure(f"{metric}_previous", previous_label, colour, previous=True)],
        title=f"{label} by flow: current vs comparison period", value_title=value_title,
        kind=kind, limit=limit, bottom=True, noun="flows", subtitle=subtitle,
        empty_message=NO_FLOWS,
    )


def best_worst_flows(
    best: pd.DataFrame, worst: pd.DataFrame, *, subtitle: str | None = None,
    empty_message: str = NO_FLOWS,
) -> go.Figure:
    """Best flows (green) above worst flows (vermillion) by completion rate, one % axis.

    Inputs: two `flows`-shaped frames (flow_id, flow_name, completion_rate_pct, views), already
    chosen; a flow in both (few flows) is shown once, as best. ``empty_message`` says why there
    is nothing to rank (e.g. views, but no flow with enough of them).
    """
    title = "Best and worst flows by completion rate"
    best = best if best is not None else pd.DataFrame()
    worst = worst if worst is not None else pd.DataFrame()
    if best.empty and worst.empty:
        return style.empty_figure(title, empty_message, subtitle=subtitle)
    if not best.empty and not worst.empty:
        worst = worst[~worst["flow_id"].isin(best["flow_id"])]
    best_rows = best.sort_values("completion_rate_pct", ascending=False) if len(best) else best
    worst_rows = worst.sort_values("completion_rate_pct", ascending=False) if len(worst) else worst
    rows = pd.concat([r for r in (best_rows, worst_rows) if len(r)], ignore_index=True)
    fig = go.Figure()
    for group, part, colour in (("Best", best_rows, style.GOOD_COLOUR),
                                ("Worst", worst_rows, style.BAD_COLOUR)):
        if len(part):
            fig.add_trace(_group_bar(group, part, colour))
    style.apply_layout(fig, title, subtitle=subtitle, height=style.bar_height(len(rows)))
    fig.update_layout(
        yaxis=style.category_axis([str(k) for k in rows["flow_id"]],
                                  [style.short_label(n) for n in rows["flow_name"]],
                                  reverse=True),
        xaxis=style.percent_axis("Completion rate (%)"),
    )
    return fig


def _group_bar(group: str, part: pd.DataFrame, colour: str) -> go.Bar:
    """Bars of one group (best or worst) with name, rate and views in the hover."""
    return go.Bar(
        x=style.plain_values(part["completion_rate_pct"]),
        y=[str(k) for k in part["flow_id"]],
        orientation="h",
        name=f"{group} flows",
        marker={"color": colour},
        customdata=[[style.escape_text(n), v] for n, v in
                    zip(part["flow_name"], style.plain_values(part["views"]), strict=True)],
        hovertemplate=("<b>%{customdata[0]}</b><br>Completion rate: %{x:.1f}%"
                       "<br>Views: %{customdata[1]:,d}<extra></extra>"),
        texttemplate="%{x:.1f}%",
        textposition="outside",
        cliponaxis=False,
    )
