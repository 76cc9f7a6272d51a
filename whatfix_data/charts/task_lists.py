"""Task List charts: progress buckets per task list and completion per segment."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from whatfix_data import glossary
from whatfix_data.analytics import tasks as task_analytics
from whatfix_data.charts import style
from whatfix_data.charts.builders import Measure, ranked_bars, stacked_bars
from whatfix_data.charts.segments import segment_columns

NO_TASKS = "No task-list activity in this date range"
# Buckets of analytics.tasks (0%, 1–49%, 50–99%, 100%), stacked from "done" to "not started" so
# the completed share lines up on the left edge of every bar.
BUCKET_COLOURS: dict[str, str] = dict(zip(
    reversed(task_analytics.BUCKETS),
    (style.OKABE_ITO["bluish_green"], style.OKABE_ITO["sky_blue"], style.OKABE_ITO["orange"],
     style.OKABE_ITO["vermillion"]),
    strict=True,
))
PROGRESS = glossary.term("task_completion_pct")
BUCKET_LABELS: dict[str, str] = {"0%": "Not started (0%)", "100%": "Completed (100%)"}


def task_list_distribution(
    tasks: pd.DataFrame, *, normalise: bool = True, subtitle: str | None = None
) -> go.Figure:
    """Users per progress bucket for each task list, stacked (shares of 100 % by default).

    Input: the `task-completion` frame; buckets are `analytics.tasks.distribution`. Lists with
    the largest completed share come first.
    """
    title = "Progress on each task list"
    dist = task_analytics.distribution(tasks)
    if dist.empty:
        return style.empty_figure(title, NO_TASKS, subtitle=subtitle)
    table = dist.pivot_table(index="task_list_id", columns="bucket", values="users",
                             aggfunc="sum", observed=False, fill_value=0)
    table = table.reindex(columns=list(BUCKET_COLOURS), fill_value=0).astype(int)
    completed_share = table[task_analytics.BUCKETS[-1]] / table.sum(axis=1)
    table = table.loc[completed_share.sort_values(ascending=False, kind="stable").index]
    names = dist.drop_duplicates("task_list_id").set_index("task_list_id")["task_list_name"]
    table.columns = [BUCKET_LABELS.get(str(c), str(c)) for c in table.columns]
    return stacked_bars(
        table, names=[names.get(i) for i in table.index],
        colours={BUCKET_LABELS.get(b, b): c for b, c in BUCKET_COLOURS.items()}, title=title,
        value_title="Users (%)" if normalise else "Users (count)", normalise=normalise,
        noun="users", subtitle=subtitle, empty_message=NO_TASKS,
    )


def completion_by_segment(
    by_segment: pd.DataFrame, *, subtitle: str | None = None
) -> go.Figure:
    """Average task-list completion rate per segment, highest first.

    Input: `segments.segment_breakdown(...)` or `analytics.tasks.completion_by_segment(...)`
    (segment_id, name, task_completion_pct 0..100). Segments without task rows are left out.
    """
    by_segment = segment_columns(by_segment)
    if by_segment is not None and len(by_segment):
        by_segment = by_segment[by_segment["task_completion_pct"].notna()]
    return ranked_bars(
        by_segment, name_col="name", key_col="segment_id",
        measures=[Measure("task_completion_pct", PROGRESS.name, style.GOOD_COLOUR)],
        title=f"{PROGRESS.name} by segment", value_title=PROGRESS.header,
        kind="percent", limit=None, noun="segments", subtitle=subtitle,
        empty_message="No task-list activity for any segment in this date range",
    )
