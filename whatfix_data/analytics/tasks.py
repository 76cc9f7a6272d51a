"""Task-list analytics: completion buckets per list, per-user progress, one-task-left outreach.

A row of ``task-completion`` is one user on one task list. Progress is completed_tasks /
total_tasks (the API's completion_rate_pct when the counts are missing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from whatfix_data import segments as segment_rules
from whatfix_data.analytics._common import frame_of, name_or_id, rate_series

BUCKETS: tuple[str, ...] = ("0%", "1–49%", "50–99%", "100%")
# Upper bounds (inclusive) of the first three buckets; everything above is 100%.
_BUCKET_EDGES = (0.0, 50.0, 100.0)


def progress(tasks: pd.DataFrame | None) -> pd.DataFrame:
    """Per-user progress: the task-completion columns plus tasks_left, progress_pct and bucket
    (ordered categorical over BUCKETS). Sorted by task list, then progress (highest first)."""
    frame = frame_of(tasks, "task-completion").copy()
    frame["task_list_name"] = name_or_id(frame["task_list_name"], frame["task_list_id"])
    frame["progress_pct"] = segment_rules.task_progress_pct(frame).round(1)
    frame["tasks_left"] = (frame["total_tasks"] - frame["completed_tasks"]).clip(lower=0)
    frame["tasks_left"] = frame["tasks_left"].astype("Int64")
    frame["bucket"] = bucket_of(frame["progress_pct"])
    return frame.sort_values(
        ["task_list_name", "progress_pct", "user_id"],
        ascending=[True, False, True],
        na_position="last",
    ).reset_index(drop=True)


def one_left(rows: pd.DataFrame) -> pd.Series:
    """Of :func:`progress` rows, those with exactly one task left (False where unknown)."""
    return (rows["tasks_left"] == 1).fillna(False).astype(bool)


def bucket_of(progress_pct: pd.Series) -> pd.Categorical:
    """The bucket of each progress value: 0%, 1–49%, 50–99%, 100% (NA stays NA)."""
    values = progress_pct.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    codes = np.select(
        [
            np.isnan(values),
            values <= _BUCKET_EDGES[0],
            values < _BUCKET_EDGES[1],
            values < _BUCKET_EDGES[2],
        ],
        [-1, 0, 1, 2],
        default=3,
    )
    return pd.Categorical.from_codes(codes, categories=list(BUCKETS), ordered=True)


def distribution(tasks: pd.DataFrame | None) -> pd.DataFrame:
    """Users per progress bucket for each task list (long form, every bucket present):
    task_list_id, task_list_name, bucket, users, share_pct (of the list's users)."""
    rows = progress(tasks)
    rows = rows[rows["bucket"].notna()]
    if rows.empty:
        return pd.DataFrame(
            {
                "task_list_id": pd.array([], dtype="string"),
                "task_list_name": pd.array([], dtype="string"),
                "bucket": pd.Categorical([], categories=list(BUCKETS), ordered=True),
                "users": pd.array([], dtype="Int64"),
                "share_pct": pd.array([], dtype="Float64"),
            }
        )
    counts = rows.groupby(["task_list_id", "bucket"], observed=False).size().rename("users")
    out = counts.reset_index()
    names = rows.drop_duplicates("task_list_id").set_index("task_list_id")["task_list_name"]
    out["task_list_name"] = out["task_list_id"].map(names).astype("string")
    out["users"] = out["users"].astype("Int64")
    list_totals = out.groupby("task_list_id")["users"].transform("sum")
    out["share_pct"] = rate_series(out["users"], list_totals).round(1)
    out["task_list_id"] = out["task_list_id"].astype("string")
    return out[["task_list_id", "task_list_name", "bucket", "users", "share_pct"]]


def summary(tasks: pd.DataFrame | None) -> pd.DataFrame:
    """Per task list: task_list_id, task_list_name, users, completed_users, completed_pct,
    avg_progress_pct, one_task_left; most users first."""
    rows = progress(tasks)
    rows = rows.assign(
        done=rows["bucket"] == "100%", one_left=one_left(rows)
    )
    grouped = rows.groupby("task_list_id", dropna=True).agg(
        task_list_name=("task_list_name", "first"),
        users=("user_id", "nunique"),
        completed_users=("done", "sum"),
        avg_progress_pct=("progress_pct", "mean"),
        one_task_left=("one_left", "sum"),
    )
    out = grouped.reset_index()
    for column in ("users", "completed_users", "one_task_left"):
        out[column] = out[column].astype("Int64")
    out["task_list_id"] = out["task_list_id"].astype("string")
    out["task_list_name"] = out["task_list_name"].astype("string")
    out["completed_pct"] = rate_series(out["completed_users"], out["users"]).round(1)
    out["avg_progress_pct"] = out["avg_progress_pct"].astype("Float64").round(1)
    columns = [
        "task_list_id",
        "task_list_name",
        "users",
        "completed_users",
        "completed_pct",
        "avg_progress_pct",
        "one_task_left",
    ]
    return out.sort_values(["users", "task_list_id"], ascending=[False, True])[columns].reset_index(
        drop=True
    )


def one_task_left(tasks: pd.DataFrame | None) -> pd.DataFrame:
    """Users with exactly one task left on a list (for outreach): user_id, user_email,
    task_list_id, task_list_name, completed_tasks, total_tasks, last_activity_at; most recently
    active first."""
    rows = progress(tasks)
    rows = rows[one_left(rows)]
    columns = [
        "user_id",
        "user_email",
        "task_list_id",
        "task_list_name",
        "completed_tasks",
        "total_tasks",
        "last_activity_at",
    ]
    return rows.sort_values(
        ["last_activity_at", "user_id"], ascending=[False, True], na_position="last"
    )[columns].reset_index(drop=True)


def one_task_left_summary(close: pd.DataFrame) -> str:
    """How many users :func:`one_task_left` lists: distinct users, and the user-list pairs when
    one user is one task away on several lists (each row is one user on one list)."""
    users = close["user_id"].nunique()
    noun = "user has" if users == 1 else "users have"
    text = f"{users:,} {noun} exactly one task left on a task list"
    if len(close) != users:
        text += f" ({len(close):,} user-list pairs: some are one task away on several lists)"
    return text + "."


def completion_by_segment(
    segments: pd.DataFrame | None,
    membership: pd.DataFrame,
    tasks: pd.DataFrame | None,
) -> pd.DataFrame:
    """Task completion of each segment's members: segment_id, name, members, task_rows,
    task_completion_pct (mean progress), task_lists_completed (see segments.segment_breakdown)."""
    breakdown = segment_rules.segment_breakdown(
        frame_of(segments, "segments"), membership, None, frame_of(tasks, "task-completion")
    )
    columns = [
        "segment_id",
        "name",
        "members",
        "task_rows",
        "task_completion_pct",
        "task_lists_completed",
    ]
    return breakdown[columns]
