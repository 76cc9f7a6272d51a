"""app.py's frame around every page, and what a page does when it runs without that frame.

Streamlit decides once per process, before the first script run, whether a ``pages/`` folder
beside app.py means its legacy automatic multipage mode; the first ``st.navigation`` call switches
that mode off for good (documented: "disregard v1 behavior of Multipage Apps"). Until then the
first run of a process can run a page file directly, without app.py (a shared link to a page is
the first request; every AppTest run starts that way). Such a page calls ``st.navigation`` with
the files of ``pages/`` (so the same page stays selected) and reruns: the rerun goes through
app.py. The folder's raw file list is never shown: ``.streamlit/config.toml`` hides the legacy
navigation and app.py turns the sidebar navigation on again for its own
(``st.set_option("client.showSidebarNavigation", True)``, a public scriptable option).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

PAGES_DIR = Path(__file__).resolve().parents[1] / "pages"
K_IN_APP = "_wf_in_app_run"
K_REROUTED = "_wf_rerouted"


@contextmanager
def app_run() -> Iterator[None]:
    """app.py draws its frame and runs the page inside this: the page sees that it is framed."""
    st.session_state[K_IN_APP] = True
    st.session_state.pop(K_REROUTED, None)
    try:
        yield
    finally:
        st.session_state.pop(K_IN_APP, None)


def in_app() -> bool:
    """Whether app.py is running this page (its sidebar and navigation are drawn)."""
    return bool(st.session_state.get(K_IN_APP))


def run_through_app() -> None:
    """Rerun through app.py when a page ran without it; return when there is no app.py to run.

    Reroutes at most once until app.py runs: a page that is itself the main script (a test of
    one page) then goes on alone.
    """
    if in_app() or st.session_state.get(K_REROUTED):
        return
    st.session_state[K_REROUTED] = True
    pages = [st.Page(path) for path in sorted(PAGES_DIR.glob("*.py"))]
    st.navigation(pages, position="hidden")  # switches the legacy mode off; keeps this page
    st.rerun()
