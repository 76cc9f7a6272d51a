"""Whatfix analytics dashboard: navigation, global filters and the demo banner, then the page.

Run with ``streamlit run app.py``. Without credentials it opens on demo data from the built-in
Whatfix server; see README.md for connecting a real account.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

import ui

APP_DIR = Path(__file__).parent
PAGE_TITLE = "Whatfix analytics"

# Section -> pages (file, title, icon, URL path). The sidebar navigation shows exactly these.
# URL paths deliberately differ from the file names: Streamlit still has a legacy mode for a
# `pages/` folder that, on the first run of a process (and on every AppTest run), would run a
# page whose URL equals its file name on its own, without this script's sidebar and filters.
NAVIGATION: dict[str, list[tuple[str, str, str, str]]] = {
    "Overview": [("pages/overview.py", "Overview", ":material/dashboard:", "home")],
    "Flows": [("pages/flows.py", "Flows", ":material/route:", "flow-analytics")],
    "Self Help": [("pages/self_help.py", "Self Help", ":material/help:", "self-help")],
    "Engagement": [("pages/engagement.py", "Engagement", ":material/group:", "user-engagement")],
    "Task Lists": [("pages/task_lists.py", "Task Lists", ":material/checklist:", "task-lists")],
    "Segments": [("pages/segments.py", "Segments", ":material/category:", "user-segments")],
    "Content": [("pages/content.py", "Content", ":material/inventory_2:", "content-inventory")],
    "Admin": [
        ("pages/data_health.py", "Data Health", ":material/monitor_heart:", "data-health"),
        ("pages/user_sync.py", "User Sync", ":material/sync:", "user-sync"),
    ],
}


def build_navigation() -> dict[str, list[st.Page]]:
    """st.Page objects per section; pages whose file does not exist yet are left out."""
    sections: dict[str, list[st.Page]] = {}
    for section, entries in NAVIGATION.items():
        pages = [
            st.Page(path, title=title, icon=icon, url_path=url, default=url == "home")
            for path, title, icon, url in entries
            if (APP_DIR / path).exists()
        ]
        if pages:
            sections[section] = pages
    return sections


def main() -> None:
    """Set up the page, draw the shared sidebar, then run the selected page."""
    st.set_page_config(page_title=PAGE_TITLE, page_icon=":material/insights:", layout="wide")
    page = st.navigation(build_navigation(), position="sidebar")
    with ui.section():
        current = ui.settings()
        ui.demo_banner(current)
    ui.sidebar_filters()
    with ui.section():
        ui.connection_form(current)
    page.run()


main()
