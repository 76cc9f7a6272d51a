"""Engagement: active users over time, how much users view and complete, top and dormant users."""

from __future__ import annotations

import streamlit as st

import ui
from whatfix_data import charts, scope, views, windows
from whatfix_data.analytics import engagement as engagement_stats

DEFAULT_DORMANT_DAYS = 30
TOP_USERS = 15


def active_users(current: ui.Filters) -> None:
    """Distinct active users per period against the comparison, window k with window k: the
    API's count, or with a segment the segment's members counted from per-user rows."""
    aligned = ui.active_users_windows()
    fig = charts.active_users_trend(
        aligned, previous_label=current.comparison_legend,
        granularity=current.granularity, subtitle=current.caption,
    )
    ui.chart(fig, key="active_trend", data=aligned, notes=True)
    dataset = views.active_users_trend_dataset(current.segment_id)
    st.caption(ui.md_escape(scope.scope_label(dataset, current.segment_name)))


def distributions(current: ui.Filters) -> None:
    """How many users viewed how much content and completed how many flows; the top users."""
    engagement = ui.for_segment(ui.load("engagement").frame)
    subtitle = current.range_label
    viewed_tab, completed_tab, top_tab = st.tabs(
        ["Content viewed", "Flows completed", f"Top {TOP_USERS} users"],
        key="per_user", bind="query-params",
    )
    with viewed_tab:
        ui.chart(charts.content_viewed_histogram(engagement, subtitle=subtitle), key="viewed_hist")
    with completed_tab:
        ui.chart(charts.flows_completed_histogram(engagement, subtitle=subtitle),
                 key="completed_hist")
    with top_tab:
        ui.chart(charts.top_users(engagement, limit=TOP_USERS, subtitle=subtitle), key="top_users")
        ui.table(engagement_stats.top_users(engagement, TOP_USERS), key="top_users",
                 title="Top users", empty="Nobody was active in this range.")
    st.caption(ui.md_escape(scope.scope_label("engagement", current.segment_name)))


def dormant(current: ui.Filters) -> None:
    """Users last active more than N days ago (from the end-user list), for re-engagement."""
    days = st.number_input(
        "Last active more than this many days ago", min_value=1, max_value=3650,
        value=DEFAULT_DORMANT_DAYS, step=1, key="dormant_days", width=320, bind="query-params",
    )
    users = ui.for_segment(ui.load("end-users").frame)
    engagement = ui.for_segment(ui.load("engagement").frame)
    as_of = current.date_range.end
    dormant_users = engagement_stats.dormant_users(users, engagement, as_of, int(days))
    st.caption(f"{len(dormant_users):,} of {len(users):,} users were last seen more than "
               f"{int(days)} days before {windows.format_day(as_of)} (the end of the range), "
               "or never.")
    empty = (f"Every user was active in the last {int(days)} days." if len(users)
             else "This account has no end users yet.")
    ui.table(dormant_users, key="dormant", title=f"Dormant users {int(days)} days", empty=empty)
    st.caption(ui.md_escape(scope.scope_label("end-users", current.segment_name)))


def main() -> None:
    """Draw the Engagement page."""
    current = ui.filters()
    # The first section's trend first (the Overview's, often cached), then both per-user lists
    # together: their pages share the wire instead of the dormant section's list waiting for
    # the histograms' one, and they no longer hold back the trend drawn on top.
    active_trend = views.active_users_trend_dataset(current.segment_id)
    ui.prefetch([*((active_trend, period) for period in current.periods), ("content", None)],
                [("engagement", current.date_range), ("end-users", None)])
    st.title("Engagement")
    st.caption(current.caption)
    ui.segment_note("engagement", "end-users")
    with ui.section("Active users over time"):
        active_users(current)
    with ui.section("Content viewed and flows completed per user"):
        distributions(current)
    with ui.section("Dormant users"):
        dormant(current)


main()
