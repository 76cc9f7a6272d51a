"""Overview: headline KPIs against the comparison, trends, best and worst flows, the review pack."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

import ui
from whatfix_data import charts
from whatfix_data.analytics import engagement as engagement_stats
from whatfix_data.analytics import flows as flow_stats
from whatfix_data.analytics import kpis as kpi_stats
from whatfix_data.analytics import self_help as self_help_stats

KPI_DATASETS = ("flows", "engagement", "self-help", "task-completion")
PER_USER = {"engagement", "task-completion"}  # limited to the sidebar's segment
BEST_WORST_N = 5


def _frames(date_range) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The KPI datasets of one period; a dataset that fails is reported, the others still count."""
    loaded, failed = {}, {}
    for name in KPI_DATASETS:
        try:
            frame = ui.load(name, date_range).frame
        except ui.WhatfixError as exc:
            failed[name] = exc.user_message
            continue
        loaded[name] = ui.for_segment(frame) if name in PER_USER else frame
    return loaded, failed


def kpi_cards(current: ui.Filters) -> None:
    """Six KPI cards with their change against the comparison period."""
    now, failed = _frames(current.date_range)
    before: Mapping[str, pd.DataFrame] | None = None
    if current.comparison_range is not None:
        before, _ = _frames(current.comparison_range)
    ui.kpi_row(kpi_stats.kpis(now, before, data_start=ui.data_start(),
                              date_range=current.date_range,
                              comparison_range=current.comparison_range),
               current.comparison_label)
    ui.segment_note()
    for name, message in failed.items():
        st.error(f"{ui.DATASET_LABELS[name]}: {ui.md_escape(message)}")


def trends(current: ui.Filters) -> None:
    """Flow activity, completion rate, active users and Self Help views per period.

    Each tab loads its own trend, so one failing dataset leaves the other tabs drawn.
    """
    common = {"previous_label": current.comparison_legend,
              "granularity": current.granularity, "subtitle": current.caption}
    tabs = st.tabs(["Flow views and completions", "Completion rate", "Active users",
                    "Self-help views"])
    with tabs[0], ui.section():
        aligned = ui.trend_windows("flow-trend", flow_stats.totals_by_window)
        ui.chart(charts.flow_activity_trend(aligned, **common), key="ov_flow_trend", data=aligned)
    with tabs[1], ui.section():
        aligned = ui.trend_windows("flow-trend", flow_stats.totals_by_window)
        ui.chart(charts.completion_rate_trend(aligned, **common), key="ov_rate_trend",
                 data=aligned)
    with tabs[2], ui.section():
        aligned = ui.trend_windows("engagement-trend", engagement_stats.active_users_by_window)
        ui.chart(charts.active_users_trend(aligned, **common), key="ov_active_trend",
                 data=aligned)
    with tabs[3], ui.section():
        aligned = ui.trend_windows("self-help-trend", self_help_stats.totals_by_window)
        ui.chart(charts.self_help_views_trend(aligned, **common), key="ov_sh_trend",
                 data=aligned)


def best_and_worst(current: ui.Filters) -> None:
    """The flows with the best and the worst completion rate in the range."""
    flows = ui.load("flows").frame
    best, worst = flow_stats.best_and_worst_flows(flows, BEST_WORST_N)
    ui.chart(charts.best_worst_flows(best, worst, subtitle=current.range_label,
                                     empty_message=_unranked_message(flows)), key="ov_best")
    # One above the other: side by side, the last columns (time to complete) were cut off.
    st.markdown("**Best completion rate**")
    ui.table(best.drop(columns="flow_id"), key="ov_best", title="Best flows",
             empty="Not enough flow views yet.")
    st.markdown("**Worst completion rate**")
    ui.table(worst.drop(columns="flow_id"), key="ov_worst", title="Worst flows",
             empty="Not enough flow views yet.")


def _unranked_message(flows: pd.DataFrame) -> str:
    """Why no flow is ranked, in the KPI cards' terms: no views at all, or too few per flow."""
    views = int(flows["views"].fillna(0).sum()) if "views" in flows else 0
    if not views:
        return "No flow views in this date range"
    return (f"{views:,} flow views in this range, but no flow has the "
            f"{flow_stats.MIN_VIEWS_FOR_RANKING} views needed to rank its completion rate")


def main() -> None:
    """Draw the Overview page."""
    current = ui.filters()
    st.title("Overview")
    st.caption(current.caption)
    with ui.section():
        kpi_cards(current)
    with ui.section("Trends"):
        trends(current)
    with ui.section("Best and worst flows"):
        best_and_worst(current)
    with ui.section("Review pack"):
        ui.review_pack_button(current)


main()
