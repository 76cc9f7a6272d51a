"""Benchmark of the dashboard pages (issues 4 and 12): cold and warm script time per page.

Starts the built-in server in this process (default 20,000 users, 50 ms latency per response),
points the app at its primary account (environment variables, a new SQLite HTTP cache) and runs
`app.py` with Streamlit's AppTest: the first run (Overview), then every page once (cold: what
the first run did not load is fetched), then every page again (warm). For each page it prints
the script time and the API requests the server saw, and the ratio of the time to the physical
limit of those requests (requests / concurrency x latency: what 8 slots on the wire need at
best; never less than one latency, which even a single request waits). The baseline of the
same run is the warm Overview: ratios are printed against it too, so figures compare across
machines. The peak RSS is that of this one process: the app *and* the
built-in server (the server alone is printed after its start). The browser's own drawing is not
included; the background warm is off (`WHATFIX_WARM_ON_START=0`) so each page pays its own way.
The RSS is also sampled every 50 ms and its peak kept per step (which page, cold or warm), and
the box's load average is printed with each figure (the 2 cores are shared). "x (limit +
drawing)" divides by the limit plus the page's drawing (its warm time): a page of 2 requests
is mostly drawing, which the limit alone does not count. Every AppTest gets the component scan
a Streamlit server does once when it starts, done before any timing (`new_app`).
Usage: `python bench/bench_dashboard.py [--users N] [--latency-ms MS] [--cache memory]
[--server-process | --base-url URL]` (`--server-process`: the bench starts the server as its own
process, as a real API is: the times are then the app's alone, without the server's handling on
the same GIL; `--base-url`: an already running `python -m whatfix_data simulate`).
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import support  # noqa: E402
from streamlit.components.v2.component_manager import BidiComponentManager  # noqa: E402
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


class RssSampler:
    """Samples this process's RSS every `interval_s` in a thread and keeps the peak per step, so
    the report says which step (server start, first run, a page's first visit) makes the peak."""

    def __init__(self, interval_s: float = 0.05) -> None:
        self.step = "start"
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval_s,), daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            rss = current_rss_mb()
            if rss > self.peaks.get(self.step, 0.0):
                self.peaks[self.step] = rss

    def report(self) -> str:
        top = sorted(self.peaks.items(), key=lambda item: -item[1])[:5]
        return ", ".join(f"{step} {mb:.0f} MB" for step, mb in top)


def load_average() -> str:
    """The box's 1-minute load average (the bench shares 2 cores with other work)."""
    return f"{os.getloadavg()[0]:.1f}"


@functools.cache
def _components() -> BidiComponentManager:
    manager = BidiComponentManager()
    manager.discover_and_register_components(start_file_watching=False)
    return manager


def new_app() -> AppTest:
    """A new AppTest of app.py: a new browser session of a running Streamlit server.

    A Streamlit server scans the installed packages for components once, when it starts
    (`streamlit/runtime/runtime.py`). AppTest scans on each instance's first run (0.2 s of CPU
    on this box), which no visitor of a running app waits for. So the scan is done once, before
    any timing (`main` calls `_components()`), and handed to every AppTest through its private
    `_bidi_component_manager`, which AppTest fills itself otherwise.
    """
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=APP_TIMEOUT_S)
    app._bidi_component_manager = _components()
    return app


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


def visit(app: AppTest, server, page: str, sampler: RssSampler | None = None,
          step: str = "") -> tuple[float, int]:
    """Switch to `page`, run it; (seconds, API requests) and fail loudly on an exception."""
    if sampler is not None:
        sampler.step = f"{Path(page).stem} {step}".strip()
    before = server.stats()["requests"]
    started = time.perf_counter()
    app.switch_page(page)
    app.run()
    seconds = time.perf_counter() - started
    if app.exception:
        raise SystemExit(f"{page} raised: {app.exception[0].value}")
    return seconds, server.stats()["requests"] - before


