"""Benchmark of single flight (issue 12, point 2): five concurrent cold sessions against one.

Starts `python -m whatfix_data simulate` in its own process (default 20,000 users, 50 ms latency)
and a private `redis-server`, then measures two kinds of "session":

1. processes: `python -m whatfix_data export all` for the last 90 days, each in its own
   interpreter on one Redis cache (like app replicas or cron runs): once alone on a cold Redis,
   then five at once on a cold Redis again;
2. threads: `datasets.load_dashboard` (everything the pages need, 90 days, weekly trends,
   previous period) in one process on a memory cache (like browser sessions of one app process):
   once alone, then five at once, each time with a fresh client and memo.

Prints, for each, the requests the server saw and the wall time of one and of five, their ratios
(request target 1.0x: five cost the requests of one) and the physical limit of one
(requests / concurrency x latency). Usage:
`python bench/bench_sessions.py [--users N] [--latency-ms MS] [--sessions 5]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import redis
import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from support import demo_settings, server_process  # noqa: E402

from whatfix_data import datasets, single_flight  # noqa: E402
from whatfix_data.client import WhatfixClient  # noqa: E402
from whatfix_data.config import Settings  # noqa: E402
from whatfix_data.windows import DateRange, today_for  # noqa: E402

DAYS = 90
EXPORT_TIMEOUT_S = 1800


def sim_requests(base_url: str) -> int:
    root = base_url.rsplit("/api/v1", 1)[0]
    return requests.get(f"{root}/__sim__/stats", timeout=10).json()["requests"]


@contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of our own on a free port (nothing else's keys, nothing kept)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tempfile.mkdtemp(prefix="bench-redis-")
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", folder],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(200):
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def export_env(settings: Settings) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("WHATFIX_")}
    env.update({"WHATFIX_BASE_URL": settings.base_url, "WHATFIX_ACCOUNT_ID": settings.account_id,
                "WHATFIX_INTEGRATION_KEY": settings.integration_key,
                "WHATFIX_USER": settings.user, "WHATFIX_CACHE": settings.cache,
                "WHATFIX_MAX_CONCURRENCY": str(settings.max_concurrency),
                "PYTHONPATH": str(REPO_ROOT)})
    return env


def exports(settings: Settings, date_range: DateRange, count: int, out: Path) -> float:
    """`count` concurrent `export all` processes; the wall time until the last one ends."""
    command = [sys.executable, "-m", "whatfix_data", "export", "all", "--start",
               date_range.start.isoformat(), "--end", date_range.end.isoformat(), "--quiet"]
    started = time.perf_counter()
    processes = [subprocess.Popen([*command, "--out", str(out / f"{count}-{i}")],
                                  env=export_env(settings), cwd=REPO_ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for i in range(count)]
    for process in processes:
        _, errors = process.communicate(timeout=EXPORT_TIMEOUT_S)
        if process.returncode:
            raise SystemExit(f"export failed: {errors.strip()}")
    return time.perf_counter() - started


def cold_redis(url: str) -> None:
    redis.Redis.from_url(url).flushdb()


def dashboards(settings: Settings, date_range: DateRange, count: int) -> float:
    """`count` concurrent load_dashboard calls on one fresh client (one app process)."""
    datasets.clear_memo()
    with WhatfixClient(settings) as client:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=count) as pool:
            list(pool.map(lambda _: datasets.load_dashboard(client, date_range, "week"),
                          range(count)))
        return time.perf_counter() - started


def measure(label: str, run, reset, base_url: str, sessions: int, limit_per_request: float):
    reset()
    before = sim_requests(base_url)
    one_s = run(1)
    one_n = sim_requests(base_url) - before
    reset()
    before = sim_requests(base_url)
    many_s = run(sessions)
    many_n = sim_requests(base_url) - before
    limit = one_n * limit_per_request
    print(f"{label}: one {one_n} requests in {one_s:.2f} s (limit {limit:.2f} s, "
          f"{one_s / limit:.2f}x); {sessions} at once {many_n} requests in {many_s:.2f} s; "
          f"requests {many_n / one_n:.2f}x, time {many_s / one_s:.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--only", choices=("processes", "threads"), default=None)
    args = parser.parse_args()
    end = today_for()
    date_range = DateRange(end - timedelta(days=DAYS - 1), end)
    per_request = args.latency_ms / 1000 / args.concurrency
    print(f"{args.users:,} users, {args.latency_ms} ms latency, concurrency {args.concurrency}, "
          f"{DAYS} days ({date_range.label()}); lease {single_flight.LEASE_S:.0f} s")
    with server_process(args.users, args.latency_ms) as base_url, private_redis() as url, \
            tempfile.TemporaryDirectory() as out:
        if args.only in (None, "processes"):
            settings = demo_settings(base_url, cache=url, concurrency=args.concurrency)
            measure("processes (export all, one Redis)",
                    lambda n: exports(settings, date_range, n, Path(out)),
                    lambda: cold_redis(url), base_url, args.sessions, per_request)
        if args.only in (None, "threads"):
            settings = demo_settings(base_url, cache="memory", concurrency=args.concurrency)
            measure("threads (load_dashboard, one process)",
                    lambda n: dashboards(settings, date_range, n),
                    datasets.clear_memo, base_url, args.sessions, per_request)
    return 0


if __name__ == "__main__":
    sys.exit(main())
