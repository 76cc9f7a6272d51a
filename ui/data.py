"""Datasets through Streamlit's shared caches (keyed by scope), segment filtering, data health."""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx
from streamlit.runtime.scriptrunner_utils.script_run_context import in_cached_function

from ui.filters import filters
from ui.session import _client, client, md_escape, scope
from whatfix_data import datasets, frames, windows
from whatfix_data import segments as segment_rules
from whatfix_data.config import Settings
from whatfix_data.datasets import Dataset
from whatfix_data.errors import WhatfixError

# st.cache_data entries expire after this; the client's HTTP cache then decides what is fresh.
DATA_TTL_S = 300
MAX_CACHE_ENTRIES = 512
# A dataset that just failed fails again at once, with the same reason, for this long (per
# session): every section that needs it says why in a second, instead of retrying the outage.
FAILURE_MEMO_S = 20.0
K_FAILURES = "_wf_failed_loads"
K_CACHE_WARNED = "_wf_cache_warned_run"
# Progress callback of the trend being loaded (set around the cached call, not part of its key).
_PROGRESS: contextvars.ContextVar[Callable[[int, int], None] | None] = contextvars.ContextVar(
    "whatfix_trend_progress", default=None
)

# ------------------------------------------------------------------------------------ datasets

_LISTS = {"end-users", "content", "segments"}
_TRENDS = {"flow-trend", "self-help-trend", "engagement-trend"}
DATASET_LABELS: dict[str, str] = {
    "end-users": "End users",
    "content": "Content",
    "segments": "Segments",
    "flows": "Flow analytics",
    "popular-flows": "Most popular flows",
    "self-help": "Self Help analytics",
    "engagement": "End-user engagement",
    "task-completion": "Task completion",
    "flow-trend": "Flow trend",
    "self-help-trend": "Self Help trend",
    "engagement-trend": "Active users trend",
}


@st.cache_data(ttl=DATA_TTL_S, max_entries=MAX_CACHE_ENTRIES,
               show_spinner="Fetching data from the Whatfix API…")
def _cached_dataset(
    cache_scope: str, name: str, start: date | None, end: date | None, granularity: str | None
) -> Dataset:
    """One dataset of one scope and window; shared by every session of that scope."""
    date_range = windows.DateRange(start, end) if start and end else None
    return datasets.load_dataset(
        _client(cache_scope), name, date_range, granularity or "week", progress=_PROGRESS.get()
    )


@st.cache_data(ttl=DATA_TTL_S, max_entries=MAX_CACHE_ENTRIES, show_spinner=False)
def _cached_popular_csv(cache_scope: str, start: date, end: date) -> bytes:
    """The API's own format=csv file of the most popular flows report."""
    return datasets.load_popular_flows_csv(_client(cache_scope), windows.DateRange(start, end))


@contextmanager
def _not_recorded() -> Iterator[None]:
    """Draw from inside a cached function without the draw being replayed on later cache hits.

    A progress bar updated while a cached loader runs belongs to that run only; Streamlit would
    otherwise record the update with the cached value and fail to replay it on another page.
    """
    token = in_cached_function.set(False)
    try:
        yield
    finally:
        in_cached_function.reset(token)


def _trend_progress(label: str) -> tuple[Any, Callable[[int, int], None]]:
    """A progress bar for a trend fetched window by window."""
    bar = st.empty()
    context = get_script_run_ctx()

    def report(done: int, total: int) -> None:
        # Called from the client's worker threads: attach them to this session to draw.
        add_script_run_ctx(threading.current_thread(), context)
        fraction = min(1.0, done / total) if total else 1.0
        with _not_recorded():
            bar.progress(fraction, text=f"Loading {label}: {done} of {total} periods")

    return bar, report


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
    if name in _TRENDS:
        granularity = granularity or filters().granularity
    failure_key = (cache_scope, name, start, end, granularity)
    failures: dict = st.session_state.setdefault(K_FAILURES, {})
    failed = failures.get(failure_key)
    if failed is not None and time.monotonic() - failed[0] < FAILURE_MEMO_S:
        raise failed[1]
    try:
        dataset = _load_cached(cache_scope, name, start, end, granularity)
    except WhatfixError as exc:
        # Kept without its traceback: the frames of a failed load are not kept alive with it.
        failures[failure_key] = (time.monotonic(), exc.with_traceback(None))
        raise
    failures.pop(failure_key, None)
    cache_warning(_client(cache_scope))
    if warn_stale:
        stale_warning(dataset)
    return dataset


def _load_cached(cache_scope: str, name: str, start: date | None, end: date | None,
                 granularity: str | None) -> Dataset:
    # st.cache_data is shared by every session: re-check the key (at most every few minutes,
    # and at once after a rejection) so a revoked key gets its error, not cached data.
    _client(cache_scope).verify_credentials()
    if name in _TRENDS:
        bar, report = _trend_progress(DATASET_LABELS[name].lower())
        token = _PROGRESS.set(report)
        try:
            return _cached_dataset(cache_scope, name, start, end, granularity)
        finally:
            _PROGRESS.reset(token)
            bar.empty()
    return _cached_dataset(cache_scope, name, start, end, None)


def cache_warning(current: Any) -> None:
    """Say once per page run that the shared cache is down and the data is fetched live."""
    problem = getattr(current, "cache_problem", None)
    context = get_script_run_ctx()
    if not problem or context is None:
        return
    run = context.parallel_coordinator  # a new object every run of the page
    if st.session_state.get(K_CACHE_WARNED) is run:
        return
    st.session_state[K_CACHE_WARNED] = run
    st.warning(md_escape(problem), icon=":material/cloud_off:")


def popular_flows_csv(date_range: windows.DateRange | None = None) -> bytes:
    """The API's own CSV of the most popular flows for the range (cached like the datasets)."""
    date_range = date_range or filters().date_range
    return _cached_popular_csv(scope(), date_range.start, date_range.end)


@st.cache_data(ttl=DATA_TTL_S, max_entries=MAX_CACHE_ENTRIES,
               show_spinner="Matching end users to segment rules…")
def _cached_membership(cache_scope: str) -> pd.DataFrame:
    """Segment membership (segment_id, user_id) computed locally from the rules."""
    users = _cached_dataset(cache_scope, "end-users", None, None, None).frame
    segs = _cached_dataset(cache_scope, "segments", None, None, None).frame
    return segment_rules.membership(users, segs)


def membership() -> pd.DataFrame:
    """Who is in which segment, by local rule evaluation (cached per scope)."""
    return _cached_membership(scope())


def for_segment(frame: pd.DataFrame, user_column: str = "user_id") -> pd.DataFrame:
    """Rows of a per-user frame in the sidebar's segment (all rows when no segment is chosen)."""
    segment_id = filters().segment_id
    if segment_id is None:
        return frame
    return segment_rules.filter_to_segment(frame, membership(), segment_id, user_column)


def segment_note() -> None:
    """A caption saying which segment the per-user numbers below are limited to."""
    current = filters()
    if current.segment_name:
        st.caption(f"Limited to the segment **{md_escape(current.segment_name)}**.")


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
    """Forget every cached dataset (all scopes) so the next run fetches again."""
    _cached_dataset.clear()
    _cached_popular_csv.clear()
    _cached_membership.clear()
    with contextlib.suppress(Exception):  # outside a script run there is no session state
        st.session_state.pop(K_FAILURES, None)  # a refresh asks the API again at once


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
