"""Datasets: one generic loader, driven by each dataset's `whatfix_data.registry` spec.

client (HTTP + cache) + windows (date splits) + frames (typed frames): every load returns a
`Dataset(name, frame, findings, meta)`. How a dataset is fetched is its spec's kind: a paginated
list, one response for a range, a paginated list for a range, a report (with its extra params), or
a trend: the range split with `windows.split_range`, the windows fetched concurrently (within the
client's concurrency bound). The `load_*` functions are thin names for `fetch`.

The engagement trend is deliberately aggregated (its spec has a `window_count` column): per
window it holds `active_users`, the `totalCount` of the engagement list for that window, read from
one request with pageSize=1. Fetching every engagement row of every window would cost (active
users / 100) requests per window (about 150 per weekly window for 20,000 users); one request per
window keeps the trend cheap and the number exact (the API's own count of users with activity in
the window). `engagement-user-trend` is that costly kind, for segments.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from whatfix_data import exports, frames, registry, single_flight
from whatfix_data.cache import FOREVER, NOT_KEPT, lifetime_s
from whatfix_data.client import (
    KIND_LIST,
    KIND_WINDOW,
    FetchMeta,
    WhatfixClient,
    total_count,
)
from whatfix_data.config import CACHE_OFF
from whatfix_data.errors import BadResponseError, FetchCancelledError, WhatfixError
from whatfix_data.pacing import carry_scope
from whatfix_data.registry import DatasetSpec
from whatfix_data.windows import DateRange, Window, comparison_range, split_range

Progress = Callable[[int, int], None]  # (done, total)

# Views of the registry, under the names callers know.
DATASETS: tuple[str, ...] = registry.EXPORTED  # names accepted by `export`
COMPARED_DATASETS: tuple[str, ...] = registry.COMPARED  # also loaded for the comparison period
DASHBOARD_DATASETS: tuple[str, ...] = registry.DASHBOARD  # what `load_dashboard` loads
# Trend key of `load_trend` ("flows") -> name of the trend dataset ("flow-trend").
TREND_NAMES: dict[str, str] = {s.trend_key: s.name for s in registry.SPECS if s.is_trend}


@dataclass(frozen=True)
class Dataset:
    """A typed frame, its data-quality findings, and where the data came from."""

    name: str
    frame: pd.DataFrame = field(repr=False)
    findings: list = field(repr=False)
    meta: FetchMeta


def _dataset(name: str, records: list[dict], meta: FetchMeta) -> Dataset:
    result = frames.to_frame(name, records)
    return Dataset(name, result.frame, list(result.findings), meta)


def _data_list(payload: dict, path: str) -> list[dict]:
    """The `data` array of a non-paginated response, or BadResponseError."""
    data = payload.get("data")
    if not isinstance(data, list):  # items that are not objects are dropped by frames
        raise BadResponseError(
            f"The Whatfix API sent {path} without its list of results, unlike its documented "
            "format. Try again later; if it persists, report it to Whatfix support.",
            operation=path,
        )
    return data


# --------------------------------------------------------------------------- the generic loader


def fetch(client: WhatfixClient, name: str, date_range: DateRange | None = None, *,
          granularity: str = "week", refresh: bool = False,
          progress: Progress | None = None) -> Dataset:
    """Load one dataset now, as its registry spec says (no memo: `load_dataset` adds it).

    Lists ignore `date_range`; `refresh=True` asks the API for a list bypassing the HTTP cache and
    stores the fresh copy in the HTTP cache and the memo. `progress(done, total)` gets rows
    (paginated), windows (trends) or 1 of 1.
    """
    spec = registry.get(name)
    if spec.dated and date_range is None:
        raise ValueError(f"the dataset {name!r} needs a date range")
    if spec.is_trend:
        return load_trend(client, spec.trend_key, date_range, granularity, progress)
    if spec.kind == registry.COUNT:
        return _counted_range(client, spec, date_range, progress)
    if spec.kind == registry.LIST:
        result = client.get_all_pages(spec.path, dict(spec.params) or None, kind=KIND_LIST,
                                      id_field=spec.id_field, refresh=refresh, name=name,
                                      progress=progress)
        return _listed(client, name, result.records, result.meta, refresh)
    records, meta = _range_records(client, spec, date_range, progress)
    return _dataset(name, records, meta)  # frames ranks a ranked report in the API's order


def _range_records(client: WhatfixClient, spec: DatasetSpec, date_range: DateRange,
                   progress: Progress | None = None) -> tuple[list[dict], FetchMeta]:
    """The raw records of a dated dataset for the range: every page, or the one response."""
    params = {**date_range.params(), **dict(spec.params)}
    if spec.paginated:
        result = client.get_all_pages(spec.path, params, kind=KIND_WINDOW,
                                      id_field=spec.id_field, name=spec.name, progress=progress)
        return result.records, result.meta
    records, meta = _window_records(client, spec, params)
    if progress is not None:
        progress(1, 1)
    return records, meta


def _listed(client: WhatfixClient, name: str, records: list[dict], meta: FetchMeta,
            refresh: bool) -> Dataset:
    """A list dataset; a refreshed one replaces the memoized copy (the HTTP cache has it too)."""
    dataset = _dataset(name, records, meta)
    if refresh:
        _remember(client, name, None, "week", dataset)
    return dataset


def _window_records(client: WhatfixClient, spec: DatasetSpec,
                    params: dict) -> tuple[list[dict], FetchMeta]:
    result = client.get_json(spec.path, params, kind=KIND_WINDOW)
    records = _data_list(result.payload, spec.path)
    meta = FetchMeta.combine([result.meta], rows=len(records))
    return records, meta


# --------------------------------------------------------- named loaders (thin, for callers)


def load_end_users(client: WhatfixClient, *, refresh: bool = False,
                   progress: Progress | None = None) -> Dataset:
    """Every end user (paginated list, cached for the list TTL; `refresh` as in `fetch`), e.g.
    to diff a sync against what the API holds, then show the synced users."""
    return fetch(client, "end-users", refresh=refresh, progress=progress)


def load_content(client: WhatfixClient, progress: Progress | None = None) -> Dataset:
    """Every content item (flows, tooltips, task lists, ...)."""
    return fetch(client, "content", progress=progress)


def load_segments(client: WhatfixClient, *, refresh: bool = False,
                  progress: Progress | None = None) -> Dataset:
    """Every segment with its rules and userCount (`refresh` as in `fetch`)."""
    return fetch(client, "segments", refresh=refresh, progress=progress)


def load_flows(client: WhatfixClient, date_range: DateRange) -> Dataset:
    """Flow analytics (views, completions, rate, time to complete) for the range."""
    return fetch(client, "flows", date_range)


def load_popular_flows(client: WhatfixClient, date_range: DateRange) -> Dataset:
    """The most-popular-flows report (JSON), ranked 1..n in the API's order."""
    return fetch(client, "popular-flows", date_range)


