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
from whatfix_data.charts.builders import Measure, ValueKind
from whatfix_data.charts.timeline import trend_lines

VIEWS = Measure("views", "Flow views", style.OKABE_ITO["blue"])
COMPLETIONS = Measure("completions", "Flow completions", style.OKABE_ITO["orange"])
RATE = Measure("completion_rate_pct", "Completion rate", style.OKABE_ITO["bluish_green"])
ACTIVE = Measure("active_users", "Active users", style.OKABE_ITO["reddish_purple"])
SELF_HELP = Measure("views", "Self-help views", style.OKABE_ITO["sky_blue"])


class TrendChart:
    """One KPI trend chart: its measures, titles and empty-state message; called with the
    per-window frame (and the comparison's legend label, granularity and subtitle)."""

    def __init__(self, measures: list[Measure], title: str, value_title: str,
                 empty_message: str, *, kind: ValueKind = "count", doc: str = "") -> None:
        self.measures = measures
        self.title = title
        self.value_title = value_title
        self.empty_message = empty_message
        self.kind = kind
        self.__doc__ = doc

    def __call__(self, windows: pd.DataFrame, *, previous_label: str | None = None,
                 granularity: str | None = None, subtitle: str | None = None) -> go.Figure:
        return trend_lines(
            windows, measures=self.measures, title=self.title, value_title=self.value_title,
            kind=self.kind, previous_label=previous_label, granularity=granularity,
            subtitle=subtitle, empty_message=self.empty_message,
        )


flow_activity_trend = TrendChart(
    [VIEWS, COMPLETIONS], "Flow views and completions over time",
    "Views / completions (count)", "No flow views in this date range",
    doc="Flow views and completions per window. Columns: views, completions.")
completion_rate_trend = TrendChart(
    [RATE], "Flow completion rate over time", "Completion rate (%)",
    "No flow views in this date range", kind="percent",
    doc="Flow completion rate (0..100 %) per window. Column: completion_rate_pct.")
active_users_trend = TrendChart(
    [ACTIVE], "Active users over time", "Active users (count)",
    "No active users in this date range",
    doc="Distinct active users per window. Column: active_users.")
self_help_views_trend = TrendChart(
    [SELF_HELP], "Self-help views over time", "Views (count)",
    "No self-help views in this date range",
    doc="Self-help views per window. Column: views.")
