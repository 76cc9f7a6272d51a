"""Self Help: views by item and by content type, the trend, and published items nobody viewed."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from whatfix_data import charts
from whatfix_data.analytics import self_help as self_help_stats


def views_by_item_and_type(current: ui.Filters) -> pd.DataFrame:
    """Bars of views per item and per content type, and the table behind them."""
    self_help = ui.load("self-help").frame
    items_tab, types_tab = st.tabs(["By item", "By content type"], key="views_by",
                                   bind="query-params")
    with items_tab:
        ui.chart(charts.self_help_by_item(self_help, subtitle=current.range_label), key="sh_item")
    with types_tab:
        ui.chart(charts.self_help_by_type(self_help, subtitle=current.range_label), key="sh_type")
    ui.table(self_help_stats.by_item(self_help), key="self_help", title="Self Help views",
             empty="No Self Help content was viewed in this range.")
    return self_help


def views_trend(current: ui.Filters) -> None:
    """Self Help views per period, with the comparison period as a dashed line."""
    aligned = ui.trend_windows("self-help-trend", self_help_stats.totals_by_window)
    fig = charts.self_help_views_trend(
        aligned, previous_label=current.comparison_legend,
        granularity=current.granularity, subtitle=current.caption,
    )
    ui.chart(fig, key="sh_trend", data=aligned, notes=True)


def unviewed_items(self_help: pd.DataFrame) -> None:
    """Published Self Help items with no view in the range: candidates to fix or retire."""
    content = ui.load("content").frame
    unviewed = self_help_stats.published_without_views(content, self_help, ui.load("flows").frame)
    st.caption(f"{len(unviewed)} published items had no Self Help view in this range.")
    ui.table(unviewed, key="sh_unviewed", title="Published items with no views",
             empty="Every published item had at least one view in this range.")


def main() -> None:
    """Draw the Self Help page."""
    current = ui.filters()
    # Every dataset of the sections below at once (they share the wire, section by section not)
    ui.prefetch([("content", None), ("flows", current.date_range),
                 ("self-help", current.date_range),
                 *(("self-help-trend", period) for period in current.periods)])
    st.title("Self Help")
    st.caption(current.caption)
    ui.segment_note("self-help")
    self_help = None
    with ui.section("Views by item and content type"):
        self_help = views_by_item_and_type(current)
    with ui.section("Trend"):
        views_trend(current)
    with ui.section("Published items with no views"):
        if self_help is None:
            st.info("Needs the Self Help analytics above, which could not be loaded.")
        else:
            unviewed_items(self_help)


main()
