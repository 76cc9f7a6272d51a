"""Flows: views, completions, completion rate and time to complete per flow; trend; the report."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from ui import targets as target_ui
from whatfix_data import charts, significance
from whatfix_data.analytics import flows as flow_stats

TREND_METRICS = {"counts": "Views and completions", "completion_rate_pct": "Completion rate (%)"}


def flow_performance(current: ui.Filters, flows: pd.DataFrame) -> None:
    """Per-flow charts of the range and the table behind them."""
    subtitle = current.range_label
    min_views = ui.settings().min_flow_views
    views_tab, rate_tab, time_tab = st.tabs(
        ["Views and completions", "Completion rate", "Time to complete"],
        key="flow_chart", bind="query-params",
    )
    with views_tab:
        ui.chart(charts.flow_views_completions(flows, subtitle=subtitle), key="flow_views")
    with rate_tab:
        ui.chart(charts.flow_completion_rate(flows, min_views=min_views, subtitle=subtitle),
                 key="flow_rate")
        st.caption(f"{charts.min_views_note(min_views)} are ranked (the `min_flow_views` "
                   "setting): the Overview's best and worst flows are all on this chart.")
    with time_tab:
        ui.chart(charts.flow_time_to_complete(flows, subtitle=subtitle), key="flow_time")
    table = flow_stats.flow_table(flows, ui.load("content").frame)
    table = target_ui.flag_flows(table)  # a "target" column where a flow has one
    ui.table(table, key="flows", title="Flow analytics", empty="No flow had views in this range.")


def flow_trend(current: ui.Filters, flows: pd.DataFrame) -> None:
    """One flow over time with markers where its content was edited, against the comparison."""
    if flows.empty:
        st.info("No flow had views in this range, so there is no trend to show.")
        return
    ranked = flows.sort_values("views", ascending=False)
    names = dict(zip(ranked["flow_id"], ranked["flow_name"], strict=True))
    # Names are never missing (frames shows a missing name as its id); the URL holds the label.
    labels = ui.option_labels({str(fid): str(name) for fid, name in names.items()})
    left, right = st.columns([3, 2])
    flow_id = left.selectbox(
        "Flow", list(names), format_func=lambda fid: labels.get(str(fid), str(fid)), key="flow",
        bind="query-params",
    )
    metric = right.radio(
        "Show", list(TREND_METRICS), format_func=TREND_METRICS.get, horizontal=True,
        key="trend_metric", bind="query-params",
    )
    trend = ui.load("flow-trend").frame
    aligned = ui.trend_windows("flow-trend",
                               lambda frame: flow_stats.totals_by_window(frame, flow_id))
    content = ui.load("content").frame
    edits = flow_stats.modifications(content, flow_id)
    fig = charts.flow_trend(
        trend, flow_id, modifications=edits, metric=metric, aligned=aligned,
        previous_label=current.comparison_legend, granularity=current.granularity,
        subtitle=current.caption,
    )
    target_metric = "completion_rate" if metric == "completion_rate_pct" else "views"
    target_ui.with_target_lines(fig, target_ui.chart_targets(), target_metric,
                                current.granularity, flow_id=flow_id)
    ui.chart(fig, key="flow_trend", data=aligned, notes=True, flow_id=flow_id)
    flow_label = str(names[flow_id]) if pd.notna(names.get(flow_id)) else str(flow_id)
    with st.expander(f"Targets for {flow_label}", icon=":material/flag:"):
        target_ui.flow_targets(flow_id, flow_label, key="flow_target")
    impacts = flow_stats.edit_impacts(trend, content)
    st.markdown("**Completion rate before and after each edit in this range**")
    ui.table(impacts, key="edit_impacts", title="Edit impact",
             empty="No flow was edited inside this range with enough views around the edit.")


def flow_comparison(current: ui.Filters, flows: pd.DataFrame) -> None:
    """Each flow in this range beside the comparison period."""
    if current.comparison_range is None:
        st.info("Choose a comparison in the sidebar to compare each flow with another period.")
        return
    previous = ui.load("flows", current.comparison_range).frame
    compared = flow_stats.flow_comparison(flows, previous)
    metric = st.radio(
        "Metric", ["views", "completions", "completion_rate_pct"], horizontal=True,
        format_func=lambda m: {"views": "Views", "completions": "Completions",
                               "completion_rate_pct": "Completion rate (%)"}[m],
        key="compare_metric", bind="query-params",
    )
    fig = charts.flow_comparison(
        compared, metric=metric, current_label=current.current_legend,
        previous_label=current.comparison_legend, subtitle=current.caption,
    )
    ui.chart(fig, key="flow_compare")
    ui.table(flow_stats.with_change_verdicts(compared), key="flow_compare",
             title="Flow comparison")
    st.caption(f"Verdict columns: {significance.METHOD}")


def popular_report(current: ui.Filters) -> None:
    """The Most popular flows report, as the API ranks it, and the API's own CSV file."""
    report = ui.load("popular-flows").frame
    ui.table(report, key="popular", title="Most popular flows",
             empty="No flow had views in this range.")
    st.download_button(
        "Download the report as the API's CSV",
        data=ui.popular_flows_csv(),
        file_name=ui.file_name("most-popular-flows-api", "csv"),
        mime="text/csv",
        key="popular_api_csv",
        icon=":material/download:",
        on_click="ignore",
        help="The file the Whatfix API returns for format=csv, with formula cells neutralised "
             "so that a spreadsheet never runs them.",
    )


def main() -> None:
    """Draw the Flows page."""
    current = ui.filters()
    # Every dataset of the sections below at once (they share the wire, section by section not)
    ui.prefetch([("content", None), ("popular-flows", current.date_range),
                 *((name, period) for period in current.periods
                   for name in ("flows", "flow-trend"))])
    st.title("Flows")
    st.caption(current.caption)
    ui.segment_note("flows")
    # Each section that needs the flows loads them itself: when they failed, ui.load raises the
    # same error again at once, so every section says why, once, and none guesses "no views".
    with ui.section("Flow performance"):
        flow_performance(current, ui.load("flows").frame)
    with ui.section("Flow trend"):
        flow_trend(current, ui.load("flows", warn_stale=False).frame)
    with ui.section("Compared with another period"):
        flow_comparison(current, ui.load("flows", warn_stale=False).frame)
    with ui.section("Most popular flows report"):
        popular_report(current)


main()
