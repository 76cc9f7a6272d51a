"""The Whatfix API client: one façade over the transport, pagination and result layers.

Paths are relative to the account, as in the spec without `/{accountId}`: `client.get_json(
"/analytics/flows", {"startDate": ..., "endDate": ...})`. Every request carries both auth headers;
every failure becomes one exception of `whatfix_data.errors`. The layers underneath:

* `whatfix_data.transport`: the requests-cache session, the bounded adapter (the account's
  concurrency gate), urllib3's Retry policy, mapping statuses to errors, decoding bodies;
* `whatfix_data.pagination`: the page loop, its bounds and the one `totalCount` rule;
* `whatfix_data.results`: `ApiResult`, `PagedResult`, `FetchMeta`.

This module decides the rest, each in one place: when the credentials are re-checked, how often a
cut or unreadable body is asked for again, and when a cached copy is served stale (`fetch`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import requests

from whatfix_data import pacing
from whatfix_data.cache import (
    DO_NOT_CACHE,
    KIND_LIST,
    KIND_LIVE,
    KIND_WINDOW,
    expire_after_for,
)
from whatfix_data.config import Settings
from whatfix_data.errors import BadResponseError, CacheUnavailableError
from whatfix_data.pagination import PAGE_SIZE, ListRequest, fetch_all_pages, total_count
from whatfix_data.results import ApiResult, FetchMeta, PagedResult
from whatfix_data.transport import (
    BODY_ERRORS,
    CACHE_ERRORS,
    Transport,
    Unavailable,
    decode_bytes,
    decode_json_object,
    decode_text,
    error_for_status,
    outage_error,
    response_meta,
)
from whatfix_data.windows import today_for

logger = logging.getLogger(__name__)

CREDENTIAL_PROBE_PATH = "/segments"
CREDENTIAL_PROBE_PARAMS = {"page": 1, "pageSize": 1}
CREDENTIAL_FAILURES = (401, 403, 404)

Decode = Callable[[requests.Response], Any]


class WhatfixClient:
    """The Whatfix API for one account; thread-safe; `close()` (or `with`) releases the cache."""

    def __init__(
        self,
        settings: Settings,
        *,
        today: Callable[[], date] | None = None,
        verify: bool = True,
    ) -> None:
        self.settings = settings
        # `today` (a callable, for tests) beats the `today` setting, which beats the real day.
        self._today = today or (lambda: today_for(settings))
        self._transport = Transport(settings)
        self._lock = threading.Lock()
        self._last_check: float | None = None
        if verify:
            self.verify_credentials(force=True)
        else:  # trusted by the caller (e.g. just checked elsewhere): next check after the interval
            self._last_check = time.monotonic()

    def __repr__(self) -> str:
        return (
            f"WhatfixClient(base_url={self.settings.base_url!r}, "
            f"account_id={self.settings.account_id!r}, key_fingerprint="
            f"{self.settings.key_fingerprint!r}, cache={self.settings.cache!r})"
        )

    def __enter__(self) -> WhatfixClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections and the cache backend."""
        self._transport.close()

    @property
    def cache_problem(self) -> str | None:
        """Why responses are not being cached right now (the backend failed), or None."""
        return self._transport.cache_problem

    @property
    def network_requests(self) -> int:
        """Requests that reached the API (not the cache) since the client was made."""
        return self._transport.network_requests

    def today(self) -> date:
        """`windows.today_for` these settings: the boundary of never-expiring windows."""
        return self._today()

    @property
    def governor(self) -> pacing.AccountGovernor:
        """The account's adaptive concurrency window and Retry-After pause (shared)."""
        return self._transport.adapter.governor

    def fetch_scope(self, *, cancel: threading.Event | None = None,
                    deadline_s: float | None = None, label: str = "") -> Any:
        """A context manager: everything fetched inside is one fetch with one deadline
        (`fetch_deadline_s` unless given) that stops sending requests once `cancel` is set.

        Worker threads of this client inherit the scope. A cancelled fetch raises
        FetchCancelledError, an overdue one FetchTimeoutError (both WhatfixError).
        """
        limit = self.settings.fetch_deadline_s if deadline_s is None else deadline_s
        return pacing.fetch_scope(limit, label=label, cancel=cancel)

    def wire_stats(self) -> tuple[int, float]:
        """(exchanges with the API, slot-seconds they held): a slot's use over time."""
        return self._transport.adapter.exchanges, self._transport.adapter.busy_s

    def clear_cache(self) -> int:
        """Delete this scope's cached responses (other accounts' stay); returns how many."""
        try:
            return self._transport.clear_scope()
        except CACHE_ERRORS:  # its text may hold a Redis URL with a password
            raise CacheUnavailableError(operation="clear cache") from None

    @property
    def cache(self) -> Any:
        """The requests-cache backend (for tests and maintenance)."""
        return self._transport.session.cache

    # ----------------------------------------------------------------------------- credentials

    def verify_credentials(self, *, force: bool = False) -> None:
        """One uncached request; raises on 401/403/404 even when cached data exists.

        Runs at most every `credential_check_s` seconds unless forced (0 = only when forced).
        When the API is unreachable the check is skipped: cached data may then be served stale.
        """
        with self._lock:
            now = time.monotonic()
            interval = self.settings.credential_check_s
            due = force or (
                interval > 0 and (self._last_check is None or now - self._last_check >= interval)
            )
            if not due:
                return
            self._last_check = now
        try:
            response = self._transport.send_whole("GET", CREDENTIAL_PROBE_PATH,
                                                  CREDENTIAL_PROBE_PARAMS, DO_NOT_CACHE)
        except Unavailable:
            logger.warning("Credential check skipped: the Whatfix API is unavailable")
            return
        if response.status_code in CREDENTIAL_FAILURES:
            with self._lock:
                self._last_check = None  # a rejected key stays rejected until a check passes
            raise error_for_status(response.status_code, CREDENTIAL_PROBE_PATH)

    # ------------------------------------------------------------------------------ fetching

    def fetch(
        self, path: str, params: Mapping[str, Any] | None = None, *, kind: str = KIND_WINDOW,
        decode: Decode = decode_json_object, refresh: bool = False,
    ) -> ApiResult:
        """GET `path` and decode its body: the one way every read reaches the API.

        **Order of operations.** A read passes through these layers, outermost first:

        1. Fetch scope (`pacing.fetch_scope`): one deadline (`fetch_deadline_s`) and cancel
           token for the whole read; every step below checks it, and no timeout or wait
           reaches past it.
        2. Credential check: one uncached request at most every `credential_check_s` seconds,
           so a revoked key fails (401/403) even when everything asked for is cached.
        3. HTTP cache (requests-cache; expiry per `kind`, `cache.expire_after_for`): a hit is
           returned from here, without waiting for a slot. When the cache backend fails, the
           same request goes out uncached for `transport.CACHE_RETRY_S`.
        4. Gate (`transport.BoundedAdapter`): the request takes a slot of the account's
           adaptive window (`pacing.AccountGovernor`), waiting out any Retry-After pause.
        5. Retries (urllib3 `Retry`, `transport.retry_policy`): a dropped connection or a
           429/5xx is re-sent up to `retries` times with jittered exponential backoff; a
           429/503 also pauses the whole account (Retry-After, capped).
        6. Body: read inside the slot. A body cut mid-transfer, or one `decode` cannot read
           (deleted from the cache at once), is asked for again, bypassing the cache, up to
           `max(retries + 1, BODY_ATTEMPTS)` times in all, each attempt going through 3-5
           again; a final 429/5xx or no answer from step 5 is not re-sent here.
        7. Status: 200 is decoded and returned; 400/401/403/404 raise at once (never stale).
        8. Stale copy: on an outage (a final 429/5xx, no answer, bodies cut on every attempt)
           a cached copy of any age is returned with `meta.stale` (not for `kind="live"`);
           without one, RateLimitedError / ApiUnavailableError.

        So the layers add, never multiply: a persistent 503 costs `retries + 1` requests, a
        body cut every time `max(retries + 1, BODY_ATTEMPTS)`. `get_all_pages` adds a ninth,
        outside this one: a list whose total moves is fetched again (MAX_LIST_ATTEMPTS).
        """
        with self.fetch_scope(label=path):
            self.verify_credentials()
            return self._read(path, params, kind, decode, refresh=refresh)

    def _read(self, path: str, params: Mapping[str, Any] | None, kind: str, decode: Decode, *,
              refresh: bool) -> ApiResult:
        """Steps 3-8 of `fetch`, inside the caller's scope (a page of `get_all_pages`)."""
        try:
            return self._fetch_live(path, params, kind, decode, refresh=refresh)
        except Unavailable as outage:
            return self._stale_copy_or_raise(outage, path, params, kind, decode)

    def _fetch_live(self, path: str, params: Mapping[str, Any] | None, kind: str,
                    decode: Decode, *, refresh: bool) -> ApiResult:
        """Steps 3-7 of `fetch`; `Unavailable` for an outage (left to step 8)."""
        expire_after = expire_after_for(kind, params, self.settings, self.today())
        transport = self._transport
        unreadable: BadResponseError | None = None
        for attempt in range(transport.attempts):
            transport.pause(attempt)
            try:
                response = transport.send("GET", path, params, expire_after,
                                          refresh=refresh or attempt > 0)
            except BODY_ERRORS:
                unreadable = None
                logger.warning("Cut body from %s (attempt %d)", path, attempt + 1)
                continue
            if response.status_code != 200:
                raise error_for_status(response.status_code, path)
            try:
                return ApiResult(decode(response), response_meta(response))
            except BadResponseError as exc:
                unreadable = exc
                transport.forget(response)
                logger.warning("Unreadable body from %s (attempt %d)", path, attempt + 1)
        if unreadable is not None:
            raise unreadable
        raise Unavailable(None, cut=True)

    def _stale_copy_or_raise(self, outage: Unavailable, path: str,
                             params: Mapping[str, Any] | None, kind: str,
                             decode: Decode) -> ApiResult:
        """Step 8 of `fetch`, the one place a stale copy is decided."""
        copy = self._transport.cached_copy(path, params) if kind != KIND_LIVE else None
        if copy is not None:
            try:
                payload = decode(copy)
            except BadResponseError:
                self._transport.forget(copy)  # an unreadable copy is no copy
            else:
                logger.warning("Serving a cached copy of %s: the API is unavailable (%s)", path,
                               "bodies cut" if outage.cut else outage.status or "no answer")
                return ApiResult(payload, response_meta(copy, stale=True))
        raise outage_error(outage, path, self._transport.attempts) from None

    def get_json(
        self, path: str, params: Mapping[str, Any] | None = None, *, kind: str = KIND_WINDOW,
        refresh: bool = False,
    ) -> ApiResult:
        """A JSON object from `path` (kind: "window" for date ranges, "list", or "live")."""
        return self.fetch(path, params, kind=kind, refresh=refresh)

    def get_text(
        self, path: str, params: Mapping[str, Any] | None = None, *, kind: str = KIND_WINDOW
    ) -> ApiResult:
        """A text body (e.g. the CSV report), decoded as UTF-8 unless the server says otherwise."""
        return self.fetch(path, params, kind=kind, decode=decode_text)

    def get_bytes(
        self, path: str, params: Mapping[str, Any] | None = None, *, kind: str = KIND_WINDOW
    ) -> ApiResult:
        """The raw body bytes, exactly as the API sent them."""
        return self.fetch(path, params, kind=kind, decode=decode_bytes)

    def get_all_pages(
        self, path: str, params: Mapping[str, Any] | None = None, *, kind: str = KIND_LIST,
        id_field: str | tuple[str, ...] = "id", refresh: bool = False, name: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> PagedResult:
        """Every record of a paginated list: page 1, then the rest concurrently; checked complete.

        Each page is one `fetch` (cache, gate, retries, stale copy). Bounded by what the API
        claims and by time: a totalCount that is not a whole number >= 0 is BadResponseError,
        one above `max_rows` TooLargeError (before page 2 is requested); a page that comes back
        short before the end stops the fetch (IncompleteDataError: the data ended early); the
        whole list, retries included, has `fetch_deadline_s`. The rows must add up to
        `totalCount` with no duplicate ids. If the total moves during the fetch (or ids repeat),
        the list is fetched again bypassing the cache (up to MAX_LIST_ATTEMPTS times), then
        IncompleteDataError: never a lost or double-counted row. `name` is the dataset named
        in messages (default: the path); `progress(rows received, totalCount)` after each page.
        """
        label = name or path
        request = ListRequest(
            path=path, params=params, label=label,
            id_fields=(id_field,) if isinstance(id_field, str) else tuple(id_field),
            max_rows=self.settings.max_rows, max_concurrency=self.settings.max_concurrency,
        )

        def fetch_page(page_params: Mapping[str, Any], live: bool) -> ApiResult:
            return self._read(path, page_params, kind, decode_json_object, refresh=live)

        with self.fetch_scope(label=label):
            self.verify_credentials()
            return fetch_all_pages(request, fetch_page, refresh=refresh, progress=progress)

    def map_concurrently(self, function: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """Apply `function` to items with at most `max_concurrency` threads, keeping order.

        The items are one fetch: they share one deadline (and the caller's cancel token).
        """
        items = list(items)
        with self.fetch_scope():
            if len(items) <= 1:
                return [function(item) for item in items]
            workers = min(self.settings.max_concurrency, len(items))
            with ThreadPoolExecutor(max_workers=workers,
                                    thread_name_prefix="whatfix-map") as pool:
                return list(pool.map(pacing.carry_scope(function), items))

    # -------------------------------------------------------------------------------- writing

    def put_json(self, path: str, body: Any, *, operation: str,
                 answered: Iterable[int] = (200, 201)) -> tuple[int, Any]:
        """PUT a JSON body, uncached: (status, decoded JSON body or None) for `answered` statuses.

        The one way a write reaches the API: steps 2 and 4-6 of `fetch`, never the cache or a
        stale copy.

        Retried like a read (urllib3 Retry, cut bodies re-sent: PUT is idempotent), never served
        from a cache. Any other status, an outage or rejected credentials raise; `operation`
        (the spec's path, e.g. "/end-users/{userId}") names it in messages.
        """
        self.verify_credentials()
        try:
            response = self._transport.send_whole("PUT", path, None, DO_NOT_CACHE, body=body)
        except Unavailable as outage:
            raise outage_error(outage, operation, self._transport.attempts) from None
        if response.status_code not in set(answered):
            raise error_for_status(response.status_code, operation)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None


__all__ = [
    "CREDENTIAL_PROBE_PARAMS",
    "CREDENTIAL_PROBE_PATH",
    "KIND_LIST",
    "KIND_LIVE",
    "KIND_WINDOW",
    "PAGE_SIZE",
    "ApiResult",
    "FetchMeta",
    "PagedResult",
    "WhatfixClient",
    "total_count",
]
