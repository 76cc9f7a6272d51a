"""Benchmark of the account's concurrency window (`pacing.AccountGovernor`): CPU per request
as more threads wait for a slot.

A dashboard page fetches several datasets at once, each list with up to `max_concurrency` page
workers, so dozens of threads can wait on one account's window of 8. Each "request" here holds
a slot for 20 ms (a sleep: on the wire, no CPU); the figure is the process's CPU time per
request spent handing out slots. Baseline of the same run: 8 threads (no one waits long).
Before 2 Dec 2026 every answer woke every waiter (0.5 ms of CPU per request with 48 threads,
15x the baseline); a release now wakes one waiter per free slot.
Usage: `python bench/bench_governor.py`.
"""

from __future__ import annotations

import resource
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from whatfix_data.pacing import AccountGovernor

WINDOW = 8
REQUESTS = 960
HOLD_S = 0.02
THREADS = (8, 24, 48)


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(threads: int) -> tuple[float, float]:
    """(wall seconds, CPU ms per request) of REQUESTS requests shared by `threads` threads."""
    governor = AccountGovernor(WINDOW)

    def work() -> None:
        for _ in range(REQUESTS // threads):
            governor.acquire(None)
            time.sleep(HOLD_S)
            governor.release(200, HOLD_S)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    cpu_before, started = cpu_s(), time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started, (cpu_s() - cpu_before) / REQUESTS * 1000


def main() -> int:
    limit = REQUESTS / WINDOW * HOLD_S
    results = {threads: run(threads) for threads in THREADS}
    baseline = results[THREADS[0]][1]
    print(f"{REQUESTS} requests, window {WINDOW}, {HOLD_S * 1000:.0f} ms each: limit {limit:.2f} s")
    print(f"{'threads':>8}{'wall s':>9}{'x limit':>9}{'CPU ms/req':>12}{'x base':>8}")
    for threads, (wall, cpu_ms) in results.items():
        print(f"{threads:8d}{wall:9.2f}{wall / limit:9.2f}{cpu_ms:12.3f}{cpu_ms / baseline:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
