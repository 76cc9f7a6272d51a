"""Benchmark of `python -m whatfix_data export all` (issue 12, point 6): as fast as the library.

Starts `python -m whatfix_data simulate` in its own process (20,000 users, 50 ms latency), then
runs the real command in a fresh process with a fresh SQLite cache, for the last 90 days:

1. start-up: `python -m whatfix_data export --help` (interpreter, imports, argument parsing);
2. export: `python -m whatfix_data export all --start ... --end ... --out DIR --quiet`, timed
   from the outside (what a user waits), requests counted by the server (/__sim__/stats);
3. library: the same ten datasets loaded in this process (`datasets.load_dataset`, concurrently,
   another fresh SQLite cache): what the CLI is compared with in the same run;
4. sequential: the very same requests (the URLs in the cache file) one at a time through a plain
   requests.Session: the baseline of "the same requests sent one by one".

The export's CPU time (user + system of the child process) is reported too: on a box shared
with other jobs the wall-clock times stretch with the load, the CPU seconds much less.

Targets: export - start-up <= 1.3 x limit, where limit = requests / concurrency x latency;
sequential / (export - start-up) >= 6. Usage: `python bench/bench_cli_export.py [--users N]`.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import support  # noqa: E402

from whatfix_data.client import WhatfixClient  # noqa: E402
from whatfix_data.datasets import DATASETS, load_dataset  # noqa: E402
from whatfix_data.windows import DateRange, default_granularity, today_for  # noqa: E402

DEFAULT_USERS = 20_000
DEFAULT_LATENCY_MS = 50
DEFAULT_CONCURRENCY = 8
DAYS = 90
TARGET_RATIO = 1.3
TARGET_SPEEDUP = 6.0
STARTUP_RUNS = 3


def cli_env(settings, cache: str) -> dict[str, str]:
    """The environment of the CLI process: the demo account of the bench server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHATFIX_")}
    env.update({"WHATFIX_BASE_URL": settings.base_url, "WHATFIX_ACCOUNT_ID": settings.account_id,
                "WHATFIX_INTEGRATION_KEY": settings.integration_key,
                "WHATFIX_USER": settings.user, "WHATFIX_CACHE": cache,
                "WHATFIX_MAX_CONCURRENCY": str(settings.max_concurrency),
                "PYTHONPATH": str(REPO_ROOT)})
    return env


def timed(command: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                               timeout=600)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command[2:5])} failed: {completed.stderr.strip()[-500:]}")
    return elapsed


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def library_load(settings, date_range: DateRange) -> tuple[float, int]:
    """(seconds, network requests) of the ten datasets loaded in-process, all at once."""
    from concurrent.futures import ThreadPoolExecutor

    granularity = default_granularity(date_range)
    started = time.perf_counter()
    with WhatfixClient(settings) as client, ThreadPoolExecutor(len(DATASETS)) as pool:
        list(pool.map(lambda name: load_dataset(client, name, date_range, granularity),
                      DATASETS))
        requests_made = client.network_requests
    return time.perf_counter() - started, requests_made


def run(users: int, latency_ms: int, concurrency: int) -> dict:
    end = today_for()
    start = end - timedelta(days=DAYS - 1)
    with support.server_process(users, latency_ms) as base_url, \
            tempfile.TemporaryDirectory(prefix="whatfix-bench-cli-") as folder:
        cache = str(Path(folder) / "http_cache.sqlite")
        settings = support.demo_settings(base_url, cache, concurrency)
        env = cli_env(settings, cache)
        cli = [sys.executable, "-m", "whatfix_data"]
        startup_s = min(timed([*cli, "export", "--help"], env, Path(folder))
                        for _ in range(STARTUP_RUNS))
        before = support.sim_stats(base_url)["requests"]
        cpu_before = children_cpu_s()
        export_s = timed([*cli, "export", "all", "--start", start.isoformat(), "--end",
                          end.isoformat(), "--out", str(Path(folder) / "out"), "--quiet"],
                         env, Path(folder))
        export_cpu_s = children_cpu_s() - cpu_before
        after = support.sim_stats(base_url)
        requests_made = after["requests"] - before
        urls = support.recorded_urls(settings)
        library_s, library_requests = library_load(
            support.demo_settings(base_url, str(Path(folder) / "library.sqlite"), concurrency),
            DateRange(start, end))
        sequential_s = support.sequential(settings, urls)
    limit_s = requests_made / concurrency * latency_ms / 1000
    work_s = export_s - startup_s
    return {
        "users": users, "latency_ms": latency_ms, "concurrency": concurrency, "days": DAYS,
        "requests": requests_made, "requests_by_status": after["byStatus"],
        "startup_s": round(startup_s, 2), "export_s": round(export_s, 2),
        "export_minus_startup_s": round(work_s, 2), "limit_s": round(limit_s, 2),
        "ratio_to_limit": round(work_s / limit_s, 2),
        "export_cpu_s": round(export_cpu_s, 2),
        "library_s": round(library_s, 2), "library_requests": library_requests,
        "cli_work_over_library": round(work_s / library_s, 2),
        "sequential_s": round(sequential_s, 2),
        "speedup_vs_sequential": round(sequential_s / work_s, 1),
        "speedup_vs_sequential_incl_startup": round(sequential_s / export_s, 1),
        "load_average_1min": round(os.getloadavg()[0], 1),
    }


def main() -> int:
    args = support.server_arguments(__doc__, DEFAULT_USERS, DEFAULT_LATENCY_MS, DEFAULT_CONCURRENCY)
    figures = run(args.users, args.latency_ms, args.concurrency)
    verdicts = {
        f"export - start-up <= {TARGET_RATIO} x limit": figures["ratio_to_limit"] <= TARGET_RATIO,
        f"sequential / export >= {TARGET_SPEEDUP}":
            figures["speedup_vs_sequential"] >= TARGET_SPEEDUP,
    }
    return support.report(figures, verdicts)


if __name__ == "__main__":
    sys.exit(main())
