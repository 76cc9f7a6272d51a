"""Engagement charts: per-user distributions and top users (active users over time: trends)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from whatfix_data.charts import style
from whatfix_data.charts.builders import Measure, histogram_bars, ranked_bars

NO_USERS = "No user activity in this date range"
TOP_USERS = 15


def content_viewed_histogram(engagement: pd.DataFrame, *, subtitle: str | None = None) -> go.Figure:
    """How many users viewed how many content items. Input: the `engagement` frame."""
    values = engagement["content_viewed"] if engagement is not None and len(engagement) else None
    return histogram_bars(
        values, title="Content viewed per user", value_title="Content items viewed (count)",
        colour=style.OKABE_ITO["blue"], subtitle=subtitle, empty_message=NO_USERS,
    )


def flows_completed_histogram(
    engagement: pd.DataFrame, *, subtitle: str | None = None
) -> go.Figure:
    """How many users completed how many flows. Input: the `engagement` frame."""
    values = engagement["flows_completed"] if engagement is not None and len(engagement) else None
    return histogram_bars(
        values, title="Flows completed per user", value_title="Flows completed (count)",
        colour=style.OKABE_ITO["orange"], subtitle=subtitle, empty_message=NO_USERS,
    )


def top_users(
    engagement: pd.DataFrame, *, limit: int = TOP_USERS, subtitle: str | None = None
) -> go.Figure:
    """Most engaged users by content viewed, with their completed flows beside.

    Input: the `engagement` frame (user_id, email, content_viewed, flows_completed).
    Users are labelled by email, or by user id when the email is missing.
    """
    if engagement is not None and len(engagement):
        engagement = engagement.assign(label=engagement["email"].astype("string")
                                       .fillna(engagement["user_id"].astype("string")))
    return ranked_bars(
        engagement, name_col="label", key_col="user_id",
        measures=[Measure("content_viewed", "Content viewed", style.OKABE_ITO["blue"]),
                  Measure("flows_completed", "Flows completed", style.OKABE_ITO["orange"])],
        title="Top users by content viewed", value_title="Items (count)", limit=limit,
        noun="users", subtitle=subtitle, empty_message=NO_USERS,
    )
