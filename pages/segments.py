"""Segments: rules as sentences, API userCount beside local membership, per-segment engagement."""

from __future__ import annotations

from datetime import UTC

import streamlit as st

import ui
from whatfix_data import charts, windows
from whatfix_data import segments as segment_rules

SEGMENT_COLUMNS_FIRST = ["name", "user_count", "local_count", "difference", "matches", "rules"]


def segment_table() -> None:
    """Each segment with its rules in words and both member counts."""
    segments = ui.load("segments").frame
    users = ui.load("end-users")  # warns when the user list is a stale copy
    table = segment_rules.segment_table(segments, ui.membership())
    # Sizes are the members when the lists were fetched, whatever the sidebar's range; an
    # exported PNG keeps saying when (a clock time, not "5 min ago").
    fetched = users.meta.fetched_at.astimezone(UTC)
    subtitle = (f"Members as of {windows.format_day(fetched.date())} {fetched:%H:%M} UTC (when "
                "the user list was fetched), not limited to the date range")
    ui.chart(charts.segment_membership(table, subtitle=subtitle), key="seg_membership")
    mismatched = int((~table["matches"]).sum()) if not table.empty else 0
    if mismatched:
        st.warning(
            f"{mismatched} segments have a userCount that differs from the membership computed "
            "from the end users' attributes: the API's count may lag behind recent user changes."
        )
    # The counts beside the name, where they are seen without scrolling; long texts after them.
    first = [c for c in SEGMENT_COLUMNS_FIRST if c in table.columns]
    table = table[first + [c for c in table.columns if c not in first]]
    ui.table(table, key="segments", title="Segments", empty="This account has no segments.",
             config={"rules": st.column_config.TextColumn("Rules", width="medium")})


SIDE_BY_SIDE = ("Every segment side by side, each limited to its own members: the sidebar's "
                "segment filter does not change this section.")


def per_segment(current: ui.Filters) -> None:
    """Engagement and task completion of each segment's members in the range."""
    segments = ui.load("segments").frame
    engagement = ui.load("engagement").frame
    tasks = ui.load("task-completion").frame
    breakdown = segment_rules.segment_breakdown(segments, ui.membership(), engagement, tasks)
    if current.segment_id:
        st.caption(SIDE_BY_SIDE)
    engagement_tab, active_tab, tasks_tab = st.tabs(
        ["Engagement per member", "Active members", "Task completion"],
        key="segment_chart", bind="query-params",
    )
    with engagement_tab:
        ui.chart(charts.segment_engagement(breakdown, subtitle=current.range_label),
                 key="seg_engagement")
    with active_tab:
        fig = charts.segment_metric(
            breakdown, "active_pct", title="Active members by segment",
            value_title="Active members (%)", label="Active members", kind="percent",
            subtitle=current.range_label,
        )
        ui.chart(fig, key="seg_active")
    with tasks_tab:
        ui.chart(charts.completion_by_segment(breakdown, subtitle=current.range_label),
                 key="seg_tasks")
    ui.table(breakdown, key="seg_breakdown", title="Segment breakdown",
             empty="No segment has members.")


def main() -> None:
    """Draw the Segments page."""
    current = ui.filters()
    # The member lists and the range's per-user rows, at once
    ui.prefetch([("end-users", None), ("engagement", current.date_range),
                 ("task-completion", current.date_range)])
    st.title("Segments")
    st.caption(current.range_label)
    with ui.section("Segments and their members"):
        segment_table()
    with ui.section("Engagement and task completion by segment"):
        per_segment(current)


main()
