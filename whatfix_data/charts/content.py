"""Content charts: inventory by type and status."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from whatfix_data.charts import style
from whatfix_data.charts.builders import stacked_bars

STATUS_COLOURS: dict[str, str] = {
    "Published": style.OKABE_ITO["bluish_green"],
    "Draft": style.OKABE_ITO["orange"],
    "Archived": style.NEUTRAL_COLOUR,
}


def content_inventory(content: pd.DataFrame, *, subtitle: str | None = None) -> go.Figure:
    """Content items per type, stacked by status, largest type first.

    Input: the `content` frame (type, status). Statuses outside the spec are kept, in grey.
    """
    title = "Content inventory by type and status"
    if content is None or content.empty:
        return style.empty_figure(title, "No content items in this account", subtitle=subtitle)
    types = content["type"].astype("string").fillna("(no type)")
    statuses = content["status"].astype("string").fillna("(no status)")
    table = pd.crosstab(types.to_numpy(), statuses.to_numpy())
    known = [s for s in STATUS_COLOURS if s in table.columns]
    table = table[known + [c for c in table.columns if c not in STATUS_COLOURS]]
    table = table.loc[table.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    return stacked_bars(
        table, colours=STATUS_COLOURS, title=title, value_title="Content items (count)",
        noun="items", subtitle=subtitle, empty_message="No content items in this account",
    )
