"""Engagement analytics: active users per window, distributions, top users, dormant users.

Dormant users: a user's last activity is the latest of ``end-users.last_seen_at`` and
``engagement.last_active``; a user is dormant when that day is more than ``days`` days before the
reference day (the range end), or when the user has never been seen (``never_active``).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from whatfix_data.analytics._common import WINDOW_COLUMNS, days_between, frame_of
from whatfix_data.analytics.kpis import active_users
from whatfix_data.windows import Window, today_for

DORMANT_AFTER_DAYS = 30
TOP_USERS = 10
# Distribution bins: width 1 up to this many distinct values, wider round bins beyond.
MAX_BINS = 30


def active_users_by_window(trend: pd.DataFrame | None) -> pd.DataFrame:
    """Active users per window: the window columns and ``active_users``.

    Accepts the aggregated engagement trend of ``whatfix_data.datasets`` (already one row per
    window with ``active_users``) or a per-user engagement trend (``engagement-trend`` columns).
    """
    frame = frame_of(trend, "engagement-trend")
    keys = list(WINDOW_COLUMNS)
    if "active_users" in frame:
        out = frame[[*keys, "active_users"]].copy()
        out["active_users"] = out["active_users"].astype("Int64")
        return out.reset_index(drop=True)
    if frame.empty:
        out = frame[keys].copy()
        out["active_users"] = pd.array([], dtype="Int64")
        return out
    counts = frame.groupby(keys, sort=False, dropna=False).apply(active_users, include_groups=False)
    out = counts.rename("active_users").reset_index()
    out["active_users"] = out["active_users"].astype("Int64")
    return out.sort_values("window_start", kind="stable").reset_index(drop=True)


def active_users_in_windows(rows: pd.DataFrame | None, windows: list[Window]) -> pd.DataFrame:
    """Active users per window from per-user rows (``engagement-user-trend``, e.g. limited to a
    segment's members), with every window present: a window where nobody was active has 0.

    The API sends no rows for an empty window, so ``windows`` (``windows.split_range``) says
    which windows there are.
    """
    counted = active_users_by_window(rows)
    base = pd.DataFrame({
        "window_start": pd.Series([w.start for w in windows], dtype=object),
        "window_end": pd.Series([w.end for w in windows], dtype=object),
        "window_label": pd.array([w.label for w in windows], dtype="string"),
        "partial": pd.Series([w.partial for w in windows], dtype=bool),
    })
    counts = dict(zip(counted["window_start"], counted["active_users"], strict=True))
    base["active_users"] = pd.array([counts.get(w.start, 0) for w in windows], dtype="Int64")
    return base


def distribution(engagement: pd.DataFrame | None, column: str = "content_viewed") -> pd.DataFrame:
    """Histogram-ready counts of users per value of ``column`` (content_viewed or
    flows_completed): bin_start, bin_end (inclusive), label, users. Integer bins of width 1, or a
    round width when the values spread wider than MAX_BINS."""
    frame = frame_of(engagement, "engagement")
    values = frame[column].dropna().astype("int64").to_numpy()
    if values.size == 0:
        return pd.DataFrame(
            {
                "bin_start": pd.array([], dtype="Int64"),
                "bin_end": pd.array([], dtype="Int64"),
                "label": pd.array([], dtype="string"),
                "users": pd.array([], dtype="Int64"),
            }
        )
    top = int(values.max())
    width = _bin_width(top + 1)
    starts = np.arange(0, top + 1, width)
    counts = np.bincount(values // width, minlength=len(starts))[: len(starts)]
    ends = starts + width - 1
    labels = [str(s) if width == 1 else f"{s}–{e}" for s, e in zip(starts, ends, strict=True)]
    return pd.DataFrame(
        {
            "bin_start": pd.array(starts, dtype="Int64"),
            "bin_end": pd.array(ends, dtype="Int64"),
            "label": pd.array(labels, dtype="string"),
            "users": pd.array(counts, dtype="Int64"),
        }
    )


def _bin_width(span: int) -> int:
    """1 when few values; else the smallest of 1-2-5 x 10^k giving at most MAX_BINS bins."""
    if span <= MAX_BINS:
        return 1
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            width = step * magnitude
            if -(-span // width) <= MAX_BINS:
                return width
        magnitude *= 10


def top_users(
    engagement: pd.DataFrame | None, n: int = TOP_USERS, by: str = "content_viewed"
) -> pd.DataFrame:
    """The ``n`` most engaged users by ``by`` (ties: the other count, then user id)."""
    frame = frame_of(engagement, "engagement")
    other = "flows_completed" if by == "content_viewed" else "content_viewed"
    ranked = frame.sort_values(
        [by, other, "user_id"], ascending=[False, False, True], na_position="last"
    )
    return ranked.head(n).reset_index(drop=True)


def last_activity(end_users: pd.DataFrame | None, engagement: pd.DataFrame | None) -> pd.DataFrame:
    """Per known user: user_id, email, name, last_active_at (latest of both sources, UTC)."""
    users = frame_of(end_users, "end-users")[["user_id", "email", "name", "last_seen_at"]]
    eng = frame_of(engagement, "engagement")
    latest = eng.groupby("user_id")["last_active"].max()
    merged = users.merge(
        latest.rename("engaged_at"), left_on="user_id", right_index=True, how="outer"
    )
    extra_emails = eng.drop_duplicates("user_id").set_index("user_id")["email"]
    merged["email"] = merged["email"].fillna(merged["user_id"].map(extra_emails).astype("string"))
    stamps = merged[["last_seen_at", "engaged_at"]]
    merged["last_active_at"] = stamps.max(axis=1).astype("datetime64[ns, UTC]")
    return merged[["user_id", "email", "name", "last_active_at"]].reset_index(drop=True)


def dormant_users(
    end_users: pd.DataFrame | None,
    engagement: pd.DataFrame | None = None,
    as_of: date | None = None,
    days: int = DORMANT_AFTER_DAYS,
) -> pd.DataFrame:
    """Users whose last activity is more than ``days`` days before ``as_of`` (the range end;
    today when None), plus users never seen. Activity after ``as_of`` counts as recent.
    Columns: user_id, email, name, last_active_at, days_inactive, never_active; longest
    inactive first (never active last)."""
    as_of = as_of or today_for()
    frame = last_activity(end_users, engagement)
    frame["days_inactive"] = days_between(as_of, frame["last_active_at"])
    frame["never_active"] = frame["last_active_at"].isna()
    dormant = frame[(frame["days_inactive"] > days).fillna(False) | frame["never_active"]]
    return dormant.sort_values(
        ["never_active", "days_inactive", "user_id"], ascending=[True, False, True]
    ).reset_index(drop=True)
