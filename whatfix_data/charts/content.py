"""Content charts: inventory by type and status."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from whatfix_data.analytics import content as content_analytics
from whatfix_data.charts import style
from whatfix_data.charts.builders import stacked_bars

NO_CONTENT = "No content items in this account"
STATUS_COLOURS: dict[str, str] = {
    "Published": style.OKABE_ITO["bluish_green"],
    "Draft": style.OKABE_ITO["orange"],
    "Archived": style.NEUTRAL_COLOUR,
    "Unknown": style.OKABE_ITO["reddish_purple"],
}


def content_inventory(content: pd.DataFrame, *, subtitle: str | None = None) -> go.Figure:
    """Content items per type, stacked by status, largest type first.

    Input: the `content` frame; counts are `analytics.content.inventory`. Statuses with no
    items are left out of the legend.
    """
    title = "Content inventory by type and status"
    wide = content_analytics.inventory(content)
    if wide.empty:
        return style.empty_figure(title, NO_CONTENT, subtitle=subtitle)
    table = wide.set_index("type").drop(columns="total").astype(int)
    table = table.loc[:, table.sum(axis=0) > 0]
    # Published first: the live inventory lines up on the left edge of every bar.
    order = [s for s in STATUS_COLOURS if s in table.columns]
    table = table[order + [c for c in table.columns if c not in order]]
    return stacked_bars(
        table, colours=STATUS_COLOURS, title=title, value_title="Content items (count)",
        noun="items", subtitle=subtitle, empty_message=NO_CONTENT,
    )
