"""Task List charts: progress buckets per task list and completion per segment."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from whatfix_data.charts import style
from whatfix_data.charts.builders import Measure, ranked_bars, stacked_bars
from whatfix_data.charts.segments import segment_columns

NO_TASKS = "No task-list activity in this date range"
# Progress buckets in stacking order, coloured from "stuck" to "done".
NOT_STARTED = "Not started"
IN_PROGRESS = "In progress"
ONE_LEFT = "One task left"
COMPLETED = "Completed"
BUCKET_COLOURS: dict[str, str] = {
    COMPLETED: style.OKABE_ITO["bluish_green"],
    ONE_LEFT: style.OKABE_ITO["sky_blue"],
    IN_PROGRESS: style.OKABE_ITO["orange"],
    NOT_STARTED: style.OKABE_ITO["vermillion"],
}


def progress_bucket(completed: int, total: int) -> str:
    """Bucket of one user's progress; "one task left" is total - completed == 1 (outreach list)."""
    if completed >= total:
        return COMPLETED
    if total - completed == 1:
        return ONE_LEFT
    return NOT_STARTED if completed == 0 else IN_PROGRESS


def task_list_distribution(
    tasks: pd.DataFrame, *, normalise: bool = True, subtitle: str | None = None
) -> go.Figure:
    """Users per progress bucket for each task list, stacked (shares of 100 % by default).

    Input: the `task-completion` frame (task_list_id, task_list_name, completed_tasks,
    total_tasks), one row per user and task list.
    """
    title = "Progress on each task list"
    if tasks is None or tasks.empty:
        return style.empty_figure(title, NO_TASKS, subtitle=subtitle)
    buckets = [progress_bucket(int(c), int(t)) for c, t in
               zip(tasks["completed_tasks"].fillna(0), tasks["total_tasks"].fillna(0), strict=True)]
    names = tasks["task_list_name"].astype("string").fillna(tasks["task_list_id"].astype("string"))
    table = pd.crosstab(names.to_numpy(), pd.Series(buckets).to_numpy())
    table = table.reindex(columns=list(BUCKET_COLOURS), fill_value=0)
    table = table.loc[table[COMPLETED].div(table.sum(axis=1)).sort_values(ascending=False).index]
    return stacked_bars(
        table, colours=BUCKET_COLOURS, title=title,
        value_title="Users (%)" if normalise else "Users (count)", normalise=normalise,
        noun="users", subtitle=subtitle, empty_message=NO_TASKS,
    )


def completion_by_segment(
    by_segment: pd.DataFrame, *, subtitle: str | None = None
) -> go.Figure:
    """Average task-list completion rate per segment, highest first.

    Input: `segments.segment_breakdown(...)` (segment_id, name, task_completion_pct 0..100).
    Segments without task rows (NA) are left out.
    """
    by_segment = segment_columns(by_segment)
    if by_segment is not None and len(by_segment):
        by_segment = by_segment[by_segment["task_completion_pct"].notna()]
    return ranked_bars(
        by_segment, name_col="name", key_col="segment_id",
        measures=[Measure("task_completion_pct", "Task completion", style.GOOD_COLOUR)],
        title="Task-list completion by segment", value_title="Completion rate (%)",
        kind="percent", limit=None, noun="segments", subtitle=subtitle,
        empty_message="No task-list activity for any segment in this date range",
    )
