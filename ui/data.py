"""Datasets from the data layer's shared copy (keyed by scope), segment filtering, data health."""

from __future__ import annotations

import contextlib
import contextvars
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import streamlit as st

from ui import runtime
from ui.session import K_CONNECTION, LOGGER, client, client_of, md_escape, scope
from ui.view import current_filters as filters
from whatfix_data import datasets, frames, pacing, pagination, registry, views, windows
from whatfix_data import scope as scope_rules
from whatfix_data import segments as segment_rules
from whatfix_data.analytics import comparison
from whatfix_data.analytics import engagement as engagement_stats
from whatfix_data.client import WhatfixClient
from whatfix_data.commands import warm as warm_command
from whatfix_data.config import CACHE_OFF, Settings
from whatfix_data.datasets import Dataset
from whatfix_data.errors import FetchCancelledError, WhatfixError
from whatfix_data.user_sync import on_account_change

# Segment membership (derived from the two lists) kept per scope and list version: enough for
# every scope of a busy process, few enough that outdated versions do not pile up.
MEMBERSHIP_ENTRIES = 32
LOADING_TEXT = "Fetching data from the Whatfix API…"
NO_SEGMENT_NOTE = "All users: no segment is picked, so every number here covers the whole account."
# A dataset that just failed fails again at once, with the same reason, for this long (per
# session): every section that needs it says why in a second, instead of retrying the outage.
FAILURE_MEMO_S = 20.0
K_FAILURES = "_wf_failed_loads"
K_CACHE_WARNED = "_wf_cache_warned_run"
BAR_AFTER_S = 2.0  # loads quicker than this show no progress bar (the spinner says enough)
BAR_REDRAW_S = 0.25  # a moving bar redraws at most this often
LEAVE_POLL_S = 0.1  # how often a running load checks whether its run was left
# Progress callback of the dataset (or pack) being built: set around the cached call by the page
# run that asked, read inside it (not part of the cache key).
LOAD_PROGRESS: contextvars.ContextVar[Callable[[int, int], None] | None] = contextvars.ContextVar(
    "whatfix_trend_progress", default=None
)

# ------------------------------------------------------------------------------------ datasets

# From the dataset registry: lists ignore the range, trends take a granularity.
_LISTS = registry.LISTS
_TRENDS = registry.TRENDS
DATASET_LABELS: dict[str, str] = registry.labels()




def progress_text(label: str, done: int, total: int, elapsed_s: float, unit: str) -> str:
    """E.g. "Loading end users: 12,300 of 200,000 rows, about 14 s left"."""
    text = f"Loading {label}: {done:,} of {total:,} {unit}"
    if 0 < done < total and elapsed_s > 0:
        left = elapsed_s * (total - done) / done  # the rate so far holds for the rest
        text += f", about {_duration(left)} left"
    return text


def _duration(seconds: float) -> str:
    seconds = max(1, round(seconds))
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _progress_bar(label: str, unit: str) -> tuple[Any, Callable[[int, int], None]]:
    """A progress bar for one load, drawn only once the load has taken `BAR_AFTER_S`.

    The data layer reports (done, total): rows of a paginated list, periods of a trend; a load
    that another session or process is fetching reports that fetch's progress. The bar moves
    at most every `BAR_REDRAW_S` (and at the end): a report comes with every page, and each
    draw is a message to the browser and CPU taken from the fetch (750 pages in 6 s).
    """
    bar = st.empty()
    started = time.monotonic()
    drawn_at = -math.inf
    lock = threading.Lock()

    def draw(done: int, total: int) -> None:
        nonlocal drawn_at
        now = time.monotonic()
        elapsed = now - started
        if elapsed < BAR_AFTER_S:
            return
        with lock:  # reports come from several worker threads
            if now - drawn_at < BAR_REDRAW_S and done < total:
                return
            drawn_at = now
        fraction = min(1.0, done / total) if total else 1.0
        bar.progress(fraction, text=progress_text(label, done, total, elapsed, unit))

    # Called from the client's worker threads, inside the cached loader.
    return bar, runtime.drawing_from_worker_threads(draw)


