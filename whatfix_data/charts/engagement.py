"""Engagement charts: per-user distributions and top users (active users over time: trends)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from whatfix_data.analytics import engagement as engagement_analytics
from whatfix_data.charts import style
from whatfix_data.charts.builders import Measure, distribution_bars, ranked_bars, shown_subtitle

NO_USERS = "No user activity in this date range"
TOP_USERS = 15


def content_viewed_histogram(engagement: pd.DataFrame, *, subtitle: str | None = None) -> go.Figure:
    """How many users viewed how many content items. Input: the `engagement` frame.

    Binning is `analytics.engagement.distribution` (width 1, or 1-2-5 steps when values spread).
    """
    return distribution_bars(
        engagement_analytics.distribution(engagement, "content_viewed"),
        title="Content viewed per user", value_title="Content items viewed (count)",
        colour=style.OKABE_ITO["blue"], subtitle=subtitle, empty_message=NO_USERS,
    )


def flows_completed_histogram(
    engagement: pd.DataFrame, *, subtitle: str | None = None
) -> go.Figure:
    """How many users completed how many flows. Input: the `engagement` frame."""
    return distribution_bars(
        engagement_analytics.distribution(engagement, "flows_completed"),
        title="Flows completed per user", value_title="Flows completed (count)",
        colour=style.OKABE_ITO["orange"], subtitle=subtitle, empty_message=NO_USERS,
    )


def top_users(
    engagement: pd.DataFrame, *, limit: int = TOP_USERS, subtitle: str | None = None
) -> go.Figure:
    """Most engaged users by content viewed, with their completed flows beside.

    Input: the `engagement` frame (user_id, email, content_viewed, flows_completed); the
    ranking is `analytics.engagement.top_users`. Users are labelled by email, else user id.
    """
    title = "Top users by content viewed"
    if engagement is None or engagement.empty:
        return style.empty_figure(title, NO_USERS, subtitle=subtitle)
    top = engagement_analytics.top_users(engagement, limit)
    top = top.assign(label=top["email"].astype("string").fillna(top["user_id"].astype("string")))
    return ranked_bars(
        top, name_col="label", key_col="user_id", presorted=True,
        measures=[Measure("content_viewed", "Content viewed", style.OKABE_ITO["blue"]),
                  Measure("flows_completed", "Flows completed", style.OKABE_ITO["orange"])],
        title=title, value_title="Items (count)", limit=None, noun="users",
        subtitle=shown_subtitle(subtitle, len(top), len(engagement), "users"),
        empty_message=NO_USERS,
    )
