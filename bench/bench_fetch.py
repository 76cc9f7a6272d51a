"""Benchmark of the data layer fetch (issue 3): cold concurrent vs sequential, then warm.

Starts `python -m whatfix_data simulate` in its own process (20,000 users, 50 ms latency per
response), then loads everything the dashboard needs for the last 90 days with weekly trends and
the previous period (`datasets.load_dashboard`) through a fresh SQLite cache:

1. cold: the real client (page 1 first, the rest concurrently, one bound of max_concurrency);
2. sequential: the very same HTTP requests, one at a time through a plain requests.Session;
3. warm: a new client on the same cache file, the same load again.

Prints the request count, times, the ratios against the targets (cold <= 1.3 x requests /
concurrency x latency, sequential / cold >= 6, warm < 1 s with no request for data) and the peak
memory of this process. Usage: `python bench/bench_fetch.py [--users N] [--latency-ms MS]`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from support import (  # noqa: E402
    demo_settings,
    peak_rss_mib,
    recorded_urls,
    report,
    sequential,
    server_arguments,
    server_process,
    sim_stats,
)

from whatfix_data.client import WhatfixClient  # noqa: E402
from whatfix_data.config import Settings  # noqa: E402
from whatfix_data.datasets import load_dashboard  # noqa: E402
from whatfix_data.windows import resolve_preset, split_range, today_for  # noqa: E402

DEFAULT_USERS = 20_000
DEFAULT_LATENCY_MS = 50
DEFAULT_CONCURRENCY = 8
PRESET = "last_90_days"
GRANULARITY = "week"
TARGET_COLD_RATIO = 1.3
TARGET_SPEEDUP = 6.0
TARGET_WARM_S = 1.0
SERVER_START_TIMEOUT_S = 120
# Warm start of a new process: only the HTTP cache file is warm (imports are not timed).
NEW_PROCESS_WARM = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from whatfix_data.client import WhatfixClient
from whatfix_data.config import Settings
from whatfix_data.datasets import load_dashboard
from whatfix_data.windows import resolve_preset, today_for
settings = Settings(**json.loads(sys.stdin.read()))
started = time.perf_counter()
with WhatfixClient(settings) as client:
    load_dashboard(client, resolve_preset(sys.argv[2], today_for()), sys.argv[3], "previous")
    print(json.dumps({"seconds": time.perf_counter() - started,
                      "requests": client.network_requests}))
"""


def timed_load(settings: Settings) -> tuple[float, int, object, float]:
    """(seconds, network requests, data, slot-seconds on the wire) of one dashboard load."""
    started = time.perf_counter()
    with WhatfixClient(settings) as client:
        data = load_dashboard(client, resolve_preset(PRESET, today_for()), GRANULARITY,
                              comparison="previous")
        requests_made = client.network_requests
        busy_s = client.wire_stats()[1]
    return time.perf_counter() - started, requests_made, data, busy_s


def warm_new_process(settings: Settings) -> dict:
    """The warm load in a fresh interpreter: HTTP cache file only, no in-memory memo."""
    fields = {name: getattr(settings, name) for name in settings.__dataclass_fields__}
    completed = subprocess.run(
        [sys.executable, "-c", NEW_PROCESS_WARM, str(REPO_ROOT), PRESET, GRANULARITY],
        input=json.dumps(fields),  # the key goes through stdin, never the process list
        capture_output=True, text=True, check=True, timeout=600,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run(users: int, latency_ms: int, concurrency: int) -> dict:
    with server_process(users, latency_ms) as base_url, \
            tempfile.TemporaryDirectory(prefix="whatfix-bench-") as folder:
            settings = demo_settings(base_url, str(Path(folder) / "http_cache.sqlite"),
                                     concurrency)
            cpu_before = time.process_time()
            cold_s, cold_requests, data, cold_busy_s = timed_load(settings)
            cold_cpu_s = time.process_time() - cpu_before
            rows = sum(len(d.frame) for part in (data.current, data.comparison)
                       for d in part.values())
            rss_after_cold = peak_rss_mib()
            urls = recorded_urls(settings)
            sequential_s = sequential(settings, urls)
            before_warm = sim_stats(base_url)
            warm_s, warm_requests, _, _ = timed_load(settings)
            after_warm = sim_stats(base_url)
            fresh_process = warm_new_process(settings)
    ideal_s = cold_requests / concurrency * latency_ms / 1000
    warm_ops = {op: n - before_warm["byOperation"].get(op, 0)
                for op, n in after_warm["byOperation"].items()
                if n != before_warm["byOperation"].get(op, 0)}
    return {
        "users": users, "latency_ms": latency_ms, "concurrency": concurrency,
        "range": PRESET, "granularity": GRANULARITY,
        "weekly_windows": len(split_range(resolve_preset(PRESET, today_for()), GRANULARITY)),
        "rows": rows, "requests_cold": cold_requests, "requests_sequential": len(urls),
        "cold_s": round(cold_s, 2), "ideal_s": round(ideal_s, 2),
        "cold_over_ideal": round(cold_s / ideal_s, 2),
        "cold_client_cpu_s": round(cold_cpu_s, 2),
        "cold_mean_ms_on_wire": round(cold_busy_s / cold_requests * 1000, 1),
        "cold_slot_utilisation": round(cold_busy_s / (cold_s * concurrency), 2),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "sequential_s": round(sequential_s, 2),
        # the box's real cost of one request (latency + scheduling + server work), and the ideal
        # recomputed with it: what is left above 1.0 is the client's own overhead
        "sequential_ms_per_request": round(sequential_s / len(urls) * 1000, 1),
        "cold_over_measured_ideal": round(
            cold_s / (cold_requests / concurrency * sequential_s / len(urls)), 2),
        "speedup_vs_sequential": round(sequential_s / cold_s, 1),
        "warm_s": round(warm_s, 3), "warm_requests": warm_requests,
        "warm_requests_by_operation": warm_ops,
        "warm_new_process_s": round(fresh_process["seconds"], 2),
        "warm_new_process_requests": fresh_process["requests"],
        "peak_rss_mib_after_cold": round(rss_after_cold, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }


def main() -> int:
    args = server_arguments(__doc__, DEFAULT_USERS, DEFAULT_LATENCY_MS, DEFAULT_CONCURRENCY)
    figures = run(args.users, args.latency_ms, args.concurrency)
    verdicts = {
        f"cold <= {TARGET_COLD_RATIO} x ideal": figures["cold_over_ideal"] <= TARGET_COLD_RATIO,
        f"sequential / cold >= {TARGET_SPEEDUP}":
            figures["speedup_vs_sequential"] >= TARGET_SPEEDUP,
        f"warm < {TARGET_WARM_S} s": figures["warm_s"] < TARGET_WARM_S,
        "warm: no data request": figures["warm_requests"] <= 1,  # 1 = the live credential check
    }
    return report(figures, verdicts)


if __name__ == "__main__":
    sys.exit(main())