def overview_on_cold_data(server, sampler: RssSampler) -> tuple[float, int]:
    """The Overview of a new session in this already running app process, with the account's
    cached data cleared (what Refresh does): the modules are imported, the data is not there.
    What the first PM of the day sees when the app was started earlier and no warm ran."""
    from whatfix_data import datasets
    from whatfix_data.session import cli_session

    with cli_session().client() as client:  # the same account and cache as the app's
        datasets.clear_account(client)
    sampler.step = "overview, cold data, running app"
    app = new_app()
    before = server.stats()["requests"]
    started = time.perf_counter()
    app.run()
    if app.exception:
        raise SystemExit(f"the Overview on cold data raised: {app.exception[0].value}")
    return time.perf_counter() - started, server.stats()["requests"] - before


class RemoteServer:
    """A built-in server running as its own process (`--base-url`): its stats over HTTP."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.accounts = [support.DEMO_ACCOUNTS[0]]  # `simulate` serves the demo credentials

    def stats(self) -> dict:
        return support.sim_stats(self.base_url)

    def stop(self) -> None:
        """Nothing to stop: whoever started the process stops it."""


class ServerProcess(RemoteServer):
    """`python -m whatfix_data simulate` started by this bench (`--server-process`): the app's
    process then holds only the app, as against a real API, and the server's GIL is its own."""

    def __init__(self, users: int, latency_ms: int) -> None:
        self.process, base_url = support.start_server_process(
            users, latency_ms, 0.0, "--today", TODAY.isoformat())
        super().__init__(base_url)

    def peak_rss_mb(self) -> float:
        """The server process's peak resident memory (VmHWM) so far."""
        with open(f"/proc/{self.process.pid}/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024

    def stop(self) -> None:
        support.stop_server_process(self.process)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--base-url", default=None,
                        help="an already running built-in server (`python -m whatfix_data "
                             "simulate --users N --latency-ms MS --today 2026-11-27`), e.g. for "
                             "1,000,000 users: its RSS is then not in this process's figure")
    parser.add_argument("--server-process", action="store_true",
                        help="start the built-in server as its own process (as a real API is), "
                             "so this process's CPU and RSS are the app's alone")
    parser.add_argument("--cache", default=None,
                        help="WHATFIX_CACHE of the app (default: a new SQLite file, as "
                             "configured by default; 'memory' keeps every response in RAM)")
    args = parser.parse_args()
    workdir = tempfile.TemporaryDirectory()
    cache = args.cache or str(Path(workdir.name) / "http_cache.sqlite")
    with RssSampler() as sampler:
        started = time.perf_counter()
        sampler.step = "server start"
        if args.base_url:
            server = RemoteServer(args.base_url)
            print(f"server: {args.base_url} (its own process; load {load_average()})")
        elif args.server_process:
            server = ServerProcess(args.users, args.latency_ms)
            print(f"server: {args.users:,} users in its own process, ready in "
                  f"{time.perf_counter() - started:.1f} s, load {load_average()}", flush=True)
        else:
            server = start_background(SimulatorConfig(seed=7, users=args.users, today=TODAY,
                                                      latency_ms=args.latency_ms))
            print(f"server: {args.users:,} users generated in "
                  f"{time.perf_counter() - started:.1f} s, RSS {current_rss_mb():.0f} MB "
                  f"(peak {peak_rss_mb():.0f} MB), load {load_average()}", flush=True)
        try:
            point_environment(server, cache)
            os.chdir(REPO_ROOT)
            _components()  # what the Streamlit server does when it starts (see new_app)
            app = new_app()
            sampler.step = "first run"
            before = server.stats()["requests"]
            started = time.perf_counter()
            app.run()  # the first run opens the Overview: every KPI dataset, both periods
            first = (time.perf_counter() - started, server.stats()["requests"] - before)
            if app.exception:
                raise SystemExit(f"the first run raised: {app.exception[0].value}")
            print(f"first run done: {first[0]:.1f} s, {first[1]} requests, load "
                  f"{load_average()}", flush=True)
            cold = {}
            for page in PAGES:
                cold[page] = visit(app, server, page, sampler, "cold")
                print(f"  {Path(page).stem} cold: {cold[page][0]:.1f} s, {cold[page][1]} "
                      f"requests, load {load_average()}", flush=True)
            after_cold = current_rss_mb()
            warm = {page: visit(app, server, page, sampler, "warm") for page in PAGES}
            running = overview_on_cold_data(server, sampler)
            server_rss = server.peak_rss_mb() if isinstance(server, ServerProcess) else None
        finally:
            server.stop()
            workdir.cleanup()
    per_request = args.latency_ms / 1000 / CONCURRENCY

    def limit_s(requests: int) -> float:
        """requests / concurrency x latency, and never less than one round trip: fewer requests
        than slots still wait one latency (2 requests at 50 ms take 50 ms, not 12.5)."""
        return max(requests * per_request, args.latency_ms / 1000 if requests else 0.0)

    def limit_ratio(seconds: float, requests: int) -> str:
        if not requests or not per_request:
            return f"{'-':>8}"
        return f"{seconds / limit_s(requests):8.2f}"

    def with_drawing(seconds: float, requests: int, drawing_s: float) -> str:
        """The time against the limit plus the page's own drawing (its warm time): what a page
        of few requests costs beyond drawing, which the limit alone cannot show."""
        if not requests or not per_request:
            return f"{'-':>8}"  # no fetch: cold against warm is not a limit
        return f"{seconds / (limit_s(requests) + drawing_s):8.2f}"

    baseline = warm["pages/overview.py"][0]
    who = f"the server at {args.base_url}" if args.base_url else f"{args.users:,} users"
    if args.server_process:
        who += " (server in its own process)"
    print(f"{who}, {args.latency_ms} ms latency, concurrency {CONCURRENCY}, "
          f"cache {args.cache or 'SQLite file'}; baseline = warm Overview {baseline:.3f} s; "
          f"load average at the end {load_average()}")
    print(f"first run of app.py (Overview): {first[0]:.2f} s, {first[1]} requests, "
          f"limit {limit_s(first[1]):.2f} s, x limit {limit_ratio(*first).strip()}, "
          f"x (limit + drawing) {with_drawing(*first, baseline).strip()}, "
          f"{first[0] / baseline:.1f}x baseline")
    print(f"Overview of a new session in the running app, its data cleared: {running[0]:.2f} s, "
          f"{running[1]} requests, limit {limit_s(running[1]):.2f} s, x limit "
          f"{limit_ratio(*running).strip()}, x (limit + drawing) "
          f"{with_drawing(*running, baseline).strip()}")
    print(f"{'page':<16}{'cold s':>8}{'req':>6}{'x limit':>8}{'x l+draw':>9}{'x base':>8}"
          f"{'warm s':>9}{'req':>6}{'x base':>8}")
    for page in PAGES:
        (cold_s, cold_n), (warm_s, warm_n) = cold[page], warm[page]
        print(f"{Path(page).stem:<16}{cold_s:8.2f}{cold_n:6d}{limit_ratio(cold_s, cold_n)}"
              f"{with_drawing(cold_s, cold_n, warm_s):>9}{cold_s / baseline:8.1f}"
              f"{warm_s:9.2f}{warm_n:6d}{warm_s / baseline:8.1f}")
    where = "app only, the server is its own process" if args.base_url or args.server_process \
        else "app + built-in server, one process"
    print(f"memory ({where}): peak RSS {peak_rss_mb():.0f} MB, {after_cold:.0f} MB after "
          f"every page's first visit; highest steps: {sampler.report()}")
    if server_rss is not None:
        print(f"memory of the server process: peak RSS {server_rss:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