def load(
    name: str,
    date_range: windows.DateRange | None = None,
    granularity: str | None = None,
    *,
    warn_stale: bool = True,
) -> Dataset:
    """A dataset through the shared cache; raises WhatfixError (pages render it with section)."""
    cache_scope = scope()
    if name in _LISTS:
        start = end = None
        granularity = None
    else:
        date_range = date_range or filters().date_range
        start, end = date_range.start, date_range.end
    granularity = (granularity or filters().granularity) if name in _TRENDS else None
    failure_key = (cache_scope, name, start, end, granularity)
    failures: dict = st.session_state.setdefault(K_FAILURES, {})
    failed = failures.get(failure_key)
    if failed is not None and time.monotonic() - failed[0] < FAILURE_MEMO_S:
        raise failed[1]
    try:
        dataset = _load_shared(cache_scope, name, start, end, granularity)
    except FetchCancelledError:
        raise  # the run was left: the next run asks again, it is no failure to repeat
    except WhatfixError as exc:
        # Kept without its traceback: the frames of a failed load are not kept alive with it.
        failures[failure_key] = (time.monotonic(), exc.with_traceback(None))
        raise
    failures.pop(failure_key, None)
    cache_warning(client_of(cache_scope))
    if warn_stale:
        stale_warning(dataset)
    return dataset


def _load_shared(cache_scope: str, name: str, start: date | None, end: date | None,
                 granularity: str | None) -> Dataset:
    """The dataset from the data layer's one in-process copy (shared by every session; fresh
    by `whatfix_data.cache`'s rule), fetched with a progress bar when it is not there. Memo hits
    and fetches both re-check the key, so a revoked key gets its error, not cached data."""
    bar, report = _progress_bar(DATASET_LABELS[name].lower(),
                                "periods" if name in _TRENDS else "rows")
    date_range = windows.DateRange(start, end) if start and end else None
    try:
        with (st.spinner(LOADING_TEXT),  # drawn only for loads that take over half a second
              _stopped_when_left(client_of(cache_scope), DATASET_LABELS[name].lower())):
            return datasets.load_dataset(client_of(cache_scope), name, date_range,
                                         granularity or "week", progress=report)
    finally:
        bar.empty()


def prefetch(*waves: Iterable[tuple[str, windows.DateRange | None]]) -> None:
    """Start loading a page's datasets now, in background threads: each wave's all at once,
    the next wave as soon as the previous one has no more requests to send than the account's
    window holds (its last pages are on the wire, so the next wave fills the slots they free).

    A page draws its sections one after another, so its loads would run one dataset at a time
    with the wire half idle (a small list, then a trend, ...). Started together they share the
    account's concurrency window (the client's bound), and the page's own `load` calls join these
    fetches (single flight: they wait with the fetch's progress bar, then read the memo) or find
    them done. Waves order what the page shows first (its headline numbers) before the rest, so
    the page draws those while the rest is fetched. A failure is left to the page's load, which
    reports it in its section. The fetches stop when the user leaves the run, like the page's.

    Tried and measured (200,000 users, docs/PERFORMANCE.md): every wave at once with a priority
    per wave in the account's governor. It cost 1.5 s more CPU (dozens more threads waking on
    every answer) and the Overview took 7.6 s instead of 6.8 s. Waiting for a wave to *finish*
    left the wire a third full for 0.3-0.5 s at each change of wave; `_WaveTail` starts the next
    one on the previous one's last window of requests instead.
    """
    try:
        shared = client_of(scope())
    except WhatfixError:
        return  # e.g. a rejected key: each section's own load says so
    if shared.settings.cache == CACHE_OFF:
        return  # nothing is kept: the page's loads would fetch everything a second time
    current = filters()
    planned = [[(name, None if name in _LISTS else (date_range or current.date_range),
                 current.granularity if name in _TRENDS else "week")
                for name, date_range in wave] for wave in waves]
    planned = [wave for wave in planned if wave]
    if not planned:
        return
    cancel = _cancel_when_left(runtime.current_run())
    scoped = shared.fetch_scope(cancel=cancel, deadline_s=math.inf, label="the page's data")

    def load_one(tail: _WaveTail, number: int,
                 job: tuple[str, windows.DateRange | None, str]) -> None:
        try:
            with contextlib.suppress(WhatfixError):  # the page's own load reports it
                datasets.load_dataset(shared, *job, progress=tail.reporter(number, job[0]))
        finally:
            tail.finished(number)

    def load_all() -> None:
        with scoped, contextlib.ExitStack() as pools:
            for wave in planned:
                tail = _WaveTail(len(wave), shared.governor.window)
                pool = pools.enter_context(ThreadPoolExecutor(
                    max_workers=len(wave), thread_name_prefix="whatfix-prefetch"))
                for number, job in enumerate(wave):
                    pool.submit(pacing.carry_scope(load_one), tail, number, job)
                while not tail.reached.wait(LEAVE_POLL_S):
                    if cancel is not None and cancel.is_set():
                        break  # left: the wave's fetches stop; the next ones never start
        if cancel is not None:
            cancel.finished.set()

    threading.Thread(target=load_all, daemon=True, name="whatfix-prefetch").start()