def load_popular_flows_csv(client: WhatfixClient, date_range: DateRange) -> bytes:
    """The most-popular-flows report as the API formats it (format=csv), made safe to open:
    its text cleaned like every frame's (frames.clean_text) and formula cells neutralised by the
    project's one guard (exports). Numbers are untouched, so its rows agree with the JSON."""
    params = {**date_range.params(), "format": "csv"}
    raw = client.get_bytes(registry.get("popular-flows").path, params, kind=KIND_WINDOW).payload
    return exports.neutralise_csv_bytes(raw, clean=frames.clean_text)


def load_self_help(client: WhatfixClient, date_range: DateRange) -> Dataset:
    """Self Help content views for the range."""
    return fetch(client, "self-help", date_range)


def load_engagement(client: WhatfixClient, date_range: DateRange,
                    progress: Progress | None = None) -> Dataset:
    """Per-user engagement for the range (paginated; `progress(rows, total)` per page)."""
    return fetch(client, "engagement", date_range, progress=progress)


def load_task_completion(client: WhatfixClient, date_range: DateRange,
                         progress: Progress | None = None) -> Dataset:
    """Per-user, per-task-list completion for the range (paginated; id = user + task list)."""
    return fetch(client, "task-completion", date_range, progress=progress)


# --------------------------------------------------------------------------------- trends


