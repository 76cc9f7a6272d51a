"""What the benchmarks share: the built-in server in its own process and settings for its demo
account, the server's request counts, the sequential baseline (the same requests one at a time),
peak memory, and the MET/MISS verdict lines with the exit code.

A separate server process has its own GIL, like a remote API, so the client's CPU is measured
alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from whatfix_data.cache import INTEGRATION_KEY_HEADER, USER_HEADER  # noqa: E402
from whatfix_data.client import WhatfixClient  # noqa: E402
from whatfix_data.config import Settings  # noqa: E402
from whatfix_data.simulator import DEMO_ACCOUNTS  # noqa: E402

STOP_TIMEOUT_S = 10
# The client's live credential check (first request of every load), as a URL tail.
CREDENTIAL_PROBE = "/segments?page=1&pageSize=1"


def start_server_process(users: int, latency_ms: int = 0, fault_rate: float = 0.0,
                         *extra_args: str) -> tuple[subprocess.Popen, str]:
    """`python -m whatfix_data simulate --port 0 ...` once it serves: (process, base URL)."""
    command = [sys.executable, "-m", "whatfix_data", "simulate", "--port", "0",
               "--users", str(users), "--latency-ms", str(latency_ms),
               "--fault-rate", str(fault_rate), *extra_args]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert process.stdout is not None
    base_url = process.stdout.readline().strip()  # printed once the data is generated
    if not base_url.startswith("http"):
        stop_server_process(process)
        raise SystemExit("the built-in server did not start")
    return process, base_url


def stop_server_process(process: subprocess.Popen) -> None:
    """Stop a server from `start_server_process` (Ctrl+C, then kill if it lingers)."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()


@contextmanager
def server_process(users: int, latency_ms: int = 0, fault_rate: float = 0.0,
                   *extra_args: str) -> Iterator[str]:
    """`python -m whatfix_data simulate --port 0 ...`; yields its base URL, stops it after."""
    process, base_url = start_server_process(users, latency_ms, fault_rate, *extra_args)
    try:
        yield base_url
    finally:
        stop_server_process(process)


def demo_settings(base_url: str, cache: str = "memory", concurrency: int = 8) -> Settings:
    """Settings for the primary demo account of a server started by `server_process`."""
    account = DEMO_ACCOUNTS[0]
    return Settings(base_url=base_url, account_id=account.account_id,
                    integration_key=account.integration_key, user=account.user_email,
                    cache=cache, max_concurrency=concurrency)


def sim_stats(base_url: str) -> dict:
    """Requests served so far, from the server's /__sim__/stats."""
    root = base_url.rsplit("/api/v1", 1)[0]
    return requests.get(f"{root}/__sim__/stats", timeout=10).json()


def recorded_urls(settings: Settings) -> list[str]:
    """Every URL the cold load stored (all data requests), plus the live credential check."""
    with WhatfixClient(settings, verify=False) as client:
        urls = [response.url for response in client.cache.responses.values()]
    return [f"{settings.base_url}/{settings.account_id}{CREDENTIAL_PROBE}", *urls]


def sequential(settings: Settings, urls: list[str]) -> float:
    """The same requests one at a time through a plain requests.Session (bodies parsed)."""
    headers = {INTEGRATION_KEY_HEADER: settings.integration_key, USER_HEADER: settings.user}
    started = time.perf_counter()
    with requests.Session() as session:
        for url in urls:
            response = session.get(url, headers=headers, timeout=30)
            response.raise_for_status()
            response.json()
    return time.perf_counter() - started


def peak_rss_mib() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(figures: Mapping, verdicts: Mapping[str, bool]) -> int:
    """Print the figures as JSON and one MET/MISS line per target; 0 when every one is met."""
    print(json.dumps(figures, indent=2))
    for target, met in verdicts.items():
        print(f"{'MET ' if met else 'MISS'}  {target}")
    return 0 if all(verdicts.values()) else 1


def server_arguments(doc: str, users: int, latency_ms: int,
                     concurrency: int) -> argparse.Namespace:
    """--users, --latency-ms and --concurrency of a benchmark against the built-in server (the
    description is the first line of the benchmark's docstring)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--users", type=int, default=users)
    parser.add_argument("--latency-ms", type=int, default=latency_ms)
    parser.add_argument("--concurrency", type=int, default=concurrency)
    return parser.parse_args()
