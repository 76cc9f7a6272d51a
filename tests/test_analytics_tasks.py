"""Tests for whatfix_data.analytics.tasks (buckets, progress, one task left, segments)."""

from __future__ import annotations

import pandas as pd
import pytest

from whatfix_data import segments
from whatfix_data.analytics import takeaways
from whatfix_data.analytics import tasks as tk
from whatfix_data.frames import to_frame


def tasks_frame(rows: list[tuple[str, str, int | None, int | None]]) -> pd.DataFrame:
    return to_frame(
        "task-completion",
        [
            {
                "userId": u,
                "userEmail": f"{u}@x.example",
                "taskListId": t,
                "taskListName": t.title(),
                "completedTasks": c,
                "totalTasks": n,
                "lastActivityAt": f"2026-11-{10 + i:02d}T09:00:00Z",
            }
            for i, (u, t, c, n) in enumerate(rows)
        ],
    ).frame


def test_bucket_boundaries():
    values = pd.Series([0, 0.5, 1, 49.9, 50, 99.9, 100, None], dtype="Float64")
    assert [str(b) for b in tk.bucket_of(values)][:7] == [
        "0%",
        "1–49%",
        "1–49%",
        "1–49%",
        "50–99%",
        "50–99%",
        "100%",
    ]
    assert pd.isna(tk.bucket_of(values)[7])


def test_distribution_every_bucket_present_and_shares_sum_to_100():
    frame = tasks_frame(
        [("a", "onb", 0, 4), ("b", "onb", 2, 4), ("c", "onb", 4, 4), ("d", "sec", 1, 3)]
    )
    dist = tk.distribution(frame)
    onb = dist[dist["task_list_id"] == "onb"]
    assert onb["bucket"].astype(str).tolist() == list(tk.BUCKETS)
    assert onb["users"].tolist() == [1, 0, 1, 1]
    assert onb["share_pct"].sum() == pytest.approx(100.0, abs=0.2)
    assert dist[dist["task_list_id"] == "sec"]["users"].tolist() == [0, 1, 0, 0]
    assert tk.distribution(None).empty


def test_progress_summary_and_one_task_left():
    frame = tasks_frame(
        [
            ("a", "onb", 3, 4),
            ("b", "onb", 4, 4),
            ("c", "onb", 1, 4),
            ("d", "sec", 2, 3),
            ("e", "sec", None, 3),
        ]
    )
    rows = tk.progress(frame)
    assert rows.loc[rows["user_id"] == "a", "tasks_left"].item() == 1
    assert rows.loc[rows["user_id"] == "a", "progress_pct"].item() == 75.0
    summary = tk.summary(frame).set_index("task_list_id")
    assert summary.loc["onb", "users"] == 3 and summary.loc["onb", "completed_users"] == 1
    assert summary.loc["onb", "completed_pct"] == pytest.approx(33.3)
    assert summary.loc["onb", "one_task_left"] == 1 and summary.loc["sec", "one_task_left"] == 1
    close = tk.one_task_left(frame)
    assert close["user_id"].tolist() == ["d", "a"]  # most recently active first
    assert list(close.columns) == [
        "user_id",
        "user_email",
        "task_list_id",
        "task_list_name",
        "completed_tasks",
        "total_tasks",
        "last_activity_at",
    ]
    assert takeaways.tasks_sentence(tk.summary(frame)) == (
        "'Onb' was finished by 33% of its 3 users; 1 of them has exactly one task left."
    )


def test_the_one_task_left_count_is_of_distinct_users_and_names_the_pairs_when_more():
    rows = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "task_list_id": ["a", "b", "a"]})
    assert tk.one_task_left_summary(rows) == (
        "2 users have exactly one task left on a task list "
        "(3 user-list pairs: some are one task away on several lists).")
    assert tk.one_task_left_summary(rows.head(1)) == (
        "1 user has exactly one task left on a task list.")
    many = pd.DataFrame({"user_id": [f"u{i}" for i in range(1234)], "task_list_id": "a"})
    assert tk.one_task_left_summary(many).startswith("1,234 users have")


def test_completion_by_segment():
    users = to_frame(
        "end-users",
        [
            {"userId": "a", "attributes": {"role": "Admin"}},
            {"userId": "b", "attributes": {"role": "User"}},
        ],
    ).frame
    segs = to_frame(
        "segments",
        [
            {
                "segmentId": "admins",
                "name": "Admins",
                "rules": [{"attribute": "role", "operator": "equals", "value": "admin"}],
            },
        ],
    ).frame
    members = segments.membership(users, segs)
    out = tk.completion_by_segment(
        segs, members, tasks_frame([("a", "onb", 4, 4), ("b", "onb", 0, 4)])
    )
    assert out["task_completion_pct"].tolist() == [100.0]
    assert out["members"].tolist() == [1]