def _window_total(client: WhatfixClient, spec: DatasetSpec,
                  window: Window) -> tuple[int, FetchMeta]:
    """The base list's totalCount for the window (e.g. users with activity): pageSize=1."""
    path = registry.get(spec.trend_base).path
    params = {**window.params(), "page": 1, "pageSize": 1}
    result = client.get_json(path, params, kind=KIND_WINDOW)
    total = total_count(result.payload, f"the {spec.window_count.replace('_', ' ')} of "
                        f"{window.label}", client.settings.max_rows)
    return total, result.meta


def _counted_trend(client: WhatfixClient, spec: DatasetSpec, windows: list[Window],
                   progress: Progress | None) -> Dataset:
    done = _Counter(len(windows), progress)

    def fetch_window(window: Window) -> tuple[int, FetchMeta]:
        outcome = _window_total(client, spec, window)
        done.step()
        return outcome

    results = client.map_concurrently(fetch_window, windows)
    column = spec.window_count
    pairs = [(window, pd.DataFrame({column: pd.array([count], dtype="Int64")}))
             for window, (count, _meta) in zip(windows, results, strict=True)]
    frame = frames.trend_frame(pairs)
    if frame.empty:
        frame[column] = pd.array([], dtype="Int64")
    meta = FetchMeta.combine((m for _, m in results), rows=len(frame))
    return Dataset(spec.name, frame, [], meta)


def _counted_range(client: WhatfixClient, spec: DatasetSpec, date_range: DateRange,
                   progress: Progress | None) -> Dataset:
    """One row: the base list's totalCount for the whole range (one request, pageSize=1)."""
    window = Window(date_range.start, date_range.end, date_range.label(), False)
    count, meta = _window_total(client, spec, window)
    if progress is not None:
        progress(1, 1)
    frame = pd.DataFrame({spec.window_count: pd.array([count], dtype="Int64")})
    return Dataset(spec.name, frame, [], FetchMeta.combine([meta], rows=1))