class _WaveTail:
    """Whether a wave is down to its last window of requests: every dataset of it has reported
    its size (or ended), and the requests still to come add up to at most `window`."""

    def __init__(self, size: int, window: int) -> None:
        self._lock = threading.Lock()
        self._window = window
        self._left: list[int | None] = [None] * size  # per job of the wave; None: size unknown
        self.reached = threading.Event()

    def reporter(self, number: int, name: str) -> Callable[[int, int], None]:
        """progress(done, total) of the wave's job `number`: windows for a trend, else rows."""
        per_request = 1 if name in _TRENDS else pagination.PAGE_SIZE

        def report(done: int, total: int) -> None:
            self._set(number, math.ceil(max(total - done, 0) / per_request))
        return report

    def finished(self, number: int) -> None:
        self._set(number, 0)

    def _set(self, number: int, requests_left: int) -> None:
        with self._lock:
            self._left[number] = requests_left
            if None not in self._left and sum(self._left) <= self._window:
                self.reached.set()


class _LeaveToken(threading.Event):
    """Set when the user left the run; `finished` ends its watcher."""

    def __init__(self) -> None:
        super().__init__()
        self.finished = threading.Event()


def _cancel_when_left(context: Any) -> _LeaveToken | None:
    """A cancel token that a watcher thread sets once the user leaves `context`'s run (None
    outside a script run): Streamlit interrupts a script only at its next Streamlit call, so a
    fetch blocked in the data layer would otherwise finish for nobody."""
    if context is None or context.script_requests is None:
        return None
    token = _LeaveToken()

    def watch() -> None:
        while not token.finished.wait(LEAVE_POLL_S):
            if runtime.run_was_left(context):
                token.set()
                LOGGER.info("The view was left: no more requests for it")
                return

    threading.Thread(target=watch, daemon=True, name="whatfix-leave-watch").start()
    return token


@contextmanager
def _stopped_when_left(shared: WhatfixClient, label: str) -> Iterator[None]:
    """Run one load as a fetch that stops sending requests once the user leaves the run.

    Streamlit interrupts a script only at its next Streamlit call, so a page blocked in a long
    fetch would finish it for nobody; a watcher thread sets the fetch's cancel token instead
    (the data layer checks it before every request) and the load raises FetchCancelledError.
    Other sessions waiting for the same data then fetch it themselves (single flight).
    """
    cancel = _cancel_when_left(runtime.current_run())
    if cancel is None:
        yield
        return
    try:
        with shared.fetch_scope(cancel=cancel, deadline_s=math.inf, label=label):
            yield
    finally:
        cancel.finished.set()


def cache_warning(current: Any) -> None:
    """Say once per page run that the shared cache is down and the data is fetched live."""
    problem = getattr(current, "cache_problem", None)
    run = runtime.run_token()
    if not problem or run is None:
        return
    if st.session_state.get(K_CACHE_WARNED) is run:
        return
    st.session_state[K_CACHE_WARNED] = run
    st.warning(md_escape(problem), icon=":material/cloud_off:")


def data_start() -> date | None:
    """The day the account's data begins (its first content item), None when unknown."""
    with contextlib.suppress(WhatfixError):  # the content list failing is reported elsewhere
        return comparison.data_start(load("content", warn_stale=False).frame)
    return None


def trend_windows(name: str, totals: Callable[[pd.DataFrame], pd.DataFrame]) -> pd.DataFrame:
    """A trend's per-window ``totals`` for the range beside the comparison's, window k with
    window k (``analytics.comparison.aligned_comparison``): what trend charts draw and their
    raw-data tables and downloads hold."""
    current = filters()
    now = totals(load(name).frame)
    before = None
    if current.comparison_range is not None:
        before = totals(load(name, current.comparison_range).frame)
    return comparison.aligned_comparison(now, before, current.window_pairs,
                                         data_start=data_start())


