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
    ui.kpi_row(kpi_stats.kpis(now, before), current.comparison_label)
    ui.segment_note()
    for name, message in failed.items():
        st.error(f"{ui.DATASET_LABELS[name]}: {ui.md_escape(message)}")


def _trend(name: str, current: ui.Filters, totals) -> tuple:
    """A trend's per-window totals for the range and, when comparing, for the other period."""
    now = totals(ui.load(name).frame)
    before = None
    if current.comparison_range is not None:
        before = totals(ui.load(name, current.comparison_range).frame)
    return now, before


def trends(current: ui.Filters) -> None:
    """Flow activity, completion rate, active users and Self Help views per period.

    Each tab loads its own trend, so one failing dataset leaves the other tabs drawn.
    """
    common = {"previous_label": current.comparison_legend,
              "granularity": current.granularity, "subtitle": current.range_label}
    tabs = st.tabs(["Flow views and completions", "Completion rate", "Active users",
                    "Self-help views"])
    with tabs[0], ui.section():
        now, before = _trend("flow-trend", current, flow_stats.totals_by_window)
        ui.chart(charts.flow_activity_trend(now, previous=before, **common),
                 key="ov_flow_trend", data=now, notes=True)
    with tabs[1], ui.section():
        now, before = _trend("flow-trend", current, flow_stats.totals_by_window)
        ui.chart(charts.completion_rate_trend(now, previous=before, **common),
                 key="ov_rate_trend", data=now, notes=True)
    with tabs[2], ui.section():
        now, before = _trend("engagement-trend", current, engagement_stats.active_users_by_window)
        ui.chart(charts.active_users_trend(now, previous=before, **common),
                 key="ov_active_trend", data=now, notes=True)
    with tabs[3], ui.section():
        now, before = _trend("self-help-trend", current, self_help_stats.totals_by_window)
        ui.chart(charts.self_help_views_trend(now, previous=before, **common),
                 key="ov_sh_trend", data=now, notes=True)


def best_and_worst(current: ui.Filters) -> None:
    """The flows with the best and the worst completion rate in the range."""
    flows = ui.load("flows").frame
    best, worst = flow_stats.best_and_worst_flows(flows, BEST_WORST_N)
    ui.chart(charts.best_worst_flows(best, worst, subtitle=current.range_label), key="ov_best")
    # One above the other: side by side, the last columns (time to complete) were cut off.
    st.markdown("**Best completion rate**")
    ui.table(best.drop(columns="flow_id"), key="ov_best", title="Best flows",
             empty="Not enough flow views yet.")
    st.markdown("**Worst completion rate**")
    ui.table(worst.drop(columns="flow_id"), key="ov_worst", title="Worst flows",
             empty="Not enough flow views yet.")


def main() -> None:
    """Draw the Overview page."""
    current = ui.filters()
    st.title("Overview")
    st.caption(f"{current.range_label} {current.comparison_label}")
    with ui.section():
        kpi_cards(current)
    with ui.section("Trends"):
        trends(current)
    with ui.section("Best and worst flows"):
        best_and_worst(current)
    with ui.section("Notes on the charts"):
        ui.notes_editor(ui.flow_names_of(ui.load("flows").frame))
    with ui.section("Review pack"):
        ui.review_pack_button(current)


main()
