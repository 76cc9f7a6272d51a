"""Single flight: one upstream fetch per dataset key across threads and processes.

Real parts only: the built-in server counts the requests it serves, a real Redis holds the
leases, holders run in their own interpreters and are killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
from support import FIXED_TODAY

from whatfix_data import datasets, single_flight
from whatfix_data.client import WhatfixClient
from whatfix_data.simulator import SimulatorConfig, start_background
from whatfix_data.windows import DateRange

# One worker runs this module: its module-scoped fixtures (servers, loaded data, built packs)
# are then made once, not once per xdist worker (tests/run_all.sh: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_single_flight")

REPO_ROOT = Path(__file__).resolve().parents[1]
PAST = DateRange.from_iso("2026-08-01", "2026-10-29")  # 90 days, all before FIXED_TODAY
KEY = ("scope-of-test", "engagement", PAST, None)
SUBPROCESS_TIMEOUT_S = 120

# A lease holder in its own interpreter: takes the lease of KEY, reports progress, says "held",
# then holds until the file named by argv[2] exists (or until it is killed).
HOLDER = textwrap.dedent(
    """
    import json, os, sys, time
    from whatfix_data import single_flight
    from whatfix_data.config import Settings
    from whatfix_data.windows import DateRange

    single_flight.LEASE_S = float(sys.argv[3])
    single_flight.RENEW_EVERY_S = single_flight.LEASE_S / 3
    settings = Settings(**json.loads(sys.argv[1]))
    key = ("scope-of-test", "engagement", DateRange.from_iso("2026-08-01", "2026-10-29"), None)
    with single_flight.flight(settings, key) as turn:
        turn.progress(300, 1000)
        print("holder" if turn.holder else "waiter", flush=True)
        while not os.path.exists(sys.argv[2]):
            time.sleep(0.02)
    """
)


@pytest.fixture(scope="module")
def slow_server():
    """A server of its own with some latency, so concurrent fetches overlap."""
    server = start_background(SimulatorConfig(seed=11, users=3000, today=FIXED_TODAY,
                                              latency_ms=20))
    try:
        yield server
    finally:
        server.stop()


def _settings_json(settings) -> str:
    return json.dumps({name: getattr(settings, name) for name in settings.__dataclass_fields__},
                      default=str)


def _clean_redis(settings) -> None:
    """An empty HTTP cache namespace and no flight keys: a cold start for every process."""
    with WhatfixClient(settings, verify=False) as client:
        client.cache.clear()
    connection = redis.Redis.from_url(settings.cache)
    keys = list(connection.scan_iter(match=single_flight.KEY_PREFIX + "*"))
    if keys:
        connection.delete(*keys)


@pytest.fixture()
def start_holder():
    """Start lease holders; any still running when the test ends (it failed) is killed."""
    processes: list[subprocess.Popen] = []

    def start(settings, release: Path, lease_s: float = single_flight.LEASE_S):
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, _settings_json(settings), str(release), str(lease_s)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT,
        )
        processes.append(process)
        role = process.stdout.readline().strip()
        assert role == "holder", process.stderr.read()
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture()
def redis_settings(make_settings, redis_url, slow_server):
    settings = make_settings(server=slow_server, cache=redis_url)
    _clean_redis(settings)
    yield settings
    _clean_redis(settings)


# ----------------------------------------------------------------------------- across threads


def test_threads_asking_for_one_cold_dataset_share_one_fetch(make_settings, slow_server):
    datasets.clear_memo()
    settings = make_settings(server=slow_server, cache="memory")
    with WhatfixClient(settings) as client:
        before = slow_server.stats()["requests"]
        with ThreadPoolExecutor(max_workers=5) as pool:
            results = list(pool.map(
                lambda _: datasets.load_dataset(client, "engagement", PAST), range(5)))
        spent = slow_server.stats()["requests"] - before
    pages = -(-results[0].meta.total_count // 100)
    assert spent == pages  # one fetch: every page once, nothing for the four others
    assert {len(r.frame) for r in results} == {results[0].meta.total_count}
    datasets.clear_memo()


# ------------------------------------------------------------------------------ across processes


def _export_all(settings, out: Path) -> subprocess.Popen:
    env = {name: value for name, value in os.environ.items() if not name.startswith("WHATFIX_")}
    env.update({
        "WHATFIX_BASE_URL": settings.base_url, "WHATFIX_ACCOUNT_ID": settings.account_id,
        "WHATFIX_INTEGRATION_KEY": settings.integration_key, "WHATFIX_USER": settings.user,
        "WHATFIX_CACHE": settings.cache, "WHATFIX_TODAY": FIXED_TODAY.isoformat(),
    })
    return subprocess.Popen(
        [sys.executable, "-m", "whatfix_data", "export", "all", "--start", PAST.start.isoformat(),
         "--end", PAST.end.isoformat(), "--out", str(out), "--quiet"],
        env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _run_exports(settings, tmp_path: Path, count: int, server) -> int:
    before = server.stats()["requests"]
    processes = [_export_all(settings, tmp_path / f"run{count}-{i}") for i in range(count)]
    for process in processes:
        _, errors = process.communicate(timeout=SUBPROCESS_TIMEOUT_S)
        assert process.returncode == 0, errors
    return server.stats()["requests"] - before


def test_five_exports_on_one_cold_redis_cost_the_requests_of_one(redis_settings, tmp_path,
                                                                 slow_server):
    alone = _run_exports(redis_settings, tmp_path, 1, slow_server)
    _clean_redis(redis_settings)
    together = _run_exports(redis_settings, tmp_path, 5, slow_server)
    # Each process checks its key once, live (never cached); the data is fetched once.
    assert together <= alone + 4, (alone, together)
    first = (tmp_path / "run1-0" / "engagement.csv").read_bytes()
    assert all((tmp_path / f"run5-{i}" / "engagement.csv").read_bytes() == first
               for i in range(5))


def test_a_waiter_waits_for_the_holder_and_shows_its_progress(redis_settings, tmp_path,
                                                              start_holder):
    release = tmp_path / "release"
    holder = start_holder(redis_settings, release)
    seen: list[tuple[int, int]] = []
    roles: list[bool] = []

    def wait() -> None:
        with single_flight.flight(redis_settings, KEY,
                                  lambda done, total: seen.append((done, total))) as turn:
            roles.append(turn.holder)

    waiter = threading.Thread(target=wait)
    waiter.start()
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.02)
    assert seen == [(300, 1000)] and not roles  # the holder's progress, still waiting
    release.touch()
    holder.wait(timeout=SUBPROCESS_TIMEOUT_S)
    waiter.join(timeout=10)
    assert roles == [False]  # the holder finished: read its result from the cache


def test_a_killed_holder_frees_its_redis_lease_by_expiry(redis_settings, tmp_path,
                                                        start_holder):
    lease_s = 2.0
    holder = start_holder(redis_settings, tmp_path / "never", lease_s)
    time.sleep(lease_s)  # longer than a renewal period: the heartbeat keeps it alive meanwhile
    connection = redis.Redis.from_url(redis_settings.cache)
    lease_key = f"{single_flight.KEY_PREFIX}lease:{single_flight.lease_name(KEY)}"
    assert connection.exists(lease_key)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    started = time.monotonic()
    with single_flight.flight(redis_settings, KEY) as turn:
        waited = time.monotonic() - started
        assert turn.holder  # nobody finished it: this caller fetches
    assert waited <= lease_s + 1


def test_a_killed_holder_frees_its_sqlite_file_lock_at_once(make_settings, slow_server,
                                                            tmp_path, start_holder):
    settings = make_settings(server=slow_server, cache=str(tmp_path / "cache.sqlite"))
    holder = start_holder(settings, tmp_path / "never")
    roles: list[bool] = []

    def wait() -> None:
        with single_flight.flight(settings, KEY) as turn:
            roles.append(turn.holder)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.5)
    assert not roles  # the file lock is held
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    waiter.join(timeout=10)
    assert roles == [True]


def test_clearing_an_account_forgets_its_finished_markers(redis_settings):
    with single_flight.flight(redis_settings, KEY) as turn:
        assert turn.holder
    other = (redis_settings.cache_scope, "flows", PAST, None)
    with single_flight.flight(redis_settings, other) as turn:
        assert turn.holder
    with single_flight.flight(redis_settings, other) as turn:
        assert not turn.holder  # just finished by the first caller
    single_flight.forget_scope(redis_settings)
    with single_flight.flight(redis_settings, other) as turn:
        assert turn.holder  # the scope's marker is gone: fetch under the lease again


# ------------------------------------------------------------------ threads of one process


def _wait_until(condition, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_thread_waiting_for_a_fetch_hears_its_progress_then_gets_its_error():
    """A page joining a fetch another thread started (its prefetch, another session) shows that
    fetch's bar, and after a failure gets the same error at once instead of a second fetch."""
    from whatfix_data.errors import WhatfixError

    name, heard, outcome = "in-process-key", [], {}
    holding, release = threading.Event(), threading.Event()
    failure = WhatfixError("The Whatfix API is down.")

    def holder() -> None:
        with single_flight.local_turn(name) as turn:
            assert turn.failed_before_me is None
            holding.set()
            turn.progress(1, 4)
            release.wait(5)
            turn.progress(3, 4)
            turn.failed(failure)

    def waiter() -> None:
        with single_flight.local_turn(name, lambda done, total: heard.append((done, total))) \
                as turn:
            outcome["error"] = turn.failed_before_me

    first = threading.Thread(target=holder)
    first.start()
    holding.wait(5)
    second = threading.Thread(target=waiter)
    second.start()
    _wait_until(lambda: heard)  # joined mid-fetch: told the progress so far at once
    release.set()
    first.join(5)
    second.join(5)
    assert heard == [(1, 4), (3, 4)]
    assert outcome["error"] is failure
    with single_flight.local_turn(name) as later:  # did not wait for that fetch: its own turn
        assert later.failed_before_me is None
    assert name not in single_flight._local_flights  # nothing kept once nobody asks
