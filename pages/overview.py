"""Overview: headline KPIs against the comparison, trends, best and worst flows, the review pack."""

from __future__ import annotations

import functools
from collections.abc import Mapping

import pandas as pd
import streamlit as st

import ui
from ui import targets as target_ui
from whatfix_data import charts, scope, views
from whatfix_data.analytics import flows as flow_stats
from whatfix_data.analytics import kpis as kpi_stats
from whatfix_data.analytics import self_help as self_help_stats
from whatfix_data.targets import KPI_METRICS

BEST_WORST_N = 5


def _frames(date_range, segment_id: str | None) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The KPI datasets of one period; a dataset that fails is reported, the others still count."""
    loaded, failed = {}, {}
    for name in views.kpi_datasets(segment_id):
        try:
            frame = ui.load(name, date_range).frame
        except ui.WhatfixError as exc:
            failed[name] = exc.user_message
            continue
        loaded[name] = ui.for_segment(frame) if scope.is_per_user(name) else frame
    return loaded, failed


def kpi_cards(current: ui.Filters) -> None:
    """Six KPI cards with their change against the comparison period."""
    now, failed = _frames(current.date_range, current.segment_id)
    before: Mapping[str, pd.DataFrame] | None = None
    if current.comparison_range is not None:
        before, _ = _frames(current.comparison_range, current.segment_id)
    days = None if before is None else (current.date_range.days, current.comparison_range.days)
    ui.kpi_row(kpi_stats.kpis(now, before, data_start=ui.data_start(),
                              date_range=current.date_range,
                              comparison_range=current.comparison_range, days=days),
               current.comparison_label, current.segment_name)
    ui.segment_note(*views.KPI_DATASETS)
    for name, message in failed.items():
        st.error(f"{ui.DATASET_LABELS[name]}: {ui.md_escape(message)}")


def _scope_caption(dataset: str, current: ui.Filters) -> None:
    """Whom the chart above covers (the segment, or all users and why)."""
    st.caption(ui.md_escape(scope.scope_label(dataset, current.segment_name)))


def trends(current: ui.Filters) -> None:
    """Flow activity, completion rate, active users and Self Help views per period.

    Each tab loads its own trend, so one failing dataset leaves the other tabs drawn. With a
    segment, the active-users trend is the segment's own (counted from per-user rows).
    """
    common = {"previous_label": current.comparison_legend,
              "granularity": current.granularity, "subtitle": current.caption}
    targets = target_ui.chart_targets()
    active_dataset = views.active_users_trend_dataset(current.segment_id)
    # (tab, the per-window frame, chart, the KPI whose target is drawn, chart key, the dataset
    # the caption names)
    # Two tabs draw the flow trend: its windows are aligned once, for the first tab that asks.
    flow_windows = functools.cache(
        lambda: ui.trend_windows("flow-trend", flow_stats.totals_by_window))
    tabs = [
        ("Flow views and completions", flow_windows,
         charts.flow_activity_trend, "flow_views", "ov_flow_trend", "flow-trend"),
        ("Completion rate", flow_windows,
         charts.completion_rate_trend, "completion_rate", "ov_rate_trend", "flow-trend"),
        ("Active users", ui.active_users_windows, charts.active_users_trend, "active_users",
         "ov_active_trend", active_dataset),
        ("Self-help views",
         lambda: ui.trend_windows("self-help-trend", self_help_stats.totals_by_window),
         charts.self_help_views_trend, "self_help_views", "ov_sh_trend", "self-help-trend"),
    ]
    for tab, (_, windows, make_chart, metric, key, dataset) in zip(
            st.tabs([t[0] for t in tabs], key="trend", bind="query-params"), tabs,
            strict=True):
        with tab, ui.section():
            aligned = windows()
            # the KPI's target as a line, where its unit fits the chart
            fig = target_ui.with_target_lines(make_chart(aligned, **common), targets, metric,
                                              current.granularity)
            ui.chart(fig, key=key, data=aligned, notes=True)
            _scope_caption(dataset, current)


def best_and_worst(current: ui.Filters) -> None:
    """The flows with the best and the worst completion rate in the range."""
    flows = ui.load("flows").frame
    min_views = ui.settings().min_flow_views
    best, worst = flow_stats.best_and_worst_flows(flows, BEST_WORST_N, min_views)
    note = charts.min_views_note(min_views)
    ui.chart(charts.best_worst_flows(best, worst, subtitle=f"{current.range_label} · {note}",
                                     empty_message=_unranked_message(flows, min_views)),
             key="ov_best")
    st.caption(f"{note} are ranked (the `min_flow_views` setting); a rate on fewer views says "
               f"little. {ui.md_escape(scope.scope_label('flows', current.segment_name))}.")
    # One above the other: side by side, the last columns (time to complete) were cut off.
    st.markdown("**Best completion rate**")
    ui.table(best.drop(columns="flow_id"), key="ov_best", title="Best flows",
             empty=f"No flow had {min_views:,} views in this range.")
    st.markdown("**Worst completion rate**")
    ui.table(worst.drop(columns="flow_id"), key="ov_worst", title="Worst flows",
             empty=f"No flow had {min_views:,} views in this range.")


def _unranked_message(flows: pd.DataFrame, min_views: int) -> str:
    """Why no flow is ranked, in the KPI cards' terms: no views at all, or too few per flow."""
    views = int(flows["views"].fillna(0).sum()) if "views" in flows else 0
    if not views:
        return "No flow views in this date range"
    return (f"{views:,} flow views in this range, but no flow has the "
            f"{min_views:,} views needed to rank its completion rate")


def targets(current: ui.Filters) -> None:
    """Every target (KPIs and flows) against the range, breaches first; set a KPI target."""
    results = target_ui.evaluations()
    target_ui.breach_list(results)
    target_ui.target_table(results, key="ov_targets",
                           empty="No target set yet: set one below, or per flow on Flows.")
    st.caption(target_ui.SCOPE_NOTE)
    with st.expander("Set a KPI target", icon=":material/flag:"):
        target_ui.target_form("ov_target", {k: spec[0] for k, spec in KPI_METRICS.items()})


def page_datasets(current: ui.Filters) -> tuple[list, list]:
    """(dataset, range) of everything the sections below load, both periods, in two waves: the
    KPI cards' datasets, then the trends (`views.overview_waves`). Prefetched so their requests
    share the wire instead of queueing section by section; the cards draw while the trends
    arrive."""
    return views.overview_waves(current.periods, current.segment_id)


def main() -> None:
    """Draw the Overview page."""
    current = ui.filters()
    ui.prefetch(*page_datasets(current))
    st.title("Overview")
    st.caption(current.caption)
    with ui.section():
        kpi_cards(current)
    with ui.section("Targets"):
        targets(current)
    # The trends are the last data to arrive (the second wave): the sections below them, whose
    # data came with the cards, are drawn first, and the trends fill their place above them.
    trends_place = st.container()
    with ui.section("Best and worst flows"):
        best_and_worst(current)
    with ui.section("Notes on the charts"):
        ui.notes_editor(ui.flow_names_of(ui.load("flows").frame))
    with ui.section("Review pack"):
        ui.review_pack_button(current)
    with trends_place, ui.section("Trends"):
        trends(current)


main()
