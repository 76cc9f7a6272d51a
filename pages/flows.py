"""Flows: views, completions, completion rate and time to complete per flow; trend; the report."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from whatfix_data import charts
from whatfix_data.analytics import flows as flow_stats

TREND_METRICS = {"counts": "Views and completions", "completion_rate_pct": "Completion rate (%)"}


def flow_performance(current: ui.Filters) -> pd.DataFrame:
    """Per-flow charts of the range and the table behind them; returns the flows frame."""
    flows = ui.load("flows").frame
    subtitle = current.range_label
    views_tab, rate_tab, time_tab = st.tabs(
        ["Views and completions", "Completion rate", "Time to complete"]
    )
    with views_tab:
        ui.chart(charts.flow_views_completions(flows, subtitle=subtitle), key="flow_views")
    with rate_tab:
        ui.chart(charts.flow_completion_rate(flows, subtitle=subtitle), key="flow_rate")
    with time_tab:
        ui.chart(charts.flow_time_to_complete(flows, subtitle=subtitle), key="flow_time")
    table = flow_stats.flow_table(flows, ui.load("content").frame)
    ui.table(table, key="flows", title="Flow analytics", empty="No flow had views in this range.")
    return flows


def flow_trend(current: ui.Filters, flows: pd.DataFrame) -> None:
    """One flow over time with markers where its content was edited, against the comparison."""
    if flows.empty:
        st.info("No flow had views in this range, so there is no trend to show.")
        return
    ranked = flows.sort_values("views", ascending=False)
    names = dict(zip(ranked["flow_id"], ranked["flow_name"], strict=True))
    left, right = st.columns([3, 2])
    flow_id = left.selectbox(
        "Flow", list(names), format_func=lambda fid: str(names.get(fid) or fid), key="flow_pick"
    )
    metric = right.radio(
        "Show", list(TREND_METRICS), format_func=TREND_METRICS.get, horizontal=True,
        key="flow_trend_metric",
    )
    trend = ui.load("flow-trend").frame
    previous = None
    if current.comparison_range is not None:
        previous = ui.load("flow-trend", current.comparison_range).frame
    content = ui.load("content").frame
    edits = flow_stats.modifications(content, flow_id)
    fig = charts.flow_trend(
        trend, flow_id, modifications=edits, metric=metric, previous=previous,
        previous_label=current.comparison_legend, granularity=current.granularity,
        subtitle=current.range_label,
    )
    ui.chart(fig, key="flow_trend", data=flow_stats.totals_by_window(trend, flow_id),
             notes=True, flow_id=flow_id)
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
        key="flow_compare_metric",
    )
    fig = charts.flow_comparison(
        compared, metric=metric, current_label=current.current_legend,
        previous_label=current.comparison_legend, subtitle=current.comparison_label,
    )
    ui.chart(fig, key="flow_compare")
    ui.table(compared, key="flow_compare", title="Flow comparison")


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
        help="The exact file returned by the Whatfix API for format=csv.",
    )


def main() -> None:
    """Draw the Flows page."""
    current = ui.filters()
    st.title("Flows")
    st.caption(f"{current.range_label} {current.comparison_label}")
    flows = pd.DataFrame()
    with ui.section("Flow performance"):
        flows = flow_performance(current)
    with ui.section("Flow trend"):
        flow_trend(current, flows)
    with ui.section("Compared with another period"):
        flow_comparison(current, flows)
    with ui.section("Most popular flows report"):
        popular_report(current)


main()
