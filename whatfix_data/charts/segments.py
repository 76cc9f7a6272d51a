"""Segment charts: API userCount against local membership, per-segment engagement."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from whatfix_data.charts import style
from whatfix_data.charts.builders import Measure, ValueKind, ranked_bars

NO_SEGMENTS = "No segments defined for this account"


def segment_membership(segments: pd.DataFrame, *, subtitle: str | None = None) -> go.Figure:
    """userCount reported by the API beside the membership computed locally from user attributes.

    Input columns: segment_id, name, user_count, local_members.
    """
    return ranked_bars(
        segments, name_col="name", key_col="segment_id",
        measures=[Measure("user_count", "userCount (API)", style.OKABE_ITO["blue"]),
                  Measure("local_members", "Computed from user attributes",
                          style.OKABE_ITO["orange"])],
        title="Segment size: API userCount vs local membership", value_title="Users (count)",
        limit=None, noun="segments", subtitle=subtitle, empty_message=NO_SEGMENTS,
    )


def segment_metric(
    by_segment: pd.DataFrame,
    column: str,
    *,
    title: str,
    value_title: str,
    label: str,
    kind: ValueKind = "count",
    subtitle: str | None = None,
) -> go.Figure:
    """One per-segment number as bars, highest first (active users, mean items viewed, ...).

    Input columns: segment_id, segment_name and `column`. `value_title` carries the unit.
    """
    return ranked_bars(
        by_segment, name_col="segment_name", key_col="segment_id",
        measures=[Measure(column, label, style.OKABE_ITO["reddish_purple"])], title=title,
        value_title=value_title, kind=kind, limit=None, noun="segments", subtitle=subtitle,
        empty_message="No activity for any segment in this date range",
    )


def segment_engagement(by_segment: pd.DataFrame, *, subtitle: str | None = None) -> go.Figure:
    """Content viewed and flows completed per segment member, on average.

    Input columns: segment_id, segment_name, avg_content_viewed, avg_flows_completed.
    """
    return ranked_bars(
        by_segment, name_col="segment_name", key_col="segment_id",
        measures=[Measure("avg_content_viewed", "Content viewed per user", style.OKABE_ITO["blue"]),
                  Measure("avg_flows_completed", "Flows completed per user",
                          style.OKABE_ITO["orange"])],
        title="Engagement by segment", value_title="Average per user (count)", kind="number",
        limit=None, noun="segments", subtitle=subtitle,
        empty_message="No activity for any segment in this date range",
    )
