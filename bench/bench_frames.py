"""Benchmark of typed frames and segment membership (issue 3, points 6 and 7).

Times `frames.to_frame` on 200,000 records, clean and broken, against a baseline run in the same
process: `pandas.DataFrame.from_records` on the same records (no typing, no checks). Then times
`segments.membership` on the built-in server's users and segments against a baseline of reading
the same attributes into a frame. Prints seconds and the ratio to the baseline; the ratio is the
figure to compare between machines. Usage: `python bench/bench_frames.py [--records N]`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from whatfix_data import segments
from whatfix_data.frames import to_frame
from whatfix_data.simulator import SimulatorConfig, start_background

DEFAULT_RECORDS = 200_000
SEGMENT_USERS = 20_000
REPEATS = 3


def best_of(action: Callable[[], object], repeats: int = REPEATS) -> float:
    """The fastest of `repeats` runs, in seconds (the least disturbed by other jobs)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def task_records(count: int, broken: bool) -> list[dict]:
    """Task-completion records like the API's; `broken` puts four bad fields in every row."""
    rows = []
    for i in range(count):
        total = 4 + (i % 5 == 4)
        done = i % 5
        rows.append({
            "userId": f"u{i}", "userEmail": f"u{i}@example.com", "taskListId": f"t{i % 4}",
            "taskListName": "Onboarding", "completedTasks": done, "totalTasks": total,
            "completionRate": round(100 * done / total, 1),
            "lastActivityAt": "2026-11-20T10:00:00Z",
        })
        if broken:
            rows[-1].update(completedTasks="n/a", totalTasks=-3, completionRate=130,
                            lastActivityAt="yesterday")
    return rows


def report(label: str, seconds: float, baseline: float) -> None:
    """One line: seconds and ratio to the baseline of the same run."""
    print(f"{label:<48} {seconds:7.3f} s   {seconds / baseline:5.1f}x baseline")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=DEFAULT_RECORDS)
    args = parser.parse_args()

    for broken in (False, True):
        records = task_records(args.records, broken)
        baseline = best_of(lambda r=records: pd.DataFrame.from_records(r))
        typed = best_of(lambda r=records: to_frame("task-completion", r))
        kind = "broken (4 bad fields a row)" if broken else "clean"
        print(f"\n{args.records:,} task-completion records, {kind}")
        report("baseline pandas.DataFrame.from_records", baseline, baseline)
        report("frames.to_frame (typed, checked)", typed, baseline)

    config = SimulatorConfig(seed=7, users=SEGMENT_USERS, today=date(2026, 11, 27))
    server = start_background(config)
    try:
        import requests

        account = server.accounts[0]
        headers = {"x-whatfix-integration-key": account.integration_key,
                   "x-whatfix-user": account.user_email}
        base = f"{server.base_url}/{account.account_id}"
        users: list[dict] = []
        page = 1
        with requests.Session() as http:
            while True:
                body = http.get(f"{base}/end-users", params={"page": page, "pageSize": 100},
                                headers=headers, timeout=30).json()
                users += body["data"]
                if page >= body["pagination"]["totalPages"]:
                    break
                page += 1
            segs = http.get(f"{base}/segments", params={"pageSize": 100}, headers=headers,
                            timeout=30).json()["data"]
    finally:
        server.stop()
    users_frame = to_frame("end-users", users).frame
    segments_frame = to_frame("segments", segs).frame
    baseline = best_of(lambda: pd.DataFrame(list(users_frame["attributes"])))
    member = best_of(lambda: segments.membership(users_frame, segments_frame))
    print(f"\n{len(users_frame):,} users x {len(segments_frame)} segments")
    report("baseline: attributes into a frame", baseline, baseline)
    report("segments.membership", member, baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