@st.cache_resource(show_spinner=False)
def _background_warm(cache_scope: str) -> threading.Thread:
    """Once per process and scope: fetch the default views in a daemon thread (see `warm`)."""
    shared = client_of(cache_scope)
    thread = threading.Thread(target=_warm_quietly, args=(shared,), daemon=True,
                              name="whatfix-background-warm")
    thread.start()
    return thread


def _warm_quietly(shared: WhatfixClient) -> None:
    try:
        for view in warm_command.warm(shared):
            LOGGER.info("Background warm of %s: %d requests in %.1f s", view.preset,
                        view.network_requests, view.seconds)
    except Exception as exc:  # the pages report their own errors when they load
        LOGGER.warning("Background warm failed (%s)", type(exc).__name__)


def start_background_warm(current: Settings) -> threading.Thread | None:
    """When the app runs on its configured (non-demo) account, warm the default views once.

    Once per process (`warm_on_start`, default on): the first visitor's page then joins fetches
    already under way (single flight) instead of starting them; later visitors find them cached.
    An account typed into the connection form is not warmed (it is one visitor's).
    """
    if current.demo or not current.warm_on_start or st.session_state.get(K_CONNECTION):
        return None
    return _background_warm(current.cache_scope)


def popular_flows_csv(date_range: windows.DateRange | None = None) -> bytes:
    """The API's own CSV of the most popular flows for the range (one response: the HTTP cache
    keeps it under the same freshness rule as the datasets)."""
    date_range = date_range or filters().date_range
    return datasets.load_popular_flows_csv(client_of(scope()), date_range)


# cache_resource, not cache_data: one frame per process, handed out as copy-on-write copies like
# the datasets' memo, instead of a pickled copy unpickled anew on every page run (200,000 users
# in several segments make a frame of a million rows).
@st.cache_resource(max_entries=MEMBERSHIP_ENTRIES,
                   show_spinner="Matching end users to segment rules…")
def _cached_membership(cache_scope: str, users_fetched: datetime,
                       segments_fetched: datetime) -> pd.DataFrame:
    """Segment membership (segment_id, user_id) computed locally from the rules, for the lists
    fetched at those times: a refetched list (expired, refreshed, synced) is a new key."""
    shared = client_of(cache_scope)
    users = datasets.load_dataset(shared, "end-users", None).frame
    segs = datasets.load_dataset(shared, "segments", None).frame
    return segment_rules.membership(users, segs)


def membership() -> pd.DataFrame:
    """Who is in which segment, by local rule evaluation (cached per scope and list version).

    Needs the whole end-user list: only pages that show segment membership (or a picked segment)
    call this. The lists are loaded first through `load`, so a cold list shows its progress bar.
    """
    users = load("end-users", warn_stale=False)
    segs = load("segments", warn_stale=False)
    shared = _cached_membership(scope(), users.meta.fetched_at, segs.meta.fetched_at)
    return shared.copy(deep=False)  # a caller's edit stays its own (copy-on-write)


def for_segment(frame: pd.DataFrame, user_column: str = "user_id") -> pd.DataFrame:
    """Rows of a per-user frame in the sidebar's segment (all rows when no segment is chosen)."""
    segment_id = filters().segment_id
    if segment_id is None:
        return frame
    return segment_rules.filter_to_segment(frame, membership(), segment_id, user_column)


def active_users_trend(date_range: windows.DateRange | None = None) -> pd.DataFrame:
    """Active users per window for the sidebar's segment, or the API's count without one.

    Without a segment: one request per window (``engagement-trend``). With one: every active
    user of every window (``engagement-user-trend``), kept to the segment's members and counted,
    so the trend is the segment's own (more requests: see docs/PERFORMANCE.md).
    """
    current = filters()
    dataset = views.active_users_trend_dataset(current.segment_id)
    if current.segment_id is None:
        return engagement_stats.active_users_by_window(load(dataset, date_range).frame)
    date_range = date_range or current.date_range
    rows = for_segment(load(dataset, date_range).frame)
    split = windows.split_range(date_range, current.granularity)
    return engagement_stats.active_users_in_windows(rows, split)


def active_users_windows() -> pd.DataFrame:
    """Active users per window (the segment's own when one is picked) beside the comparison's,
    window k with window k, as :func:`trend_windows` does for the other trends."""
    current = filters()
    before = (active_users_trend(current.comparison_range)
              if current.comparison_range is not None else None)
    return comparison.aligned_comparison(active_users_trend(), before, current.window_pairs,
                                         data_start=data_start())


