"""What the dashboard's default view loads, and its first fetch on the first run of an app process.

One plan of the Overview's datasets, in the order the page draws them (`overview_waves`), read
by the page's prefetch (pages/overview.py), the warm command (its first phase) and
`start_first_view`: on the first run of an app process, app.py starts the default Overview's
first wave (and the sidebar's segment list) here, before it imports the dashboard's modules.
Those imports (pandas, plotly, the pages) take a second of CPU during which the wire would
otherwise be idle; the page's own loads then join these fetches (single flight) or find them
done. This module imports only the standard library and `windows` at its top, so app.py can
call it before anything heavy is loaded.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from whatfix_data.windows import DateRange, comparison_range, default_granularity, resolve_preset

LOGGER = logging.getLogger(__name__)

# The dashboard's default view (ui.filters.DEFAULT_PRESET / DEFAULT_COMPARE; a test keeps them
# equal): what the first visitor sees and what `warm` fetches by default.
DEFAULT_PRESET = "last_30_days"
DEFAULT_COMPARISON = "previous"
KPI_DATASETS = ("flows", "engagement", "self-help", "task-completion")
SIDEBAR_DATASETS = ("segments",)  # the segment filter's options, drawn before any page

Job = tuple[str, DateRange | None]  # (dataset, range; None for a list)

_first_view_lock = threading.Lock()
_first_view_started = False


def kpi_datasets(segment_id: str | None) -> tuple[str, ...]:
    """What the KPI cards load for one period. Without a segment the Active users card is the
    API's count (``active-users``: one request, not the engagement list's one per 100 users); a
    segment's card counts its members in the ``engagement`` rows. The task-list KPI needs its
    rows either way: the spec's task-completion operation filters by date only, so its total
    cannot say how many rows are complete (docs/PERFORMANCE.md, "Which pages need which lists")."""
    if segment_id is None:
        return tuple("active-users" if name == "engagement" else name for name in KPI_DATASETS)
    return KPI_DATASETS


def active_users_trend_dataset(segment_id: str | None) -> str:
    """The dataset of the active-users trend: the API's count per window without a segment
    (one request per window), every active user's row with one (counted per member)."""
    return "engagement-user-trend" if segment_id else "engagement-trend"


def overview_waves(periods: Sequence[DateRange],
                   segment_id: str | None) -> tuple[list[Job], list[Job]]:
    """(the KPI cards' datasets, the trends') of the Overview for `periods` (the range, then
    the comparison period when there is one): the page draws the cards while the trends come."""
    cards: list[Job] = [(name, period) for period in periods for name in kpi_datasets(segment_id)]
    # When the data begins (a comparison before it is partial): the cards say so.
    cards.append(("content", None))
    if segment_id:
        cards.append(("end-users", None))  # segment membership
    active_trend = active_users_trend_dataset(segment_id)
    trends: list[Job] = [(name, period) for period in periods
                         for name in ("flow-trend", active_trend, "self-help-trend")]
    return cards, trends


def overview_names(segment_id: str | None = None) -> frozenset[str]:
    """Every dataset the Overview loads for any range, with the sidebar's."""
    any_range = DateRange(date.min, date.min)  # the names do not depend on the range
    cards, trends = overview_waves([any_range], segment_id)
    return frozenset((*SIDEBAR_DATASETS, *(name for name, _ in cards + trends)))


def default_periods(today: date) -> tuple[DateRange, ...]:
    """The default view's range and the period it is compared with."""
    date_range = resolve_preset(DEFAULT_PRESET, today)
    previous = comparison_range(date_range, DEFAULT_COMPARISON, preset=DEFAULT_PRESET,
                                granularity=default_granularity(date_range))
    return (date_range,) if previous is None else (date_range, previous)


def start_first_view(secrets: Mapping | None, env: Mapping[str, str]) -> threading.Thread | None:
    """Fetch the default Overview's cards and the segment list in a daemon thread, once per
    process, for a configured account (None otherwise: the demo account's server is started by
    the app's own run, which then fetches as usual).

    For app.py's first run of a process, before its imports: the thread imports what it needs
    itself. Failures are left to the page's own loads, which report them where they belong.
    """
    global _first_view_started
    from whatfix_data import config  # light: the standard library only

    if not config.has_credentials(secrets, env):
        return None
    with _first_view_lock:
        if _first_view_started:
            return None
        _first_view_started = True
    thread = threading.Thread(target=_fetch_first_view, args=(secrets, dict(env)), daemon=True,
                              name="whatfix-first-view")
    thread.start()
    return thread


def _fetch_first_view(secrets: Mapping | None, env: Mapping[str, str]) -> None:
    from whatfix_data import datasets
    from whatfix_data.errors import WhatfixError
    from whatfix_data.session import open_session

    try:
        with open_session(secrets, env).client() as client:
            cards, _ = overview_waves(default_periods(client.today()), None)
            jobs = [*((name, None) for name in SIDEBAR_DATASETS), *cards]

            def load(job: Job) -> None:
                with contextlib.suppress(WhatfixError):  # the page's own load says what failed
                    datasets.load_dataset(client, job[0], job[1])

            with ThreadPoolExecutor(max_workers=len(jobs),
                                    thread_name_prefix="whatfix-first-view") as pool:
                list(pool.map(load, jobs))
    except Exception as exc:  # never fatal: the page loads its data itself
        LOGGER.warning("The first view's early fetch failed (%s)", type(exc).__name__)
