"""`python -m whatfix_data warm [--preset P ...] [--compare C]`: fetch what the default views need.

For cron (e.g. `0 6 * * 1-5`, before the first PM of the day) and for the app, which runs `warm`
in a background thread once per process when it starts on a configured account. It loads every
dataset the dashboard's pages show for each preset (default: the dashboard's default view, last
30 days against the previous period, automatic granularity) into the HTTP cache the app reads
(SQLite file or Redis: the same configuration as the app). The Overview's datasets go first (as
it loads them without a segment: `views.overview_names`), the per-user lists only the other
pages need (end users, engagement rows) after. Windows that ended before
today stay cached forever, so a daily warm only fetches the new days; lists and windows with
today live their TTLs.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tqdm import tqdm

from whatfix_data.client import WhatfixClient
from whatfix_data.datasets import COMPARED_DATASETS, DASHBOARD_DATASETS, load_dataset
from whatfix_data.session import cli_session
from whatfix_data.views import (
    DEFAULT_COMPARISON,
    DEFAULT_PRESET,
    overview_names,
)
from whatfix_data.windows import (
    PRESET_LABELS,
    DateRange,
    comparison_range,
    default_granularity,
    resolve_preset,
)

logger = logging.getLogger(__name__)

WARMABLE_PRESETS = tuple(p for p in PRESET_LABELS if p != "custom")
COMPARISONS = ("none", "previous", "year")
# What the Overview shows without a segment (its KPIs, trends and the sidebar's segment list):
# fetched first, so a visitor who opens it while the warm runs waits for no other page's list
# (the engagement rows, 100 users a request, are the Engagement page's and a segment's).
OVERVIEW_DATASETS = overview_names()

Job = tuple[str, DateRange]  # (dataset, range)


@dataclass(frozen=True)
class WarmedView:
    """One warmed preset: its range, the datasets loaded and what it cost."""

    preset: str
    date_range: DateRange
    datasets: int
    network_requests: int
    seconds: float


def jobs_for(date_range: DateRange, comparison: str, *, preset: str | None = None,
             granularity: str | None = None) -> tuple[list[Job], list[Job]]:
    """(Overview jobs, the other pages' jobs) for one range and its comparison period (the
    period the dashboard compares with for that preset and granularity)."""
    previous = comparison_range(date_range, comparison, preset=preset, granularity=granularity)
    jobs = [(name, date_range) for name in DASHBOARD_DATASETS]
    if previous is not None:
        jobs += [(name, previous) for name in COMPARED_DATASETS]
    first = [job for job in jobs if job[0] in OVERVIEW_DATASETS]
    return first, [job for job in jobs if job[0] not in OVERVIEW_DATASETS]


def warm(client: WhatfixClient, presets: Sequence[str] = (DEFAULT_PRESET,),
         comparison: str = DEFAULT_COMPARISON,
         on_dataset: Callable[[], None] | None = None) -> list[WarmedView]:
    """Load every dataset of the default views of `presets` (memo and HTTP cache filled).

    `on_dataset()` is called after each dataset (for a progress bar). Raises WhatfixError like
    the loaders; datasets already cached cost nothing.
    """
    warmed = []
    for preset in presets:
        date_range = resolve_preset(preset, client.today())
        granularity = default_granularity(date_range)
        before, started = client.network_requests, time.perf_counter()
        phases = jobs_for(date_range, comparison, preset=preset, granularity=granularity)
        for phase in phases:
            _load_all(client, phase, granularity, on_dataset)
        warmed.append(WarmedView(preset, date_range, sum(len(p) for p in phases),
                                 client.network_requests - before,
                                 time.perf_counter() - started))
    return warmed


def _load_all(client: WhatfixClient, jobs: list[Job], granularity: str,
              on_dataset: Callable[[], None] | None) -> None:
    def load(job: Job) -> None:
        load_dataset(client, job[0], job[1], granularity)
        if on_dataset is not None:
            on_dataset()

    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="whatfix-warm") as pool:
        list(pool.map(load, jobs))


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `warm` subcommand."""
    parser = subparsers.add_parser(
        "warm",
        help="fetch what the dashboard's default views need into the cache (for cron)",
        description=__doc__.splitlines()[0].split(": ", 1)[1],
    )
    parser.add_argument("--preset", action="append", choices=WARMABLE_PRESETS, dest="presets",
                        help=f"date range to warm (repeatable; default {DEFAULT_PRESET})")
    parser.add_argument("--compare", choices=COMPARISONS, default=DEFAULT_COMPARISON,
                        help=f"comparison period also fetched (default {DEFAULT_COMPARISON})")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Warm the cache; one line per preset on stderr (failures: handled by whatfix_data.cli)."""
    logging.getLogger().addHandler(logging.NullHandler())
    session = cli_session()  # resolved once; demo mode starts the built-in server
    settings = session.settings
    if settings.demo:
        print("No Whatfix credentials configured: warming the built-in demo account.",
              file=sys.stderr)
    presets = args.presets or [DEFAULT_PRESET]
    with session.client() as client:
        total = sum(len(a) + len(b) for a, b in (
            jobs_for(resolve_preset(p, client.today()), args.compare) for p in presets))
        with tqdm(total=total, unit="dataset", file=sys.stderr, disable=args.quiet,
                  desc="Warming") as bar:
            warmed = warm(client, presets, args.compare, lambda: bar.update(1))
    for view in warmed:
        print(f"Warmed {PRESET_LABELS[view.preset].lower()} ({view.date_range.label()}): "
              f"{view.datasets} datasets in {view.seconds:.1f} s; requests to the API: "
              f"{view.network_requests}", file=sys.stderr)
    return 0
