"""Paginated lists: the one `totalCount` rule, the bounded page loop and the completeness check.

`total_count` is the only parser of `pagination.totalCount` (the client's lists and the datasets'
one-request counts both use it). The rule: the spec says `integer`, and a count is accepted when
it is a JSON integer, a float with no fraction (`12.0`) or a string of ASCII digits (`"12"`, at
most MAX_COUNT_DIGITS of them, surrounding spaces ignored), and it is 0 or more; anything else
(missing, negative, fractional, `true`, `"12 rows"`, `"+12"`, `"1e3"`, infinite) is
BadResponseError, and a count above `max_rows` is TooLargeError before any second page is asked.

`fetch_all_pages` asks page 1, then the pages its total implies on up to `max_concurrency`
threads, stopping at a short page, and checks that the rows add up with no duplicate id. How a
page is fetched (cache, retries, stale copy) is the caller's `fetch_page`.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from whatfix_data import pacing
from whatfix_data.errors import BadResponseError, IncompleteDataError, TooLargeError
from whatfix_data.json_keys import json_key
from whatfix_data.results import ApiResult, FetchMeta, PagedResult

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
MAX_LIST_ATTEMPTS = 3  # a list whose total keeps moving is refetched this often, then reported
MAX_COUNT_DIGITS = 30  # a totalCount written with more digits is not a count (and int() refuses)
SHOWN_VALUE_CHARS = 40  # how much of an unusable value from the API a message quotes

# fetch_page(params, refresh) -> the decoded JSON object of one page
PageFetcher = Callable[[Mapping[str, Any], bool], ApiResult]
Progress = Callable[[int, int], None]  # (rows received, totalCount)


# --------------------------------------------------------------------------------- totalCount


def as_count(value: Any) -> int | None:
    """A count from JSON by the one rule (ints, whole floats, digit strings), else None.

    Negative numbers come back as they are: `total_count` says why they are refused.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= MAX_COUNT_DIGITS:
            return int(text)
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _shown(value: Any) -> str:
    """An unusable value from the API, quoted short (it may be any size or text)."""
    text = repr(value)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[: SHOWN_VALUE_CHARS - 3] + "..."


def _shown_count(count: int) -> str:
    return f"{count:,}" if count < 10**15 else f"{float(count):.3g}"


def total_count(payload: dict, label: str, max_rows: int) -> int:
    """The checked `pagination.totalCount` of a list response (the one parser of it).

    BadResponseError when it is missing, negative or not a whole number; TooLargeError when it
    claims more than `max_rows` rows (so nobody requests its pages). `label` names the dataset.
    """
    pagination = payload.get("pagination")
    raw = pagination.get("totalCount") if isinstance(pagination, dict) else None
    if raw is None:
        raise BadResponseError(
            f"The Whatfix API sent {label} without its totalCount, so completeness cannot be "
            "checked and nothing is shown. Try again later; if it persists, report it to "
            "Whatfix support.",
            operation=label,
        )
    total = as_count(raw)
    if total is None or total < 0:
        raise BadResponseError(
            f"The Whatfix API sent {label} with the totalCount {_shown(raw)}, which is not a "
            "whole number of rows (0 or more), so completeness cannot be checked and nothing "
            "is shown. Try again later; if it persists, report it to Whatfix support.",
            operation=label,
        )
    if total > max_rows:
        raise TooLargeError(
            f"The Whatfix API claims {label} has {_shown_count(total)} rows, more than "
            f"WHATFIX_MAX_ROWS ({max_rows:,}) allows, so its {_shown_count(-(-total // PAGE_SIZE))}"
            " pages were not requested. If the account really is that large, raise "
            "WHATFIX_MAX_ROWS (and WHATFIX_FETCH_DEADLINE_S for the time it takes).",
            operation=label,
        )
    return total


# -------------------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class Page:
    """One page of a list: its records, its checked total, where it came from, its number."""

    records: list[dict]
    total: int
    meta: FetchMeta
    number: int = 1


