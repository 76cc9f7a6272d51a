"""The built-in server in its own process for the benchmarks, and settings for its demo account.

A separate process has its own GIL, like a remote API, so the client's CPU is measured alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from whatfix_data.config import Settings  # noqa: E402
from whatfix_data.simulator import DEMO_ACCOUNTS  # noqa: E402

STOP_TIMEOUT_S = 10


@contextmanager
def server_process(users: int, latency_ms: int = 0, fault_rate: float = 0.0,
                   *extra_args: str) -> Iterator[str]:
    """`python -m whatfix_data simulate --port 0 ...`; yields its base URL, stops it after."""
    command = [sys.executable, "-m", "whatfix_data", "simulate", "--port", "0",
               "--users", str(users), "--latency-ms", str(latency_ms),
               "--fault-rate", str(fault_rate), *extra_args]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        if not base_url.startswith("http"):
            raise SystemExit("the built-in server did not start")
        yield base_url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()


def demo_settings(base_url: str, cache: str = "memory", concurrency: int = 8) -> Settings:
    """Settings for the primary demo account of a server started by `server_process`."""
    account = DEMO_ACCOUNTS[0]
    return Settings(base_url=base_url, account_id=account.account_id,
                    integration_key=account.integration_key, user=account.user_email,
                    cache=cache, max_concurrency=concurrency)
