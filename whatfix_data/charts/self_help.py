"""Self Help charts: views by item and by content type (the trend lives in charts.trends)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from whatfix_data.analytics import self_help as self_help_analytics
from whatfix_data.charts import style
from whatfix_data.charts.builders import Measure, ranked_bars

NO_VIEWS = "No self-help views in this date range"
VIEWS = Measure("views", "Views", style.OKABE_ITO["sky_blue"])


def self_help_by_item(
    self_help: pd.DataFrame, *, limit: int | None = style.RANKED_PER_END,
    subtitle: str | None = None,
) -> go.Figure:
    """Views per self-help item, most viewed first: the ``limit`` most and least viewed items
    when there are more. Input: the `self-help` frame."""
    return ranked_bars(
        self_help, name_col="content_name", key_col="content_id", measures=[VIEWS],
        title="Self-help views by item", value_title="Views (count)", limit=limit, bottom=True,
        noun="items", subtitle=subtitle, empty_message=NO_VIEWS,
    )


def self_help_by_type(self_help: pd.DataFrame, *, subtitle: str | None = None) -> go.Figure:
    """Views summed per content type (Article, Video, ...), most viewed first.

    Input: the `self-help` frame (content_type, views); totals from `analytics.self_help.by_type`.
    """
    title = "Self-help views by content type"
    if self_help is None or self_help.empty:
        return style.empty_figure(title, NO_VIEWS, subtitle=subtitle)
    by_type = self_help_analytics.by_type(self_help)
    return ranked_bars(
        by_type, name_col="content_type", key_col="content_type", measures=[VIEWS],
        presorted=True,
        title=title, value_title="Views (count)", limit=None, noun="types",
        subtitle=subtitle, empty_message=NO_VIEWS,
    )
