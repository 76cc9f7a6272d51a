"""Task Lists: completion per task list, per-user progress, one-task-left outreach, segments."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from whatfix_data import charts
from whatfix_data.analytics import tasks as task_stats


def distribution(current: ui.Filters, tasks: pd.DataFrame) -> None:
    """Users per progress bucket for each task list, and a summary per task list."""
    normalise = st.toggle("Show shares (%) instead of user counts", value=True, key="tl_share")
    fig = charts.task_list_distribution(tasks, normalise=normalise, subtitle=current.range_label)
    ui.chart(fig, key="tl_distribution")
    ui.table(task_stats.summary(tasks), key="tl_summary", title="Task list summary",
             empty="No task-list activity in this range.")


def per_user(tasks: pd.DataFrame) -> None:
    """Every user's progress on every task list."""
    ui.table(task_stats.progress(tasks), key="tl_users", title="Per-user task progress",
             empty="No task-list activity in this range.")


def one_task_left(tasks: pd.DataFrame) -> None:
    """Users one task away from finishing a list: the cheapest outreach win."""
    close = task_stats.one_task_left(tasks)
    st.caption(f"{len(close)} users have exactly one task left on a task list.")
    ui.table(close, key="tl_one_left", title="One task left",
             empty="Nobody has exactly one task left in this range.")


def by_segment(current: ui.Filters) -> None:
    """Average task completion of each segment's members."""
    breakdown = task_stats.completion_by_segment(
        ui.load("segments").frame, ui.membership(), ui.load("task-completion").frame
    )
    if current.segment_id:
        st.caption("Every segment side by side, each limited to its own members: the sidebar's "
                   "segment filter does not change this section.")
    ui.chart(charts.completion_by_segment(breakdown,
                                          subtitle=current.range_label), key="tl_segments")
    shown = breakdown[["segment_id", "name", "members", "task_rows", "task_completion_pct",
                       "task_lists_completed"]]
    ui.table(shown, key="tl_segments", title="Task completion by segment",
             empty="No segment has members.")


def main() -> None:
    """Draw the Task Lists page."""
    current = ui.filters()
    st.title("Task Lists")
    st.caption(current.range_label)
    ui.segment_note("task-completion")
    tasks = None
    with ui.section("Completion by task list"):
        tasks = ui.for_segment(ui.load("task-completion").frame)
        distribution(current, tasks)
    if tasks is not None:
        with ui.section("Users with one task left"):
            one_task_left(tasks)
        with ui.section("Per-user progress"):
            per_user(tasks)
    with ui.section("Completion by segment"):
        by_segment(current)


main()
