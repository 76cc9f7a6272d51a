"""`python -m whatfix_data warm` and the app's background warm, against the built-in server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from support import FIXED_TODAY

from ui.filters import DEFAULT_COMPARE, DEFAULT_PRESET
from whatfix_data.commands import warm as warm_command
from whatfix_data.simulator import SimulatorConfig, start_background

REPO_ROOT = Path(__file__).resolve().parents[1]
APP = REPO_ROOT / "app.py"
TIMEOUT_S = 180


@pytest.fixture()
def fresh_server():
    """A server of its own: its base URL is a cache scope nobody has warmed yet."""
    server = start_background(SimulatorConfig(seed=5, users=1500, today=FIXED_TODAY))
    try:
        yield server
    finally:
        server.stop()


def _env(server, cache: str) -> dict[str, str]:
    account = server.accounts[0]
    env = {name: value for name, value in os.environ.items() if not name.startswith("WHATFIX_")}
    env.update({"WHATFIX_BASE_URL": server.base_url, "WHATFIX_ACCOUNT_ID": account.account_id,
                "WHATFIX_INTEGRATION_KEY": account.integration_key,
                "WHATFIX_USER": account.user_email, "WHATFIX_CACHE": cache,
                "WHATFIX_TODAY": FIXED_TODAY.isoformat()})
    return env


def _warm(server, cache: str, *args: str) -> tuple[int, str]:
    """Run the command in its own process: (requests the server saw, stderr)."""
    before = server.stats()["requests"]
    done = subprocess.run([sys.executable, "-m", "whatfix_data", "warm", "--quiet", *args],
                          env=_env(server, cache), cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return server.stats()["requests"] - before, done.stderr


def test_a_second_process_asks_nothing_for_past_windows(fresh_server, tmp_path):
    cache = str(tmp_path / "http_cache.sqlite")
    first, said = _warm(fresh_server, cache, "--preset", "last_quarter")
    assert first > 100  # every dataset of both quarters, end users and trends included
    # 20: the dashboard's datasets of the quarter and the compared ones of the quarter before,
    # the Overview's active-users count (one request per period) among them
    assert re.search(r"Warmed last quarter \(1 Jul – 30 Sep 2026\): 20 datasets in "
                     rf"[\d.]+ s; requests to the API: {first - 1}\n", said), said  # + key check
    again, said = _warm(fresh_server, cache, "--preset", "last_quarter")
    assert again == 1  # the live credential check; every window ended before today
    assert said.rstrip().endswith("requests to the API: 0")


def test_several_presets_share_what_they_have_in_common(fresh_server, tmp_path):
    cache = str(tmp_path / "http_cache.sqlite")
    spent, said = _warm(fresh_server, cache, "--preset", "last_7_days", "--preset",
                        "last_30_days", "--compare", "none")
    assert said.count("Warmed ") == 2
    second = int(re.findall(r"requests to the API: (\d+)", said)[1])
    assert 0 < second < spent  # the lists (users, content, segments) came from the first


def test_the_warm_default_is_the_dashboards_default_view():
    assert warm_command.DEFAULT_PRESET == DEFAULT_PRESET
    assert warm_command.DEFAULT_COMPARISON == DEFAULT_COMPARE


def test_the_app_warms_the_default_views_in_the_background_once(fresh_server, monkeypatch):
    for name, value in _env(fresh_server, "memory").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WHATFIX_WARM_ON_START", "1")
    first = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    first.run()  # the Overview: it needs no end-user list
    assert not first.exception
    deadline = time.monotonic() + TIMEOUT_S
    while _warm_threads() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _warm_threads()
    users = fresh_server.stats()["byOperation"].get("listEndUsers", 0)
    assert users == 15  # 1,500 users: the warm fetched the list, every page once
    before = fresh_server.stats()["requests"]
    second = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    second.switch_page("pages/engagement.py")  # a new session on a page that needs the list
    second.run()
    assert not second.exception
    assert fresh_server.stats()["requests"] - before <= 1  # at most a credential re-check
    assert fresh_server.stats()["byOperation"]["listEndUsers"] == users  # warmed once only


def _warm_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "whatfix-background-warm"]
