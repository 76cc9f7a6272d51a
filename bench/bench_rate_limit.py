"""Benchmark of adaptive concurrency against a rate-limited API (issue 12, point 5).

Starts `python -m whatfix_data simulate --rate-limit R` in its own process (50 ms latency) and
sends small uncached requests (one segment per request, `client.map_concurrently` in batches of
200) for a fixed time, from one client and from three clients (browser sessions) of the same
account at once. Small answers keep the client's own CPU out of the figure on a busy box. With 8
requests in flight and 50 ms per answer the client could send 160 requests per second, far above
R: the adaptive window and the shared Retry-After pause must keep it at the limit.

Prints the throughput of answered requests against R (target >= 90 %), the 429s received and
the window at the end. Usage: `python bench/bench_rate_limit.py [--rate-limit R] [--seconds S]`.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from support import demo_settings, report, server_process, sim_stats  # noqa: E402

from whatfix_data.client import WhatfixClient  # noqa: E402
from whatfix_data.errors import WhatfixError  # noqa: E402

DEFAULT_RATE = 40.0
DEFAULT_SECONDS = 20.0
DEFAULT_USERS = 2_000
BATCH = 200
LATENCY_MS = 50
CONCURRENCY = 8
TARGET_SHARE = 0.9


def hammer(settings, seconds: float, sessions: int) -> dict:
    """`sessions` clients fetch the end-user list in a loop until `seconds` have passed."""
    clients = [WhatfixClient(settings) for _ in range(sessions)]
    stop_at = time.monotonic() + seconds
    failures: list[str] = []

    def loop(client: WhatfixClient) -> None:
        while time.monotonic() < stop_at:
            try:
                with client.fetch_scope(deadline_s=max(stop_at - time.monotonic(), 0.1)):
                    client.map_concurrently(lambda n, c=client: c.get_json(
                        "/segments", {"page": 1, "pageSize": 1, "n": n}, kind="live"),
                        range(BATCH))
            except WhatfixError as exc:
                if "WHATFIX_FETCH_DEADLINE_S" not in str(exc):  # the bench's own stop
                    failures.append(type(exc).__name__)
    threads = [threading.Thread(target=loop, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    governor = clients[0].governor
    figures = {"window_at_end": governor.window, "window_cuts": governor.decreases,
               "failures": failures}
    for client in clients:
        client.close()
    return figures


def run(rate: float, seconds: float, users: int) -> dict:
    results = {}
    with server_process(users, LATENCY_MS, 0.0, "--rate-limit", str(rate)) as base_url:
        settings = demo_settings(base_url, "off", CONCURRENCY)
        for sessions in (1, 3):
            time.sleep(1.5)  # the bucket refills: every run starts alike
            before = sim_stats(base_url)["byStatus"]
            started = time.monotonic()
            figures = hammer(settings, seconds, sessions)
            elapsed = time.monotonic() - started
            after = sim_stats(base_url)["byStatus"]
            answered = after.get("200", 0) - before.get("200", 0)
            refused = after.get("429", 0) - before.get("429", 0)
            results[f"{sessions}_session{'s' if sessions > 1 else ''}"] = {
                "seconds": round(elapsed, 1), "answered": answered, "refused_429": refused,
                "throughput_per_s": round(answered / elapsed, 1),
                "share_of_limit": round(answered / elapsed / rate, 3),
                "429_per_answered": round(refused / max(answered, 1), 3), **figures}
    return {"rate_limit": rate, "latency_ms": LATENCY_MS, "max_concurrency": CONCURRENCY,
            "unthrottled_capacity_per_s": CONCURRENCY * 1000 / LATENCY_MS, **results}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate-limit", type=float, default=DEFAULT_RATE)
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS)
    parser.add_argument("--users", type=int, default=DEFAULT_USERS)
    args = parser.parse_args()
    figures = run(args.rate_limit, args.seconds, args.users)
    verdicts = {f"{name}: throughput >= {TARGET_SHARE:.0%} of the limit":
                part["share_of_limit"] >= TARGET_SHARE
                for name, part in figures.items() if isinstance(part, dict)}
    return report(figures, verdicts)


if __name__ == "__main__":
    sys.exit(main())
