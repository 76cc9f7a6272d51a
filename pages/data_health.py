"""Data Health: when each dataset was fetched, fresh or stale, rows against totalCount, findings."""

from __future__ import annotations

import streamlit as st

import ui

# The datasets checked here: every list and every windowed dataset of the selected range.
CHECKED = ("end-users", "content", "segments", "flows", "popular-flows", "self-help",
           "engagement", "task-completion")


def dataset_status() -> list:
    """Load every dataset (from the cache when warm) and tabulate its freshness."""
    loaded, failures = [], {}
    progress = st.progress(0.0, text="Checking datasets")
    for done, name in enumerate(CHECKED, start=1):
        try:
            loaded.append(ui.load(name, warn_stale=False))
        except ui.WhatfixError as exc:
            failures[name] = exc.user_message
        progress.progress(done / len(CHECKED), text=f"Checked {done} of {len(CHECKED)} datasets")
    progress.empty()
    status = ui.health_table(loaded, failures)
    stale = int(status["state"].eq("stale").sum())
    failed = len(failures)
    if failed:
        st.error(f"{failed} datasets could not be loaded: see the message column below.")
    if stale:
        st.warning(f"{stale} datasets are stale copies: the API could not be reached.")
    if not failed and not stale:
        st.success("Every dataset is fresh and complete.", icon=":material/check_circle:")
    ui.table(status, key="health", title="Dataset health", config={
        "message": st.column_config.TextColumn("Message", width="large"),
        "fetched_at": st.column_config.DatetimeColumn("Fetched at (UTC)",
                                                      format="YYYY-MM-DD HH:mm:ss"),
        "total_count": st.column_config.NumberColumn(
            "Total count", format="localized",
            help="The totalCount the API reports for paged lists; empty for reports, which "
                 "come in one response without a total."),
        "complete": st.column_config.CheckboxColumn(
            "Complete", help="Rows equal totalCount (paged lists only)."),
    })
    return loaded


def findings(loaded: list) -> None:
    """Data-quality findings of every loaded dataset (values the API sent that look wrong)."""
    frame = ui.findings_table(loaded)
    st.caption(f"{len(frame)} findings across {len(loaded)} datasets.")
    ui.table(frame, key="findings", title="Data-quality findings",
             empty="No data-quality problem was found in the loaded datasets.")


def cache_and_refresh() -> None:
    """Where responses are cached, and a button to fetch everything again."""
    settings = ui.settings()
    st.markdown(f"**Cache backend:** {ui.md_escape(ui.cache_description(settings))}")
    st.caption(
        f"Ranges that include today are refetched after {settings.ttl_today_s // 60} min and "
        f"lists (users, content, segments) after {settings.ttl_lists_s // 60} min; past ranges "
        "do not change. A stale copy is shown, with a warning, only when the API is down."
    )
    st.button("Refresh all data now", icon=":material/refresh:", key="refresh_all",
              on_click=refresh)


def refresh() -> None:
    """Button callback (runs before the page): forget every cache so this run fetches again."""
    ui.refresh_all()
    st.toast("Caches cleared: every dataset was fetched again.", icon=":material/refresh:")


def main() -> None:
    """Draw the Data Health page."""
    current = ui.filters()
    st.title("Data Health")
    st.caption(f"Windowed datasets are checked for {current.range_label}.")
    loaded: list = []
    with ui.section("Datasets"):
        loaded = dataset_status()
    with ui.section("Data-quality findings"):
        findings(loaded)
    with ui.section("Cache"):
        cache_and_refresh()


main()
