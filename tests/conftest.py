"""Shared fixtures: one built-in Whatfix server per test session, reached over real HTTP."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support import FIXED_TODAY, SEED, sim_headers  # noqa: F401 (sim_headers: re-exported)

from whatfix_data.simulator import SimulatorConfig, start_background


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
    # Tests count the requests of each page: no background warm (test_cli_warm.py enables it).
    monkeypatch.setenv("WHATFIX_WARM_ON_START", "0")
    # Notes (whatfix_data.annotations) of each test in a fresh file, never the user's own.
    notes_dir = Path(tempfile.mkdtemp(prefix="whatfix-notes-"))
    monkeypatch.setenv("WHATFIX_ANNOTATIONS_FILE", str(notes_dir / "annotations.sqlite"))
    # Targets and the alert log (whatfix_data.store) likewise: a test's targets never leak into
    # another test's pages, nor into the user's own cache folder.
    monkeypatch.setenv("WHATFIX_STORE", str(notes_dir / "store.sqlite"))


@pytest.fixture()
def point_app(monkeypatch) -> Callable[..., None]:
    """point_app(base_url, account, key=None): the app reads that account (see point_app_at)."""

    def _point(base_url: str, account, *, key: str | None = None) -> None:
        point_app_at(monkeypatch, base_url, account, key=key)

    return _point


@pytest.fixture()
def app_env(monkeypatch, sim_server, demo_account) -> None:
    """The app reads the session server's primary account, with the suite's fixed today."""
    point_app_at(monkeypatch, sim_server.base_url, demo_account)


@pytest.fixture()
def open_page() -> Callable[..., object]:
    """open_page(path=None, query=None) -> an AppTest of app.py run on `path` (default Overview)."""
    from streamlit.testing.v1 import AppTest

    def _open(path: str | None = None, query: dict[str, str] | None = None) -> AppTest:
        at = AppTest.from_file(str(DASHBOARD_APP), default_timeout=APP_TIMEOUT_S)
        for name, value in (query or {}).items():
            at.query_params[name] = value
        if path:  # app.py runs with that page selected: the Overview is not drawn first
            at.switch_page(path)
        at.run()
        return at

    return _open


# ------------------------------------------------------------------------------------------------
# Data layer fixtures (config / client / cache / datasets tests). Appended by the data-layer helper.
# ------------------------------------------------------------------------------------------------

REDIS_START_TIMEOUT_S = 10.0


@pytest.fixture(scope="session")
def make_settings(sim_server):
    """A factory of Settings for a demo account: `make_settings(server=None, account=0, **fields)`.

    Defaults: the session server, its primary account, an in-memory cache and fast retries.
    """
    from whatfix_data.config import Settings

    def build(server=None, account: int = 0, **changes):
        server = server or sim_server
        demo = server.accounts[account]
        values = {
            "base_url": server.base_url,
            "account_id": demo.account_id,
            "integration_key": demo.integration_key,
            "user": demo.user_email,
            "cache": "memory",
            "retries": 3,
            "backoff_s": 0.01,
            "read_timeout_s": 20.0,
        }
        values.update(changes)
        return Settings(**values)

    return build


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis: WHATFIX_TEST_REDIS_URL (set by tests/run_all.sh), else our own redis-server."""
    import os
    import shutil
    import socket
    import subprocess
    import tempfile
    import time

    import redis

    configured = os.environ.get("WHATFIX_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (tests/run_all.sh installs it)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix="whatfix-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + REDIS_START_TIMEOUT_S
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


# ------------------------------------------------------------------------------------------------
# User sync fixtures (test_user_sync*.py, test_cli_sync_users.py, test_page_user_sync.py).
# Appended by the user-sync helper (H6).
# ------------------------------------------------------------------------------------------------

SYNC_USERS = 300


@pytest.fixture()
def sync_server() -> Iterator[object]:
    """A fresh built-in server per test: a sync changes end users, which no other test may see."""
    server = start_background(SimulatorConfig(seed=SEED, users=SYNC_USERS, today=FIXED_TODAY))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def sync_settings(sync_server):
    """Settings for the primary account of `sync_server`: in-memory cache, fast retries."""
    from whatfix_data.config import Settings

    account = sync_server.accounts[0]
    return Settings(base_url=sync_server.base_url, account_id=account.account_id,
                    integration_key=account.integration_key, user=account.user_email,
                    cache="memory", retries=3, backoff_s=0.01, read_timeout_s=20.0)


# ----- built-in server helpers (simulator owner) ------------------------------------------------
# Tests that change server state (PUT users, scenarios, revoked keys, faults) use their own server
# so that the shared `sim_server` stays as generated.


@pytest.fixture
def make_sim_server() -> Iterator[object]:
    """Factory: `make_sim_server(users=300, fault_rate=0.2, ...)` starts a private server.

    Keyword arguments go to SimulatorConfig (seed and today default to the suite's); every server
    started through the factory is stopped when the test ends.
    """
    started = []

    def factory(**overrides):
        settings = {"seed": SEED, "users": 300, "today": FIXED_TODAY, **overrides}
        server = start_background(SimulatorConfig(**settings))
        started.append(server)
        return server

    try:
        yield factory
    finally:
        for server in started:
            server.stop()




# ------------------------------------------------------------------------------------------------
# Delivery fixtures (targets, alerts, e-mailed reports): a real SMTP server and a webhook receiver.
# ------------------------------------------------------------------------------------------------


@pytest.fixture()
def smtp_server() -> Iterator[object]:
    """A real local SMTP server (aiosmtpd) accepting support.SMTP_USER / SMTP_PASSWORD."""
    from support import LocalSmtpServer

    with LocalSmtpServer() as server:
        yield server


@pytest.fixture()
def webhook_receiver() -> Callable[..., object]:
    """webhook_receiver(mode="ok"|"error"|"slow") -> a started loopback receiver (stopped after)."""
    from support import WebhookReceiver

    started = []

    def start(mode: str = "ok", delay_s: float = 3.0):
        receiver = WebhookReceiver(mode, delay_s).__enter__()
        started.append(receiver)
        return receiver

    try:
        yield start
    finally:
        for receiver in started:
            receiver.__exit__(None, None, None)
