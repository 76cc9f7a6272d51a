"""Benchmark of the built-in server (issue 2): start time, memory and request time by account size.

For each user count, starts `python -m whatfix_data simulate --port 0` in a fresh process and
measures the time until it prints its URL, then its resident memory (VmRSS and VmHWM from /proc),
then the time of a few typical requests. The baseline of the same run is the start of a process
that only imports the package (`python -c "import whatfix_data.simulator"`): start figures are
printed as seconds and as that baseline plus generation. Usage:
`python bench/bench_simulator.py [--users 2000 200000]`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from whatfix_data.simulator import DEMO_ACCOUNTS  # noqa: E402

DEFAULT_USERS = (2_000, 200_000)
START_TIMEOUT_S = 300
REQUESTS = (
    ("segments", {}),
    ("end-users", {"pageSize": 100}),
    ("analytics/flows", {"startDate": "2026-08-30", "endDate": "2026-11-27"}),
    ("analytics/end-users", {"startDate": "2026-08-30", "endDate": "2026-11-27", "pageSize": 100}),
    ("analytics/task-completion", {"startDate": "2026-08-30", "endDate": "2026-11-27",
                                   "pageSize": 100}),
)


def import_baseline_s() -> float:
    """Seconds for a process that only imports the server package."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import whatfix_data.simulator"], cwd=REPO_ROOT,
                   check=True)
    return time.perf_counter() - started


def memory_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def measure(users: int, baseline_s: float) -> None:
    """Start a server of `users` users, print start time, memory and request times, stop it."""
    account = DEMO_ACCOUNTS[0]
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "whatfix_data", "simulate", "--port", "0", "--users", str(users),
         "--today", "2026-11-27"], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        base_url = process.stdout.readline().strip()
        start_s = time.perf_counter() - started
        rss, peak = memory_mb(process.pid)
        print(f"\n{users:,} users: URL printed after {start_s:.2f} s "
              f"(import-only process: {baseline_s:.2f} s, so {start_s - baseline_s:.2f} s of "
              f"generation); RSS {rss:.0f} MB, peak {peak:.0f} MB")
        headers = {"x-whatfix-integration-key": account.integration_key,
                   "x-whatfix-user": account.user_email}
        with requests.Session() as http:
            for path, params in REQUESTS:
                times = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    response = http.get(f"{base_url}/{account.account_id}/{path}", params=params,
                                        headers=headers, timeout=60)
                    response.raise_for_status()
                    times.append((time.perf_counter() - t0) * 1000)
                print(f"  {path:<28} first {times[0]:7.1f} ms   then {min(times[1:]):6.1f} ms")
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=list(DEFAULT_USERS))
    args = parser.parse_args()
    baseline = import_baseline_s()
    for users in args.users:
        measure(users, baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
