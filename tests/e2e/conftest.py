"""Browser-test fixtures: `streamlit run app.py` on a free port against the built-in server.

Modelled on Streamlit's own e2e suite: one app server per test module, its health endpoint polled
until it answers, then Playwright drives Debian's Chromium (Playwright's browser download does not
work here). Pages are considered drawn once the status widget ("Running...") is gone.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from app_process import running_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCRIPT_TIMEOUT_MS = 120_000
VIEWPORT = {"width": 1440, "height": 1000}


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    """Debian's Chromium with flags that keep it quiet and working in a container."""
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """A wide viewport (the dashboard's layout is wide) and downloads allowed."""
    return {**browser_context_args, "viewport": VIEWPORT, "accept_downloads": True}


@pytest.fixture(scope="module")
def app_url(sim_server, demo_account, tmp_path_factory) -> Iterator[str]:
    """Base URL of `streamlit run app.py` serving the primary account of the built-in server."""
    with running_app(sim_server, demo_account, tmp_path_factory.mktemp("streamlit")) as url:
        yield url


def _wait_idle(page, timeout_ms: int = SCRIPT_TIMEOUT_MS) -> None:
    """Wait until the app is connected and its script has finished (as Streamlit's e2e suite).

    The app root carries `data-test-script-state` ("initial", "running", "notRunning"); a run
    can start a moment after an action, so the state must read "notRunning" twice in a row.
    """
    idle = '[data-testid="stApp"][data-test-script-state="notRunning"]'
    for _ in range(2):
        page.wait_for_timeout(400)
        page.wait_for_selector(idle, timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
        timeout=timeout_ms,
    )


@pytest.fixture()
def wait_idle():
    """The wait-until-the-script-is-idle helper, as a fixture for the test modules."""
    return _wait_idle