class _Counter:
    """Thread-safe progress reporting (done, total)."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self.progress = total, 0, progress
        self._lock = threading.Lock()

    def step(self) -> None:
        if self.progress is None:
            return
        with self._lock:
            self.done += 1
            self.progress(self.done, self.total)


def load_trend(client: WhatfixClient, dataset: str, date_range: DateRange, granularity: str,
               progress: Progress | None = None) -> Dataset:
    """One row group per window ("flows", "self-help", "engagement-users": base rows;
    "engagement": one count of active users per window); a trend's own name works too.

    Windows come from `windows.split_range` (partial first/last windows flagged) and are fetched
    concurrently; `progress(done, total)` is called after each window.
    """
    spec = registry.trend(dataset)
    windows = split_range(date_range, granularity)
    if spec.window_count:
        return _counted_trend(client, spec, windows, progress)
    done = _Counter(len(windows), progress)

    base = registry.get(spec.trend_base)

    def fetch_window(window: Window) -> tuple[list[dict], FetchMeta]:
        result = _range_records(client, base, window.date_range)
        done.step()
        return result

    parts = client.map_concurrently(fetch_window, windows)
    # Typed once for all windows: pandas' fixed cost per frame was most of a trend's CPU.
    typed = frames.window_records_frame(
        base.name, [(w, records) for w, (records, _) in zip(windows, parts, strict=True)])
    meta = FetchMeta.combine((m for _, m in parts), rows=len(typed.frame))
    return Dataset(spec.name, typed.frame, list(typed.findings), meta)


# ------------------------------------------------------------------------------ in-memory memo
# The one in-process copy of finished datasets, shared by every caller of this process (all
# browser sessions of the app, the CLI's threads). How long an entry lives is the cache policy's
# answer (`cache.lifetime_s`: a window that ended before today forever, a window with today
# ttl_today_s, a list ttl_lists_s), the same rule as the HTTP cache below it. It spares a warm
# repeat the per-response cache reads and the frame building (hundreds of pages for a large
# account; measured in docs/PERFORMANCE.md); the HTTP cache stays the one shared across
# processes and restarts. Keys carry the cache scope (account + key fingerprint); hits still
# re-check the credentials. Callers get shallow copies: pandas' copy-on-write keeps a caller's
# new column or edited cell out of the memo without copying the data (one copy of each frame
# per process, however many sessions read it).
MEMO_MAX_ENTRIES = 128
LIST_DATASETS = registry.LISTS
_memo: OrderedDict[tuple, tuple[float | None, Dataset]] = OrderedDict()
_memo_lock = threading.Lock()


def clear_memo() -> None:
    """Forget every memoized dataset (e.g. after an end-user sync changed the lists)."""
    with _memo_lock:
        _memo.clear()


def clear_account(client: WhatfixClient) -> int:
    """Forget this client's scope only: its cached HTTP responses and its memoized datasets.

    Other accounts (and other keys of this account) keep theirs, in the memo and in a shared
    cache. Returns the number of HTTP responses deleted.
    """
    scope = client.settings.cache_scope
    with _memo_lock:
        for key in [k for k in _memo if k[0] == scope]:
            del _memo[key]
    deleted = client.clear_cache()
    single_flight.forget_scope(client.settings)  # the next fetch is shared again
    return deleted


def forget_lists(cache_scope: str) -> None:
    """After a user sync: the memoized user list and segment counts of that account are outdated.

    Registered by `user_sync.remote` (its `on_account_change`), which calls it once per sync."""
    with _memo_lock:
        for key in [k for k in _memo if k[0] == cache_scope and k[1] in LIST_DATASETS]:
            del _memo[key]


def _memo_lifetime(client: WhatfixClient, name: str, date_range: DateRange | None) -> int | None:
    """Seconds a dataset may be reused: `cache.lifetime_s` of its kind and range (None = forever,
    NOT_KEPT = not at all, also when no cache is configured: then every caller asks the API)."""
    if client.settings.cache == CACHE_OFF:
        return NOT_KEPT
    kind = KIND_LIST if name in LIST_DATASETS else KIND_WINDOW
    return lifetime_s(kind, date_range, client.settings, client.today())


def _shared_copy(dataset: Dataset, **changes: Any) -> Dataset:
    """A copy whose frame shares the data copy-on-write (no rows copied; see the memo above)."""
    return replace(dataset, frame=dataset.frame.copy(deep=False),
                   findings=list(dataset.findings), **changes)


def _memo_get(client: WhatfixClient, key: tuple) -> Dataset | None:
    with _memo_lock:
        entry = _memo.get(key)
        if entry is None:
            return None
        expires_at, dataset = entry
        if expires_at is not None and time.monotonic() >= expires_at:
            del _memo[key]
            return None
        _memo.move_to_end(key)
    client.verify_credentials()  # a revoked key gets its 401 here too
    age = (datetime.now(UTC) - dataset.meta.fetched_at).total_seconds()
    return _shared_copy(dataset, meta=replace(dataset.meta, from_cache=True, age_s=max(age, 0.0),
                                              network_requests=0))


def _memo_put(key: tuple, lifetime: int | None, dataset: Dataset) -> None:
    if dataset.meta.stale:
        return  # an outage copy is served, never remembered
    expires_at = None
    if lifetime is not FOREVER:
        left = lifetime - dataset.meta.age_s  # it lives as long as its oldest cached response
        if left <= 0:
            return
        expires_at = time.monotonic() + left
    with _memo_lock:
        _memo[key] = (expires_at, _shared_copy(dataset))
        _memo.move_to_end(key)
        while len(_memo) > MEMO_MAX_ENTRIES:
            _memo.popitem(last=False)


def load_dataset(client: WhatfixClient, name: str, date_range: DateRange | None,
                 granularity: str = "week", progress: Progress | None = None) -> Dataset:
    """Load a dataset by its export name (see DATASETS; "engagement-trend" too), memoized.

    Lists ignore `date_range` (it may be None for them). A cold load is fetched once, whoever
    asks: threads of this process and processes sharing the cache take turns per dataset key
    (`single_flight`); those that waited read what the first one fetched from the memo or the
    HTTP cache. `progress(done, total)` gets rows (paginated lists), windows (trends) or 1 of 1.
    """
    lifetime = _memo_lifetime(client, name, date_range)
    if lifetime == NOT_KEPT:  # no cache: every caller asks the API itself
        return _load_fresh(client, name, date_range, granularity, progress)
    key = _memo_key(client, name, date_range, granularity)
    if (memoized := _memo_get(client, key)) is not None:
        return _reported(memoized, progress)
    with single_flight.local_turn(single_flight.lease_name(key), progress) as local:
        if (memoized := _memo_get(client, key)) is not None:  # another thread just loaded it
            return _reported(memoized, progress)
        if local.failed_before_me is not None:  # the fetch this thread waited for failed
            raise local.failed_before_me
        try:
            with single_flight.flight(client.settings, key, local.progress) as turn:
                dataset = _load_fresh(client, name, date_range, granularity, turn.progress)
        except FetchCancelledError:
            raise  # its caller left: whoever waited fetches on its own
        except WhatfixError as exc:
            local.failed(exc.with_traceback(None))
            raise
        _remember(client, name, date_range, granularity, dataset)
    return dataset


def _reported(dataset: Dataset, progress: Progress | None) -> Dataset:
    if progress is not None:
        done = dataset.meta.rows or 1
        progress(done, done)
    return dataset


def _memo_key(client: WhatfixClient, name: str, date_range: DateRange | None,
              granularity: str) -> tuple:
    return (client.settings.cache_scope, name,
            None if name in LIST_DATASETS else date_range,
            granularity if name.endswith("-trend") else None)


def _remember(client: WhatfixClient, name: str, date_range: DateRange | None, granularity: str,
              dataset: Dataset) -> None:
    """Memoize a freshly loaded dataset under its expiry rule (nothing when the cache is off)."""
    lifetime = _memo_lifetime(client, name, date_range)
    if lifetime != NOT_KEPT:
        _memo_put(_memo_key(client, name, date_range, granularity), lifetime, dataset)


def _load_fresh(client: WhatfixClient, name: str, date_range: DateRange | None,
                granularity: str, progress: Progress | None) -> Dataset:
    return fetch(client, name, date_range, granularity=granularity, progress=progress)


@dataclass(frozen=True)
class DashboardData:
    """Everything the dashboard shows for one range: current datasets and comparison ones."""

    current: dict[str, Dataset]
    comparison: dict[str, Dataset]
    comparison_range: DateRange | None


def load_dashboard(client: WhatfixClient, date_range: DateRange, granularity: str,
                   comparison: str = "previous", custom: DateRange | None = None,
                   progress: Progress | None = None, *,
                   preset: str | None = None) -> DashboardData:
    """Load every dashboard dataset (and the comparison period's) concurrently.

    The comparison period is ``windows.comparison_range`` of the range, its ``preset`` (a
    calendar preset compares with the previous calendar period) and the ``granularity``.

    All loaders run at once; the client's single concurrency bound keeps at most
    `max_concurrency` requests in flight, so short lists and long paginated ones overlap.
    """
    previous = comparison_range(date_range, comparison, preset=preset, granularity=granularity,
                                custom=custom)
    jobs: list[tuple[str, str, DateRange]] = [("current", n, date_range)
                                              for n in DASHBOARD_DATASETS]
    if previous is not None:
        jobs += [("comparison", n, previous) for n in COMPARED_DATASETS]
    done = _Counter(len(jobs), progress)

    def run(job: tuple[str, str, DateRange]) -> Dataset:
        result = load_dataset(client, job[1], job[2], granularity)
        done.step()
        return result

    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="whatfix-load") as pool:
        results = list(pool.map(carry_scope(run), jobs))  # the caller's cancel token goes along
    out: dict[str, dict[str, Dataset]] = {"current": {}, "comparison": {}}
    for (period, name, _range), dataset in zip(jobs, results, strict=True):
        out[period][name] = dataset
    return DashboardData(out["current"], out["comparison"], previous)
