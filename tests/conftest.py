"""Shared fixtures: one built-in Whatfix server per test session, reached over real HTTP."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from whatfix_data.simulator import SimulatorConfig, start_background

# A fixed "today" keeps every number in the suite reproducible.
FIXED_TODAY = date(2026, 11, 27)
SEED = 7


@pytest.fixture(scope="session")
def sim_server() -> Iterator[object]:
    """The built-in server with its demo accounts, no latency and no faults."""
    server = start_background(SimulatorConfig(seed=SEED, users=2000, today=FIXED_TODAY))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def demo_account(sim_server):
    """The primary demo account of the session server (account_id, integration_key, user_email)."""
    return sim_server.accounts[0]


# ------------------------------------------------------------------------------------------------
# Dashboard fixtures (AppTest and browser tests), appended by the dashboard helper (H4b).

DASHBOARD_APP = Path(__file__).resolve().parents[1] / "app.py"
# Generous: a cold page loads several datasets (and trends window by window) over real HTTP.
APP_TIMEOUT_S = 120


def point_app_at(monkeypatch, base_url: str, account, *, key: str | None = None) -> None:
    """Environment that makes the app use one account of a built-in server (no secrets file)."""
    for name in [n for n in os.environ if n.startswith("WHATFIX_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("WHATFIX_BASE_URL", base_url)
    monkeypatch.setenv("WHATFIX_ACCOUNT_ID", account.account_id)
    monkeypatch.setenv("WHATFIX_INTEGRATION_KEY", key or account.integration_key)
    monkeypatch.setenv("WHATFIX_USER", account.user_email)
    monkeypatch.setenv("WHATFIX_CACHE", "memory")
    monkeypatch.setenv("WHATFIX_TODAY", FIXED_TODAY.isoformat())


@pytest.fixture()
def app_env(monkeypatch, sim_server, demo_account) -> None:
    """The app reads the session server's primary account, with the suite's fixed today."""
    point_app_at(monkeypatch, sim_server.base_url, demo_account)


@pytest.fixture()
def open_page() -> Callable[..., object]:
    """open_page(path=None, query=None) -> an AppTest that ran app.py, then switched to `path`."""
    from streamlit.testing.v1 import AppTest

    def _open(path: str | None = None, query: dict[str, str] | None = None) -> AppTest:
        at = AppTest.from_file(str(DASHBOARD_APP), default_timeout=APP_TIMEOUT_S)
        for name, value in (query or {}).items():
            at.query_params[name] = value
        at.run()
        if path:
            at.switch_page(path)
            at.run()
        return at

    return _open