def page_content(payload: dict, path: str, label: str, max_rows: int) -> tuple[list[dict], int]:
    """(records, checked totalCount) of one page, or BadResponseError / TooLargeError."""
    data = payload.get("data")
    if not isinstance(data, list):
        raise BadResponseError(
            f"The Whatfix API sent a page of {label} without its data list, so completeness "
            "cannot be checked and nothing is shown. Try again later.",
            operation=path,
        )
    return data, total_count(payload, label, max_rows)  # non-objects are dropped by frames


class _PagePlan:
    """Which page a worker fetches next, and when to stop handing pages out (thread-safe)."""

    def __init__(self, page_count: int, total: int) -> None:
        self._lock = threading.Lock()
        self._next = 2
        self._last = page_count
        self._total = total

    def take(self) -> int | None:
        with self._lock:
            if self._next > self._last:
                return None
            number, self._next = self._next, self._next + 1
            return number

    def report(self, page: Page) -> None:
        """A short page before the end or a moved total: no page after this one is needed."""
        expected = min(PAGE_SIZE, self._total - (page.number - 1) * PAGE_SIZE)
        if len(page.records) < expected or page.total != self._total:
            with self._lock:
                self._last = min(self._last, page.number)

    def stop(self) -> None:
        with self._lock:
            self._last = 0


