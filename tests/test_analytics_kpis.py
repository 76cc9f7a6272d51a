"""Tests for whatfix_data.analytics.kpis and the KPI takeaways."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whatfix_data import analytics
from whatfix_data.analytics import takeaways
from whatfix_data.analytics.kpis import Kpi, active_users, kpis
from whatfix_data.frames import to_frame


def period(views: list[int], completions: list[int], self_help: int, users: int, done: int):
    flows = [
        {"flowId": f"f{i}", "views": v, "completions": c}
        for i, (v, c) in enumerate(zip(views, completions, strict=True))
    ]
    engagement = [
        {"userId": f"u{i}", "contentViewed": 1, "flowsCompleted": 0} for i in range(users)
    ]
    tasks = [
        {
            "userId": f"u{i}",
            "taskListId": "t",
            "completedTasks": 4 if i < done else 1,
            "totalTasks": 4,
        }
        for i in range(10)
    ]
    return {
        "flows": to_frame("flows", flows).frame,
        "self-help": to_frame("self-help", [{"contentId": "a", "views": self_help}]).frame,
        "engagement": to_frame("engagement", engagement).frame,
        "task-completion": to_frame("task-completion", tasks).frame,
    }


def by_key(items: list[Kpi]) -> dict[str, Kpi]:
    return {k.key: k for k in items}


def test_values_and_deltas():
    current = period([100, 100], [60, 40], self_help=108, users=30, done=5)
    previous = period([80, 80], [40, 40], self_help=100, users=40, done=4)
    got = by_key(kpis(current, previous))
    assert got["flow_views"].value == 200 and got["flow_views"].previous == 160
    assert got["flow_views"].delta == 40 and got["flow_views"].delta_pct == pytest.approx(25.0)
    assert got["completion_rate"].value == pytest.approx(50.0)
    assert got["completion_rate"].delta == pytest.approx(0.0)
    assert got["completion_rate"].delta_pct is None  # rates change in points only
    assert got["active_users"].delta_pct == pytest.approx(-25.0)
    assert got["active_users"].good is False
    assert got["self_help_views"].delta_label == "+8.0 %"
    assert got["task_list_completion"].value == pytest.approx(50.0)
    assert got["task_list_completion"].delta_label == "+10.0 pts"
    assert got["task_list_completion"].value_label == "50.0 %"
    assert got["flow_views"].value_label == "200"


def test_completion_rate_is_weighted_not_a_mean_of_rates():
    current = period([1000, 10], [900, 0], self_help=0, users=0, done=0)
    rate = by_key(kpis(current))["completion_rate"].value
    assert rate == pytest.approx(900 / 1010 * 100)


def test_no_comparison_and_missing_datasets():
    got = by_key(kpis({"flows": period([5], [1], 0, 0, 0)["flows"]}))
    assert got["flow_views"].value == 5 and got["flow_views"].delta is None
    assert got["active_users"].value is None and got["active_users"].value_label == "–"
    assert got["flow_views"].delta_label is None and got["flow_views"].good is None


def test_previous_zero_gives_absolute_delta_only():
    current = period([10], [5], self_help=3, users=1, done=0)
    previous = period([0], [0], self_help=0, users=0, done=0)
    got = by_key(kpis(current, previous))
    assert got["self_help_views"].delta == 3 and got["self_help_views"].delta_pct is None
    assert got["self_help_views"].delta_label == "+3"
    assert got["completion_rate"].previous is None  # no views, no rate


def test_impossible_values_stay_out_of_kpis():
    flows = to_frame(
        "flows",
        [
            {"flowId": "ok", "views": 10, "completions": 5},
            {"flowId": "neg", "views": -50},
            {"flowId": "over", "views": 10, "completions": 900},
        ],
    )
    got = by_key(kpis({"flows": flows}))  # a FrameResult works as well as a frame
    assert got["flow_views"].value == 20  # -50 became NA
    assert got["flow_completions"].value == 5  # 900 > 10 views became NA
    assert got["completion_rate"].value == pytest.approx(50.0)


def test_active_users_counts_distinct_users_with_activity():
    engagement = to_frame(
        "engagement",
        [
            {"userId": "a", "contentViewed": 3, "flowsCompleted": 0},
            {"userId": "a", "contentViewed": 1},
            {"userId": "b", "contentViewed": 0, "flowsCompleted": 0},
            {"userId": "c", "flowsCompleted": 2},
            {"userId": "d"},  # listed with unknown counts: the API lists active users
        ],
    ).frame
    assert active_users(engagement) == 3


def test_kpi_frame_and_package_shortcuts():
    items = analytics.compute_kpis(period([10], [5], 1, 1, 1))
    frame = analytics.kpi_frame(items)
    assert list(frame.columns) == ["kpi", "value", "unit", "previous", "delta", "delta_pct",
                                   "note"]
    assert frame["kpi"].tolist()[0] == "Flow views" and len(frame) == 6


@pytest.mark.parametrize(
    ("kpi", "sentence"),
    [
        (
            Kpi("self_help_views", "Self-help views", 108, "count", 100, 8, 8.0),
            "Self-help views rose 8% vs the previous period (108).",
        ),
        (
            Kpi("flow_views", "Flow views", 90, "count", 100, -10, -10.0),
            "Flow views fell 10% vs the previous period (90).",
        ),
        (
            Kpi("completion_rate", "Completion rate", 40.0, "pct", 52.0, -12.0, None),
            "Completion rate fell 12.0 points vs the previous period (40.0 %).",
        ),
        (
            Kpi("flow_views", "Flow views", 100, "count", 100, 0, 0.0),
            "Flow views held steady vs the previous period (100).",
        ),
        (Kpi("flow_views", "Flow views", 1234, "count"), "Flow views: 1,234."),
        (Kpi("flow_views", "Flow views", None, "count"), "Flow views: no data for this period."),
    ],
)
def test_kpi_sentences(kpi, sentence):
    assert takeaways.kpi_sentence(kpi) == sentence


def test_headline_picks_the_biggest_move():
    items = [
        Kpi("flow_views", "Flow views", 101, "count", 100, 1, 1.0),
        Kpi("self_help_views", "Self-help views", 150, "count", 100, 50, 50.0),
        Kpi("completion_rate", "Completion rate", 50.0, "pct", 49.0, 1.0, None),
    ]
    assert takeaways.headline(items).startswith("Self-help views rose 50%")
    assert takeaways.headline([]) == takeaways.NO_DATA


def _count_frame(count):
    import pandas as pd

    return pd.DataFrame({"active_users": pd.array([count], dtype="Int64")})


@settings(deadline=None, max_examples=60)
@given(now=st.integers(0, 2_000_000), before=st.integers(0, 2_000_000),
       listed=st.integers(0, 30))
def test_active_users_from_the_apis_count_or_the_rows(now, before, listed):
    base = period([10], [5], 1, 0, 1)
    counted_now = {k: v for k, v in base.items() if k != "engagement"}
    counted_now["active-users"] = _count_frame(now)
    counted_before = {**counted_now, "active-users": _count_frame(before)}
    kpi = by_key(kpis(counted_now, counted_before))["active_users"]
    assert (kpi.value, kpi.previous, kpi.delta) == (now, before, now - before)
    assert kpi.delta_pct == (None if before == 0 else pytest.approx((now - before) / before * 100))
    assert kpi.dataset == "engagement"  # a segment limits it: its scope label says so
    # Rows (a segment's members) win over the account's count when both were loaded.
    rows = period([10], [5], 1, listed, 1)
    both = {**rows, "active-users": _count_frame(now)}
    assert by_key(kpis(both))["active_users"].value == listed
    assert analytics.kpis.active_user_count(both) == listed


def test_active_users_without_a_count_is_unknown_not_zero():
    import pandas as pd

    base = {k: v for k, v in period([10], [5], 1, 3, 1).items() if k != "engagement"}
    assert by_key(kpis(base))["active_users"].value is None
    unknown = {**base, "active-users": _count_frame(pd.NA)}
    assert by_key(kpis(unknown))["active_users"].value is None
    assert by_key(kpis({**base, "active-users": pd.DataFrame()}))["active_users"].value is None
