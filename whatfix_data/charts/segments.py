"""Segment charts: API userCount against local membership, per-segment engagement."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from whatfix_data.charts import style
from whatfix_data.charts.builders import Measure, ValueKind, ranked_bars

NO_SEGMENTS = "No segments defined for this account"
# Older / renamed spellings of the segments-module columns, accepted so callers need no renames.
COLUMN_ALIASES = {
    "segment_name": "name",
    "local_members": "local_count",
    "completion_rate_pct": "task_completion_pct",
}


def segment_columns(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """`frame` with the segments-module column names (segment_name -> name, ...)."""
    if frame is None:
        return None
    renames = {old: new for old, new in COLUMN_ALIASES.items()
               if old in frame.columns and new not in frame.columns}
    return frame.rename(columns=renames) if renames else frame


def segment_membership(segments: pd.DataFrame, *, subtitle: str | None = None) -> go.Figure:
    """userCount reported by the API beside the membership computed locally from user attributes.

    Input: `segments.reconcile(...)` (segment_id, name, user_count, local_count).
    """
    return ranked_bars(
        segment_columns(segments), name_col="name", key_col="segment_id",
        measures=[Measure("user_count", "userCount (API)", style.OKABE_ITO["blue"]),
                  Measure("local_count", "Computed from user attributes",
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

    Input: `segments.segment_breakdown(...)` (segment_id, name and `column`, e.g. active_users
    or active_pct). `value_title` carries the unit.
    """
    return ranked_bars(
        segment_columns(by_segment), name_col="name", key_col="segment_id",
        measures=[Measure(column, label, style.OKABE_ITO["reddish_purple"])], title=title,
        value_title=value_title, kind=kind, limit=None, noun="segments", subtitle=subtitle,
        empty_message="No activity for any segment in this date range",
    )


def segment_engagement(by_segment: pd.DataFrame, *, subtitle: str | None = None) -> go.Figure:
    """Content viewed and flows completed per segment member, on average.

    Input: `segments.segment_breakdown(...)` (segment_id, name, content_viewed_per_member,
    flows_completed_per_member).
    """
    return ranked_bars(
        segment_columns(by_segment), name_col="name", key_col="segment_id",
        measures=[Measure("content_viewed_per_member", "Content viewed per member",
                          style.OKABE_ITO["blue"]),
                  Measure("flows_completed_per_member", "Flows completed per member",
                          style.OKABE_ITO["orange"])],
        title="Engagement by segment", value_title="Average per member (count)", kind="number",
        limit=None, noun="segments", subtitle=subtitle,
        empty_message="No activity for any segment in this date range",
    )
