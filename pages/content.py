"""Content: inventory by type and status, and the hygiene lists that need a content owner."""

from __future__ import annotations

import streamlit as st

import ui
from whatfix_data import charts
from whatfix_data.analytics import content as content_stats

DRAFT_AGE_DAYS = 90
STALE_DAYS = 180


def inventory() -> None:
    """How many items of each type exist, stacked by status."""
    content = ui.load("content").frame
    ui.chart(charts.content_inventory(content, subtitle=f"{len(content)} items"), key="inventory")
    counts = content_stats.inventory(content)
    ui.table(counts, key="inventory", title="Content inventory",
             empty="This account has no content yet.")


def hygiene(current: ui.Filters) -> None:
    """Published items nobody viewed, old drafts, and items nobody touched for months."""
    content = ui.load("content").frame
    today = ui.today()
    lists = content_stats.hygiene(
        content, ui.load("self-help").frame, ui.load("flows").frame, as_of=today,
        draft_age_days=DRAFT_AGE_DAYS, stale_days=STALE_DAYS,
    )
    unviewed, drafts, untouched = lists.unviewed, lists.old_drafts, lists.not_modified
    # Tab labels without counts: a URL-bound tab is named by its label, which must not change
    # with the data (the counts are written inside each tab).
    unviewed_tab, drafts_tab, stale_tab = st.tabs([
        "Published, no views",
        f"Drafts older than {DRAFT_AGE_DAYS} days",
        f"Not modified in {STALE_DAYS} days",
    ], key="hygiene", bind="query-params")
    with unviewed_tab:
        st.caption(f"{len(unviewed):,} published items with no view between "
                   f"{current.range_label}.")
        ui.table(unviewed, key="unviewed", title="Published items with no views",
                 empty="Every published item had views in this range.")
    with drafts_tab:
        st.caption(f"{len(drafts):,} drafts older than {DRAFT_AGE_DAYS} days.")
        ui.table(drafts, key="old_drafts", title="Old drafts",
                 empty=f"No draft is older than {DRAFT_AGE_DAYS} days.")
    with stale_tab:
        st.caption(f"{len(untouched):,} items not modified in {STALE_DAYS} days.")
        ui.table(untouched, key="not_modified", title="Items not modified",
                 empty=f"Every item was modified in the last {STALE_DAYS} days.")


def main() -> None:
    """Draw the Content page."""
    current = ui.filters()
    st.title("Content")
    st.caption(current.range_label)
    ui.segment_note("content")
    with ui.section("Inventory by type and status"):
        inventory()
    with ui.section("Hygiene"):
        hygiene(current)


main()
