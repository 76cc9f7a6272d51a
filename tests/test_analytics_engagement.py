"""Tests for whatfix_data.analytics.engagement (active users, distributions, dormant users)."""

from __future__ import annotations

from datetime import date

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from whatfix_data.analytics import engagement as en
from whatfix_data.analytics import takeaways
from whatfix_data.frames import to_frame, trend_frame
from whatfix_data.windows import DateRange, split_range

AS_OF = date(2026, 11, 27)


def engagement(rows: list[tuple[str, int, int, str | None]]) -> pd.DataFrame:
    return to_frame(
        "engagement",
        [
            {
                "userId": u,
                "email": f"{u}@x.example",
                "contentViewed": v,
                "flowsCompleted": c,
                "lastActive": last,
            }
            for u, v, c, last in rows
        ],
    ).frame


def test_active_users_by_window_from_per_user_and_aggregated_trends():
    windows = split_range(DateRange(date(2026, 11, 2), date(2026, 11, 15)), "week")
    per_user = trend_frame(
        [
            (windows[0], engagement([("a", 1, 0, None), ("b", 0, 0, None)])),
            (windows[1], engagement([("a", 2, 1, None), ("c", 0, 3, None)])),
        ],
        "engagement",
    )
    out = en.active_users_by_window(per_user)
    assert out["active_users"].tolist() == [1, 2]
    assert out["window_label"].tolist() == ["2026-W45", "2026-W46"]
    aggregated = trend_frame(
        [
            (w, pd.DataFrame({"active_users": pd.array([n], dtype="Int64")}))
            for w, n in zip(windows, [7, 9], strict=True)
        ]
    )
    assert en.active_users_by_window(aggregated)["active_users"].tolist() == [7, 9]
    assert en.active_users_by_window(None).empty


def test_distribution_small_values_have_unit_bins():
    frame = engagement([("a", 0, 0, None), ("b", 2, 0, None), ("c", 2, 1, None)])
    dist = en.distribution(frame, "content_viewed")
    assert dist["label"].tolist() == ["0", "1", "2"]
    assert dist["users"].tolist() == [1, 0, 2]


@settings(deadline=None)  # shared 2-core machine: timings vary
@given(st.lists(st.integers(0, 5000), min_size=1, max_size=60))
def test_distribution_bins_count_every_user_once(values):
    frame = engagement([(f"u{i}", v, 0, None) for i, v in enumerate(values)])
    dist = en.distribution(frame, "content_viewed")
    assert int(dist["users"].sum()) == len(values)
    assert len(dist) <= en.MAX_BINS
    assert (dist["bin_start"].iloc[1:].to_numpy() == dist["bin_end"].iloc[:-1].to_numpy() + 1).all()
    assert dist["bin_end"].iloc[-1] >= max(values)


def test_top_users():
    frame = engagement([("a", 5, 1, None), ("b", 9, 0, None), ("c", 5, 3, None)])
    assert en.top_users(frame, 2)["user_id"].tolist() == ["b", "c"]
    assert en.top_users(frame, 1, by="flows_completed")["user_id"].tolist() == ["c"]


def test_dormant_users_use_the_latest_of_both_sources():
    users = to_frame(
        "end-users",
        [
            {"userId": "old", "lastSeenAt": "2026-09-01T10:00:00Z"},
            {"userId": "revived", "lastSeenAt": "2026-09-01T10:00:00Z"},
            {"userId": "recent", "lastSeenAt": "2026-11-20T10:00:00Z"},
            {"userId": "edge", "lastSeenAt": "2026-10-28T23:59:00Z"},  # exactly 30 days
            {"userId": "never"},
        ],
    ).frame
    activity = engagement([("revived", 1, 0, "2026-11-25T08:00:00Z")])
    dormant = en.dormant_users(users, activity, AS_OF, days=30)
    assert dormant["user_id"].tolist() == ["old", "never"]
    assert dormant["days_inactive"].tolist()[0] == 87
    assert dormant["never_active"].tolist() == [False, True]
    assert list(dormant.columns) == [
        "user_id",
        "email",
        "name",
        "last_active_at",
        "days_inactive",
        "never_active",
    ]
    assert takeaways.engagement_sentence(3, dormant, 30) == (
        "3 users were active; 1 have been inactive for more than 30 days and 1 were never seen."
    )


def test_dormant_users_without_engagement():
    users = to_frame("end-users", [{"userId": "a", "lastSeenAt": "2026-01-01T00:00:00Z"}]).frame
    assert en.dormant_users(users, as_of=AS_OF)["user_id"].tolist() == ["a"]


@settings(max_examples=40, deadline=None)
@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 1)),
       st.integers(min_value=1, max_value=60), st.sampled_from(["day", "week", "month"]),
       st.lists(st.booleans(), min_size=1, max_size=60))
def test_active_users_in_windows_keeps_every_window(start, days, granularity, active):
    """Per-user rows of some windows only (the API sends none for an empty window): every window
    of the range is there, with 0 where nobody was active."""
    from datetime import timedelta

    windows = split_range(DateRange(start, start + timedelta(days=days - 1)), granularity)
    pairs = [(w, to_frame("engagement", [{"userId": f"u{i}", "contentViewed": 1},
                                         {"userId": f"v{i}", "contentViewed": 0,
                                          "flowsCompleted": 0}]).frame)
             for i, w in enumerate(windows) if active[i % len(active)]]
    counted = en.active_users_in_windows(trend_frame(pairs, "engagement"), windows)
    assert counted["window_label"].tolist() == [w.label for w in windows]
    assert counted["partial"].tolist() == [w.partial for w in windows]
    assert counted["active_users"].tolist() == [
        1 if active[i % len(active)] else 0 for i in range(len(windows))]
