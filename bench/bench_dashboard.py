"""Benchmark of the dashboard pages (issues 4 and 12): cold and warm script time per page.

Starts the built-in server in this process (default 20,000 users, 50 ms latency per response),
points the app at its primary account (environment variables, a new SQLite HTTP cache) and runs
`app.py` with Streamlit's AppTest: the first run (Overview), then every page once (cold: what
the first run did not load is fetched), then every page again (warm). For each page it prints
the script time and the API requests the server saw, and the ratio of the time to the physical
limit of those requests (requests / concurrency x latency: what 8 slots on the wire need at
best). The baseline of the same run is the warm Overview: ratios are printed against it too, so
figures compare across machines. The peak RSS is that of this one process: the app *and* the
built-in server (the server alone is printed after its start). The browser's own drawing is not
included; the background warm is off (`WHATFIX_WARM_ON_START=0`) so each page pays its own way.
Usage: `python bench/bench_dashboard.py [--users N] [--latency-ms MS]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from whatfix_data.simulator import SimulatorConfig, start_background  # noqa: E402

TODAY = date(2026, 11, 27)
PAGES = ("pages/overview.py", "pages/flows.py", "pages/self_help.py", "pages/engagement.py",
         "pages/task_lists.py", "pages/segments.py", "pages/content.py", "pages/data_health.py")
APP_TIMEOUT_S = 1800
CONCURRENCY = 8  # the default max_concurrency


def peak_rss_mb() -> float:
    """The peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def point_environment(server, cache: str) -> None:
    """Make the app read the server's primary account, with a fixed today and `cache`."""
    account = server.accounts[0]
    for name in [n for n in os.environ if n.startswith("WHATFIX_")]:
        del os.environ[name]
    os.environ.update({
        "WHATFIX_BASE_URL": server.base_url, "WHATFIX_ACCOUNT_ID": account.account_id,
        "WHATFIX_INTEGRATION_KEY": account.integration_key, "WHATFIX_USER": account.user_email,
        "WHATFIX_CACHE": cache, "WHATFIX_TODAY": TODAY.isoformat(),
        "WHATFIX_WARM_ON_START": "0",
    })


def visit(app: AppTest, server, page: str) -> tuple[float, int]:
    """Switch to `page`, run it; (seconds, API requests) and fail loudly on an exception."""
    before = server.stats()["requests"]
    started = time.perf_counter()
    app.switch_page(page)
    app.run()
    seconds = time.perf_counter() - started
    if app.exception:
        raise SystemExit(f"{page} raised: {app.exception[0].value}")
    return seconds, server.stats()["requests"] - before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--cache", default=None,
                        help="WHATFIX_CACHE of the app (default: a new SQLite file, as "
                             "configured by default; 'memory' keeps every response in RAM)")
    args = parser.parse_args()
    workdir = tempfile.TemporaryDirectory()
    cache = args.cache or str(Path(workdir.name) / "http_cache.sqlite")
    started = time.perf_counter()
    server = start_background(SimulatorConfig(seed=7, users=args.users, today=TODAY,
                                              latency_ms=args.latency_ms))
    print(f"server: {args.users:,} users generated in {time.perf_counter() - started:.1f} s, "
          f"RSS {current_rss_mb():.0f} MB (peak {peak_rss_mb():.0f} MB)", flush=True)
    try:
        point_environment(server, cache)
        os.chdir(REPO_ROOT)
        app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=APP_TIMEOUT_S)
        started = time.perf_counter()
        app.run()  # the first run opens the Overview and loads every KPI dataset, both periods
        first = (time.perf_counter() - started, server.stats()["requests"])
        print(f"first run done: {first[0]:.1f} s, {first[1]} requests", flush=True)
        cold = {page: visit(app, server, page) for page in PAGES}
        after_cold = current_rss_mb()
        warm = {page: visit(app, server, page) for page in PAGES}
    finally:
        server.stop()
        workdir.cleanup()
    per_request = args.latency_ms / 1000 / CONCURRENCY

    def limit_ratio(seconds: float, requests: int) -> str:
        return f"{seconds / (requests * per_request):8.2f}" if requests else f"{'-':>8}"

    baseline = warm["pages/overview.py"][0]
    print(f"{args.users:,} users, {args.latency_ms} ms latency, concurrency {CONCURRENCY}, "
          f"cache {args.cache or 'SQLite file'}; baseline = warm Overview {baseline:.3f} s")
    print(f"first run of app.py (Overview): {first[0]:.2f} s, {first[1]} requests, "
          f"limit {first[1] * per_request:.2f} s, {limit_ratio(*first).strip()}x limit, "
          f"{first[0] / baseline:.1f}x baseline")
    print(f"{'page':<16}{'cold s':>8}{'req':>6}{'x limit':>8}{'x base':>8}"
          f"{'warm s':>9}{'req':>6}{'x base':>8}")
    for page in PAGES:
        (cold_s, cold_n), (warm_s, warm_n) = cold[page], warm[page]
        print(f"{Path(page).stem:<16}{cold_s:8.2f}{cold_n:6d}{limit_ratio(cold_s, cold_n)}"
              f"{cold_s / baseline:8.1f}{warm_s:9.2f}{warm_n:6d}{warm_s / baseline:8.1f}")
    print(f"memory (app + built-in server, one process): peak RSS {peak_rss_mb():.0f} MB, "
          f"{after_cold:.0f} MB after every page's first visit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