class _RowTally:
    """Rows received so far across page threads, reported as progress(rows, total)."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._lock = threading.Lock()
        self._rows = 0

    def add(self, rows: int, total: int) -> None:
        if self._progress is None:
            return
        with self._lock:
            self._rows += rows
            done = self._rows
        self._progress(min(done, total), total)


@dataclass(frozen=True)
class ListRequest:
    """What to page through, and the bounds the settings put on it."""

    path: str
    params: Mapping[str, Any] | None
    label: str
    id_fields: tuple[str, ...]
    max_rows: int
    max_concurrency: int


def fetch_all_pages(request: ListRequest, fetch_page: PageFetcher, *, refresh: bool,
                    progress: Progress | None = None) -> PagedResult:
    """Every record of the list, checked complete; fetched again (live) while it moves.

    A short page before the end is IncompleteDataError at once (the data ended early) unless it
    came from the cache, which is then bypassed once; a moving total or repeated ids are fetched
    again bypassing the cache, up to MAX_LIST_ATTEMPTS times, then IncompleteDataError.
    """
    problem = ""
    for attempt in range(MAX_LIST_ATTEMPTS):
        pages = _fetch_pages(request, fetch_page, refresh=refresh or attempt > 0,
                             progress=progress)
        problem, worth_retrying = completeness_problem(pages, request.id_fields)
        if not problem:
            records = [record for page in pages for record in page.records]
            meta = FetchMeta.combine((p.meta for p in pages), len(records), pages[0].total)
            return PagedResult(records, meta)
        if not worth_retrying and (refresh or attempt > 0
                                   or not any(p.meta.from_cache for p in pages)):
            raise IncompleteDataError(
                f"The Whatfix API says {request.label} has {pages[0].total:,} rows, but "
                f"{problem}: the data ended early, so the download stopped there ({len(pages)} "
                "requests) and no partial numbers are shown. Reload later; if it persists, "
                "report it to Whatfix support.",
                operation=request.path,
            )
        # a moving list, or a short page served from the cache: once more, live
        logger.warning("Incomplete list %s (%s), attempt %d", request.path, problem, attempt + 1)
    raise IncompleteDataError(
        f"The list {request.label} changed while it was being downloaded ({problem}) and did "
        f"not settle after {MAX_LIST_ATTEMPTS} attempts, so no partial numbers are shown. "
        "Reload in a minute.",
        operation=request.path,
    )


def _fetch_pages(request: ListRequest, fetch_page: PageFetcher, *, refresh: bool,
                 progress: Progress | None) -> list[Page]:
    """Page 1, then the pages its (checked) total implies, stopping at a short page."""
    received = _RowTally(progress)

    def fetch(number: int) -> Page:
        params = {**(request.params or {}), "page": number, "pageSize": PAGE_SIZE}
        result = fetch_page(params, refresh)
        try:
            records, total = page_content(result.payload, request.path, request.label,
                                          request.max_rows)
        except (BadResponseError, TooLargeError):
            if not result.meta.from_cache:
                raise
            # a cached copy (past windows never expire) is asked for once more, live
            result = fetch_page(params, True)
            records, total = page_content(result.payload, request.path, request.label,
                                          request.max_rows)
        received.add(len(records), total)
        return Page(records, total, result.meta, number)

    first = fetch(1)
    page_count = max(math.ceil(first.total / PAGE_SIZE), 1)
    if page_count == 1 or len(first.records) < PAGE_SIZE:
        return [first]  # one page, or the data already ended (reported by the caller)
    return [first, *_rest_of_pages(fetch, first, page_count, request.max_concurrency)]


def _rest_of_pages(fetch: Callable[[int], Page], first: Page, page_count: int,
                   max_concurrency: int) -> list[Page]:
    """Pages 2..page_count, handed out in order to workers; none is requested once a page
    came back short (the data ended), the total moved, a page failed or the fetch stopped."""
    plan = _PagePlan(page_count, first.total)

    def work() -> list[Page]:
        done: list[Page] = []
        control = pacing.current_control()
        try:
            while (number := plan.take()) is not None:
                if control is not None:
                    control.check()  # cancelled or overdue: not even a cache read
                page = fetch(number)
                done.append(page)
                plan.report(page)
        except BaseException:
            plan.stop()
            raise
        return done

    workers = min(max_concurrency, page_count - 1)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="whatfix-page") as pool:
        futures = [pool.submit(pacing.carry_scope(work)) for _ in range(workers)]
    pages = [page for future in futures for page in future.result()]
    return sorted(pages, key=lambda page: page.number)


# ------------------------------------------------------------------------------- completeness


def completeness_problem(pages: list[Page], id_fields: tuple[str, ...]) -> tuple[str, bool]:
    """Why these pages are not exactly the list ("" when they are), and whether fetching again
    may help: yes for a moving list (total changed, ids repeated), no when the data ended early."""
    total = pages[0].total
    if any(page.total != total for page in pages):
        return "the total count changed between pages", True
    for page in pages:
        expected = min(PAGE_SIZE, total - (page.number - 1) * PAGE_SIZE)
        if len(page.records) < expected:
            rows = (page.number - 1) * PAGE_SIZE + len(page.records)
            return (f"its page {page.number} held {len(page.records)} of the {expected} rows "
                    f"expected (the list ended after {rows:,} rows)"), False
    rows = sum(len(page.records) for page in pages)
    if rows != total:
        return f"{rows} rows received for a total of {total}", True
    duplicate = first_duplicate(pages, id_fields)
    if duplicate is not None:
        return f"duplicate id {duplicate if len(id_fields) > 1 else duplicate[0]!r}", True
    return "", True


def _record_keys(pages: list[Page], id_fields: tuple[str, ...]) -> list[tuple]:
    """The id tuple of every object record (records without any id are left out)."""
    if len(id_fields) == 1:  # the common case, without a generator per record
        name = id_fields[0]
        return [(value,) for page in pages for record in page.records
                if isinstance(record, dict) and (value := record.get(name)) is not None]
    no_id = (None,) * len(id_fields)
    return [key for page in pages for record in page.records if isinstance(record, dict)
            and (key := tuple(map(record.get, id_fields))) != no_id]


def first_duplicate(pages: list[Page], id_fields: tuple[str, ...]) -> tuple | None:
    """The first id seen twice (same JSON value, `json_keys.json_key`), or None.

    A set of the ids answers the common case at C speed (Python's equality is looser than the
    JSON rule, so no duplicate there means none at all); only a list with a candidate, or ids of
    the wrong JSON type (lists, objects), is walked with the JSON rule.
    """
    keys = _record_keys(pages, id_fields)
    try:
        if len(set(keys)) == len(keys):
            return None
    except TypeError:  # an unhashable id: compared by its JSON key below
        pass
    seen: set[tuple] = set()
    for key in keys:
        comparable = tuple(json_key(part) for part in key)
        if comparable in seen:
            return key
        seen.add(comparable)
    return None


__all__ = [
    "MAX_LIST_ATTEMPTS",
    "PAGE_SIZE",
    "ListRequest",
    "Page",
    "as_count",
    "completeness_problem",
    "fetch_all_pages",
    "first_duplicate",
    "page_content",
    "total_count",
]
