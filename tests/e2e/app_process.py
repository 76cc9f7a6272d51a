"""Starting the dashboard with `streamlit run` for browser tests: one account of a built-in server.

A plain module (not conftest) so that test modules can import `running_app` directly.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 90


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout_s: float) -> None:
    """Poll Streamlit's health endpoint until it says ok (or the process dies)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}")
        try:
            if requests.get(f"{url}/_stcore/health", timeout=2).text.strip() == "ok":
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TimeoutError("streamlit did not become healthy")


def app_env(sim_server, account, tmp_path: Path) -> dict[str, str]:
    """Environment of the app process: one account of the session's built-in server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHATFIX_")}
    env.update(
        WHATFIX_BASE_URL=sim_server.base_url,
        WHATFIX_ACCOUNT_ID=account.account_id,
        WHATFIX_INTEGRATION_KEY=account.integration_key,
        WHATFIX_USER=account.user_email,
        WHATFIX_CACHE="memory",
        WHATFIX_TODAY=sim_server.config.today.isoformat(),  # the server's fixed "today"
        WHATFIX_WARM_ON_START="0",  # requests are those of the pages visited
        XDG_CACHE_HOME=str(tmp_path),
        PYTHONUNBUFFERED="1",
    )
    return env


@contextmanager
def running_app(server, account, workdir: Path, **extra_env: str) -> Iterator[str]:
    """`streamlit run app.py` for one account of `server`; yields its base URL, stops it after.

    `extra_env` adds variables of the app process (e.g. WHATFIX_SYNC_DIR for User Sync logs).
    """
    port = free_port()
    log_path = workdir / "streamlit.log"
    env = app_env(server, account, workdir) | extra_env
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, STARTUP_TIMEOUT_S)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
