"""KPI trend lines per window (Overview, Flows, Self Help, Engagement), with the comparison dashed.

Every input has one row per window: window_start, window_end, window_label, partial, then the
metric columns named below (the per-window totals of the trend datasets). With a comparison the
input is ``analytics.comparison.aligned_comparison``'s frame: its ``comparison_<metric>``
columns are drawn dashed, window k of the comparison under window k of the range.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from whatfix_data.charts import style
from whatfix_data.charts.builders import Measure
from whatfix_data.charts.timeline import trend_lines

VIEWS = Measure("views", "Flow views", style.OKABE_ITO["blue"])
COMPLETIONS = Measure("completions", "Flow completions", style.OKABE_ITO["orange"])
RATE = Measure("completion_rate_pct", "Completion rate", style.OKABE_ITO["bluish_green"])
ACTIVE = Measure("active_users", "Active users", style.OKABE_ITO["reddish_purple"])
SELF_HELP = Measure("views", "Self-help views", style.OKABE_ITO["sky_blue"])


def flow_activity_trend(
    windows: pd.DataFrame,
    *,
    previous_label: str | None = None,
    granularity: str | None = None,
    subtitle: str | None = None,
) -> go.Figure:
    """Flow views and completions per window. Columns: views, completions."""
    return trend_lines(
        windows, measures=[VIEWS, COMPLETIONS], title="Flow views and completions over time",
        value_title="Views / completions (count)", previous_label=previous_label,
        granularity=granularity, subtitle=subtitle,
        empty_message="No flow views in this date range",
    )


def completion_rate_trend(
    windows: pd.DataFrame,
    *,
    previous_label: str | None = None,
    granularity: str | None = None,
    subtitle: str | None = None,
) -> go.Figure:
    """Flow completion rate (0..100 %) per window. Column: completion_rate_pct."""
    return trend_lines(
        windows, measures=[RATE], title="Flow completion rate over time",
        value_title="Completion rate (%)", kind="percent", previous_label=previous_label,
        granularity=granularity, subtitle=subtitle,
        empty_message="No flow views in this date range",
    )


def active_users_trend(
    windows: pd.DataFrame,
    *,
    previous_label: str | None = None,
    granularity: str | None = None,
    subtitle: str | None = None,
) -> go.Figure:
    """Distinct active users per window. Column: active_users."""
    return trend_lines(
        windows, measures=[ACTIVE], title="Active users over time",
        value_title="Active users (count)", previous_label=previous_label,
        granularity=granularity, subtitle=subtitle,
        empty_message="No active users in this date range",
    )


def self_help_views_trend(
    windows: pd.DataFrame,
    *,
    previous_label: str | None = None,
    granularity: str | None = None,
    subtitle: str | None = None,
) -> go.Figure:
    """Self-help views per window. Column: views."""
    return trend_lines(
        windows, measures=[SELF_HELP], title="Self-help views over time",
        value_title="Views (count)", previous_label=previous_label,
        granularity=granularity, subtitle=subtitle,
        empty_message="No self-help views in this date range",
    )
