"""Cost of a segment's own active-users trend: the API's count per window (one request each)
against every window's per-user list (ceil(active users / 100) requests each), which a segment
needs because the API has no per-segment count. Figures go to docs/PERFORMANCE.md.

    python bench/bench_segment_trend.py [--users 20000] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support import demo_settings, server_process

from whatfix_data import datasets
from whatfix_data.client import WhatfixClient
from whatfix_data.windows import DateRange

CASES = (
    ("last quarter, monthly", DateRange(date(2026, 7, 1), date(2026, 9, 30)), "month"),
    ("last quarter, weekly", DateRange(date(2026, 7, 1), date(2026, 9, 30)), "week"),
    ("last 30 days, daily", DateRange(date(2026, 10, 29), date(2026, 11, 27)), "day"),
)
TRENDS = ("engagement-trend", "engagement-user-trend")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()
    with server_process(args.users, args.latency_ms) as base_url:
        client = WhatfixClient(demo_settings(base_url, cache="off"))
        print("| range | trend | time | requests |\n|---|---|---|---|")
        for label, date_range, granularity in CASES:
            for name in TRENDS:
                started = time.perf_counter()
                dataset = datasets.load_trend(client, TREND_BASE[name], date_range, granularity)
                elapsed = time.perf_counter() - started
                print(f"| {label} | `{name}` | {elapsed:.2f} s | {dataset.meta.requests:,} |")


TREND_BASE = {"engagement-trend": "engagement", "engagement-user-trend": "engagement-users"}

if __name__ == "__main__":
    main()
