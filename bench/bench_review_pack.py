"""Benchmark of the review pack (issue 5): cold and warm build for a 20,000-user account.

Starts `python -m whatfix_data simulate` in its own process (20,000 users, 50 ms latency per
response), then, in this process:

1. cold: a fresh SQLite HTTP cache and no browser yet: `build_review_pack(..., "pptx")`, which
   loads every dataset of the period and its comparison, starts Chromium and renders;
2. warm: the same call again (cache and browser warm), for pptx, pdf and zip;
3. a warm breakdown of the pptx build: loading (from cache), assembling (analytics + figures),
   rendering the chart PNGs, writing the deck.

Prints the figures as JSON and whether the target (warm < 15 s) is met.
Usage: `python bench/bench_review_pack.py [--users N] [--latency-ms MS] [--preset P]`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from support import demo_settings, server_process  # noqa: E402

from whatfix_data import images  # noqa: E402
from whatfix_data.client import WhatfixClient  # noqa: E402
from whatfix_data.review_pack import build_review_pack, load_review_data  # noqa: E402
from whatfix_data.review_pack.assemble import collect_content  # noqa: E402
from whatfix_data.review_pack.build import (  # noqa: E402
    CHART_HEIGHT_PX,
    CHART_SCALE,
    CHART_WIDTH_PX,
)
from whatfix_data.review_pack.deck import build_deck  # noqa: E402
from whatfix_data.windows import default_granularity, resolve_preset, today_for  # noqa: E402

DEFAULT_USERS = 20_000
DEFAULT_LATENCY_MS = 50
DEFAULT_PRESET = "last_90_days"
COMPARISON = "previous"
TARGET_WARM_S = 15.0
FORMATS = ("pptx", "pdf", "zip")


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def warm_breakdown(client: WhatfixClient, date_range: Any) -> dict[str, float]:
    """Seconds per phase of a warm pptx build."""
    load_s, data = timed(lambda: load_review_data(client, date_range, COMPARISON))
    assemble_s, content = timed(lambda: collect_content(
        data, date_range, account=client.settings.account_id, comparison=COMPARISON,
        granularity=default_granularity(date_range)))
    render_s, pngs = timed(lambda: images.figures_to_images(
        [c.figure for c in content.charts], "png", CHART_SCALE, width=CHART_WIDTH_PX,
        height=CHART_HEIGHT_PX))
    write_s, _ = timed(lambda: build_deck(content, pngs))
    return {"load_s": round(load_s, 2), "assemble_s": round(assemble_s, 2),
            "render_pngs_s": round(render_s, 2), "write_pptx_s": round(write_s, 2),
            "charts": len(content.charts), "tables": len(content.tables)}


def run(users: int, latency_ms: int, preset: str) -> dict[str, Any]:
    date_range = resolve_preset(preset, today_for())
    with server_process(users, latency_ms) as base_url, \
            tempfile.TemporaryDirectory(prefix="whatfix-bench-pack-") as folder:
            settings = demo_settings(base_url, str(Path(folder) / "http_cache.sqlite"))
            with WhatfixClient(settings) as client:
                cold_s, deck = timed(
                    lambda: build_review_pack(client, date_range, COMPARISON, "pptx"))
                cold_requests = client.network_requests
                warm: dict[str, float] = {}
                sizes: dict[str, int] = {"pptx_cold": len(deck)}
                for fmt in FORMATS:
                    seconds, data = timed(
                        lambda fmt=fmt: build_review_pack(client, date_range, COMPARISON, fmt))
                    warm[f"{fmt}_s"] = round(seconds, 2)
                    sizes[fmt] = len(data)
                warm_requests = client.network_requests - cold_requests
                breakdown = warm_breakdown(client, date_range)
    return {
        "users": users, "latency_ms": latency_ms, "range": f"{preset} ({date_range.label()})",
        "comparison": COMPARISON, "cold_pptx_s": round(cold_s, 2),
        "cold_requests": cold_requests, "warm": warm, "warm_requests": warm_requests,
        "warm_pptx_breakdown": breakdown, "bytes": sizes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=DEFAULT_USERS)
    parser.add_argument("--latency-ms", type=int, default=DEFAULT_LATENCY_MS)
    parser.add_argument("--preset", default=DEFAULT_PRESET)
    args = parser.parse_args()
    figures = run(args.users, args.latency_ms, args.preset)
    print(json.dumps(figures, indent=2))
    slowest = max(figures["warm"].values())
    met = slowest < TARGET_WARM_S
    print(f"{'MET ' if met else 'MISS'}  warm < {TARGET_WARM_S:.0f} s (slowest format {slowest} s)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
