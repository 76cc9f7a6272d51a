"""Whatfix analytics dashboard: navigation, global filters and the demo banner, then the page.

Run with ``streamlit run app.py``. Without credentials it opens on demo data from the built-in
Whatfix server; see README.md for connecting a real account.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import streamlit as st

from whatfix_data import collector

APP_DIR = Path(__file__).parent
PAGE_TITLE = "Whatfix analytics"

# Section -> pages (file, title, icon). The sidebar navigation shows exactly these entries: the
# analytics pages together (a section per page would repeat each name as its own header), then
# the admin pages.
NAVIGATION: dict[str, list[tuple[str, str, str]]] = {
    "Analytics": [
        ("pages/overview.py", "Overview", ":material/dashboard:"),
        ("pages/flows.py", "Flows", ":material/route:"),
        ("pages/self_help.py", "Self Help", ":material/help:"),
        ("pages/engagement.py", "Engagement", ":material/group:"),
        ("pages/task_lists.py", "Task Lists", ":material/checklist:"),
        ("pages/segments.py", "Segments", ":material/category:"),
        ("pages/content.py", "Content", ":material/inventory_2:"),
    ],
    "Admin": [
        ("pages/data_health.py", "Data Health", ":material/monitor_heart:"),
        ("pages/user_sync.py", "User Sync", ":material/sync:"),
    ],
}
DEFAULT_PAGE = "pages/overview.py"


def build_navigation() -> dict[str, list[st.Page]]:
    """st.Page objects per section; pages whose file does not exist yet are left out."""
    sections: dict[str, list[st.Page]] = {}
    for section, entries in NAVIGATION.items():
        pages = [
            st.Page(path, title=title, icon=icon, default=path == DEFAULT_PAGE)
            for path, title, icon in entries
            if (APP_DIR / path).exists()
        ]
        if pages:
            sections[section] = pages
    return sections


def main() -> None:
    """Set up the page, draw the shared sidebar, then run the selected page."""
    collector.tune()  # a process that parses API pages: fewer, larger collections
    st.set_page_config(page_title=PAGE_TITLE, page_icon=":material/insights:", layout="wide")
    # .streamlit/config.toml hides the legacy `pages/` file list; this navigation shows (ui.shell).
    st.set_option("client.showSidebarNavigation", True)
    page = st.navigation(build_navigation(), position="sidebar")
    if "ui" not in sys.modules and page.url_path == "" and not st.query_params:
        # The first run of this process opens the default Overview: its first wave of data
        # starts now, on the wire while the dashboard's modules are imported (a second of CPU).
        from whatfix_data.views import start_first_view
        start_first_view(st.secrets, os.environ)
    opening = st.empty()
    # Drawn at once (a spinner shows only after a delay): the first run of a process imports the
    # analytics modules (seconds) after the navigation is drawn, with this text, not a blank page.
    opening.caption(":material/hourglass_top: Opening the dashboard…")
    import ui
    from ui.data import start_background_warm
    from whatfix_data.session import open_session
    opening.empty()
    with ui.shell.app_run():
        try:
            # The entry point resolves the dashboard's account once per run and hands it down;
            # with no credentials configured, open_session starts the built-in demo server (once).
            current = ui.use_session(open_session(st.secrets, os.environ))
        except ui.WhatfixError as exc:  # e.g. only some WHATFIX_* variables set: nothing loads
            st.error(ui.md_escape(exc.user_message), icon=":material/error:")
            st.stop()
        ui.demo_banner(current)
        start_background_warm(current)  # once per process: the default views, for the first visitor
        ui.sidebar_filters()
        with ui.section():
            ui.connection_form(current)
        page.run()


main()