def segment_note(*dataset_names: str) -> None:
    """A caption saying whom the numbers below (from ``dataset_names``) cover: all users without
    a segment; with one, which are limited to it and which are not, and why (``scope``)."""
    note = scope_rules.page_note(dataset_names, filters().segment_name) or NO_SEGMENT_NOTE
    st.caption(md_escape(note), help="A segment is a set of users: only data the API reports "
               "per user can be limited to it. Pick one in the sidebar.")


def age_text(fetched_at: datetime) -> str:
    """How long ago data was fetched, e.g. "3 min" or "2 h 5 min"."""
    seconds = max(0, int((datetime.now(UTC) - fetched_at).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{seconds} s"


def stale_warning(dataset: Dataset) -> None:
    """Say so when the API was unreachable and a cached copy is shown instead."""
    if dataset.meta.stale:
        label = DATASET_LABELS.get(dataset.name, dataset.name)
        st.warning(
            f"{label}: the Whatfix API could not be reached, so this is the copy fetched "
            f"{age_text(dataset.meta.fetched_at)} ago. Use Refresh on the Data Health page "
            "once the API is back."
        )


def clear_caches() -> None:
    """Forget what the pages derive from datasets (all scopes) and this session's failures, so
    the next run asks the data layer again (its memo and HTTP cache: `refresh_all` clears those)."""
    _cached_membership.clear()
    with contextlib.suppress(Exception):  # outside a script run there is no session state
        st.session_state.pop(K_FAILURES, None)  # a refresh asks the API again at once


def _after_user_sync(cache_scope: str) -> None:
    """A user sync changed an account's users: the page caches go (every scope: they are
    rebuilt cheaply from the datasets memo, which drops only that account's lists)."""
    clear_caches()


on_account_change(_after_user_sync)  # called by user_sync.refresh_cache, once per sync


# --------------------------------------------------------------------------------- data health


def cache_description(current: Settings) -> str:
    """The HTTP cache backend, with any password in a Redis URL hidden."""
    spec = current.cache
    if "://" in spec and "@" in spec:
        scheme, rest = spec.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return {"memory": "in-memory (this process)", "off": "off (every view asks the API)"}.get(
        spec, f"SQLite file {spec}" if "://" not in spec else spec
    )


def refresh_all() -> None:
    """Drop this account's HTTP cache and datasets, so everything is fetched again.

    Only this scope's HTTP responses and memoized datasets go: in a shared cache (Redis) other
    accounts keep theirs, and their copies for when the API is down.
    """
    # When the client cannot even be built, nothing is cached for it.
    with contextlib.suppress(WhatfixError):
        datasets.clear_account(client())
    clear_caches()  # the page-level caches: cheap to rebuild for other scopes from their memo


def health_table(loaded: list[Dataset], failures: Mapping[str, str]) -> pd.DataFrame:
    """One row per dataset: when fetched, fresh/stale/error, rows against totalCount, findings."""
    rows = []
    for dataset in loaded:
        meta = dataset.meta
        total = meta.total_count
        complete = None if total is None or meta.rows is None else meta.rows == total
        rows.append({
            "dataset": DATASET_LABELS.get(dataset.name, dataset.name),
            "state": "stale" if meta.stale else "fresh",
            "fetched_at": meta.fetched_at,
            "age": age_text(meta.fetched_at),
            "from_cache": meta.from_cache,
            "requests": meta.requests,
            "rows": meta.rows,
            "total_count": total,
            "complete": complete,
            "findings": len(dataset.findings),
            # Reports come in one response without a totalCount: say so instead of a blank.
            "message": "" if total is not None else "Report: one response, no total to check",
        })
    for name, message in failures.items():
        rows.append({"dataset": DATASET_LABELS.get(name, name), "state": "error",
                     "message": message})
    frame = pd.DataFrame(rows)
    for column in ("requests", "rows", "total_count", "findings"):
        if column in frame:
            frame[column] = frame[column].astype("Int64")
    return frame


def findings_table(loaded: list[Dataset]) -> pd.DataFrame:
    """Every data-quality finding of the loaded datasets, one row each."""
    return frames.findings_frame(f for dataset in loaded for f in dataset.findings)
