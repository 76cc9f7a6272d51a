"""HTTP client of the Whatfix API: one CachedSession with auth, timeouts, retries and pagination.

Paths are relative to the account, as in the spec without `/{accountId}`: `client.get_json(
"/analytics/flows", {"startDate": ..., "endDate": ...})`. Every request carries both auth headers;
every failure becomes one exception of `whatfix_data.errors`. When the API stays unavailable, a
cached copy is served and marked `stale` (never for 401/403: the credentials are re-checked live
when the client is created and at most every `credential_check_s` seconds after). When the cache
itself fails (a shared Redis that is down), requests go to the API uncached for a while and
`cache_problem` says so: the app keeps working on live requests.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import redis
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from whatfix_data import __version__, pacing
from whatfix_data.cache import (
    DO_NOT_CACHE,
    INTEGRATION_KEY_HEADER,
    KIND_LIST,
    KIND_LIVE,
    KIND_WINDOW,
    USER_HEADER,
    build_session,
    clear_scope,
    expire_after_for,
    utc_today,
)
from whatfix_data.config import Settings
from whatfix_data.errors import (
    ApiUnavailableError,
    AuthenticationError,
    BadResponseError,
    CacheUnavailableError,
    ConfigurationError,
    IncompleteDataError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    TooLargeError,
    WhatfixError,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
MAX_LIST_ATTEMPTS = 3  # a list whose total keeps moving is refetched this often, then reported
MAX_COUNT_DIGITS = 30  # a totalCount written with more digits is not a count (and int() refuses)
SHOWN_VALUE_CHARS = 40  # how much of an unusable value from the API a message quotes
BODY_ATTEMPTS = 3  # minimum tries for cut or garbled bodies (outside urllib3's Retry)
RETRY_STATUSES = (429, 500, 502, 503, 504)
UNAVAILABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
BACKOFF_MAX_S = 10.0
STALE_MAX_S = 365 * 24 * 3600  # how old a cached copy may be when served during an outage
NO_STORE = "no-store"
CREDENTIAL_PROBE_PATH = "/segments"
CREDENTIAL_PROBE_PARAMS = {"page": 1, "pageSize": 1}
USER_AGENT = f"whatfix-dashboard/{__version__}"
UPSERT_OK = (200, 201)
UPSERT_REJECTED = 400
BODY_ERRORS = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)
CONNECTION_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.RetryError,
)
# The cache backend failed (shared Redis down, SQLite file unwritable): not the API's fault.
CACHE_ERRORS = (redis.exceptions.RedisError, sqlite3.Error)
# After a cache failure, requests skip the cache this long before it is tried again (a Redis
# that is down would otherwise cost its connect timeout on every request).
CACHE_RETRY_S = 30.0
ONLY_IF_CACHED = "only-if-cached"
# Raised before anything is sent: a setting makes an impossible URL or header; retrying won't help.
SETUP_ERRORS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
    requests.exceptions.URLRequired,
)


@dataclass(frozen=True)
class FetchMeta:
    """Where a result came from: cache or network, stale or fresh, and how big it was.

    `requests` counts the HTTP calls the result needed (cached or not), `network_requests` those
    that reached the API. `age_s` is the age of the oldest cached part (0 when all fresh).
    """

    fetched_at: datetime
    from_cache: bool
    stale: bool
    age_s: float
    requests: int
    rows: int | None = None
    total_count: int | None = None
    network_requests: int = 0

    @staticmethod
    def combine(metas: Iterable[FetchMeta], rows: int | None = None,
                total_count: int | None = None) -> FetchMeta:
        """One meta for a result assembled from several responses (pages or windows)."""
        parts = list(metas)
        if not parts:
            return FetchMeta(datetime.now(UTC), False, False, 0.0, 0, rows, total_count)
        return FetchMeta(
            fetched_at=min(m.fetched_at for m in parts),
            from_cache=all(m.from_cache for m in parts),
            stale=any(m.stale for m in parts),
            age_s=max(m.age_s for m in parts),
            requests=sum(m.requests for m in parts),
            rows=rows,
            total_count=total_count,
            network_requests=sum(m.network_requests for m in parts),
        )


@dataclass(frozen=True)
class ApiResult:
    """A decoded response body (JSON object or text) and where it came from."""

    payload: Any
    meta: FetchMeta


@dataclass(frozen=True)
class PagedResult:
    """All records of a paginated list, checked complete, and where they came from."""

    records: list[dict] = field(repr=False)
    meta: FetchMeta


# Called with the cache scope after an upsert changed an account's end users (see datasets).
_change_listeners: list[Callable[[str], None]] = []


def on_account_change(listener: Callable[[str], None]) -> None:
    """Register `listener(cache_scope)`, called after a successful end-user upsert."""
    if listener not in _change_listeners:
        _change_listeners.append(listener)


class _Unavailable(Exception):
    """Internal: the API did not answer usefully after the retries (status None = no answer)."""

    def __init__(self, status: int | None) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class _Page:
    records: list[dict]
    total: int
    meta: FetchMeta
    number: int = 1


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

    def report(self, page: _Page) -> None:
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

    def __init__(self, progress: Callable[[int, int], None] | None) -> None:
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


class _BoundedAdapter(HTTPAdapter):
    """An HTTPAdapter whose requests go through the account's adaptive window (retries included).

    The bound sits here, below the cache: cache hits and cache writes never wait for a slot, and
    the body is read inside the slot so a slot means one whole exchange with the API. The window
    (`pacing.AccountGovernor`) is shared by every client of the account in this process; the
    read timeout never reaches past the deadline of the fetch the request belongs to.
    """

    def __init__(self, governor: pacing.AccountGovernor, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.governor = governor
        self._stats_lock = threading.Lock()
        self.exchanges = 0
        self.busy_s = 0.0  # slot-seconds spent on the wire (for the benchmark's utilisation)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        control = pacing.current_control()
        self.governor.acquire(control)
        started = time.perf_counter()
        status: int | None = None
        latency_s: float | None = None
        try:
            kwargs["timeout"] = _within_deadline(kwargs.get("timeout"), control)
            response = super().send(request, **kwargs)
            if not kwargs.get("stream"):
                _ = response.content  # read the body while holding the slot
            status = response.status_code
            if not _was_retried(response):  # only one-attempt answers measure the API's latency
                latency_s = time.perf_counter() - started
            return response
        finally:
            self.governor.release(status, latency_s)
            with self._stats_lock:
                self.exchanges += 1
                self.busy_s += time.perf_counter() - started


def _within_deadline(timeout: Any, control: pacing.FetchControl | None) -> Any:
    """The (connect, read) timeout, shortened so that no wait outlasts the fetch's deadline."""
    if control is None:
        return timeout
    control.check()
    left = max(control.remaining(), 0.001)
    if isinstance(timeout, tuple):
        return tuple(left if part is None else min(part, left) for part in timeout)
    return left if timeout is None else min(timeout, left)


def _was_retried(response: requests.Response) -> bool:
    retries = getattr(response.raw, "retries", None)
    return bool(retries is not None and retries.history)


def _retry_policy(settings: Settings, governor: pacing.AccountGovernor) -> Retry:
    """urllib3 Retry: exponential backoff with jitter on 429/5xx and dropped connections; a
    429/503 pauses the whole account (Retry-After) and no retry outlives the fetch's deadline."""
    return pacing.GovernedRetry(
        governor=governor,
        total=settings.retries,
        connect=settings.retries,
        read=settings.retries,
        status=settings.retries,
        other=settings.retries,
        backoff_factor=settings.backoff_s,
        backoff_jitter=settings.backoff_s,
        backoff_max=BACKOFF_MAX_S,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "PUT"}),  # PUT upserts are idempotent
        respect_retry_after_header=True,
        raise_on_status=False,  # the last response is mapped to our own exceptions
    )


def _error_for_status(status: int, operation: str) -> WhatfixError:
    """The exception for a final non-2xx status (after retries)."""
    kinds: dict[int, type[WhatfixError]] = {
        400: InvalidRequestError,
        401: AuthenticationError,
        403: PermissionDeniedError,
        404: NotFoundError,
        429: RateLimitedError,
    }
    if status in kinds:
        return kinds[status](status_code=status, operation=operation)
    if status >= 500:
        return ApiUnavailableError(status_code=status, operation=operation)
    return BadResponseError(
        f"The Whatfix API answered {operation} with an unexpected status {status}.",
        status_code=status,
        operation=operation,
    )


def _resolve_environment_once(session: requests.Session, base_url: str) -> None:
    """Read proxy and CA-bundle variables once, not on every request.

    requests re-reads the whole environment per request when `trust_env` is on, which costs more
    than a cache hit itself; the values cannot change for the life of a client anyway.
    """
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False


def _outage_error(outage: _Unavailable, operation: str) -> WhatfixError:
    """RateLimitedError for a final 429, ApiUnavailableError for 5xx or no answer."""
    if outage.status is None:
        return ApiUnavailableError(operation=operation)
    return _error_for_status(outage.status, operation)


def _operation(path: str) -> str:
    return path.split("?")[0]


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
        fixed = settings.today
        self._today = today or ((lambda: fixed) if fixed is not None else utc_today)
        self._session = build_session(settings)
        # One adaptive bound per account and process: nested page/window pools, and every other
        # client of this account (other browser sessions), never exceed it together.
        governor = pacing.governor_for(settings.base_url, settings.account_id,
                                       settings.max_concurrency)
        adapter = _BoundedAdapter(
            governor,
            max_retries=_retry_policy(settings, governor),
            pool_connections=1,
            pool_maxsize=max(settings.max_concurrency, 1),
        )
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._adapter = adapter
        _resolve_environment_once(self._session, settings.base_url)
        self._session.headers.update(
            {
                INTEGRATION_KEY_HEADER: settings.integration_key,
                USER_HEADER: settings.user,
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            }
        )
        # The same transport without the cache: used while the cache backend is failing.
        self._live = requests.Session()
        self._live.mount("http://", adapter)
        self._live.mount("https://", adapter)
        self._live.headers.update(self._session.headers)
        self._live.proxies.update(self._session.proxies)
        self._live.verify = self._session.verify
        self._live.trust_env = False
        self._cache_down_until = 0.0
        self._cache_problem: str | None = None
        self._lock = threading.Lock()
        self._last_check: float | None = None
        self.network_requests = 0
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
        self._live.close()
        self._session.close()

    @property
    def cache_problem(self) -> str | None:
        """Why responses are not being cached right now (the backend failed), or None."""
        with self._lock:
            return self._cache_problem

    def _cache_failed(self, exc: BaseException, method: str, path: str) -> None:
        logger.warning("HTTP cache failed on %s %s (%s): requests go to the API uncached for "
                       "%.0f s", method, path, type(exc).__name__, CACHE_RETRY_S)
        with self._lock:
            self._cache_down_until = time.monotonic() + CACHE_RETRY_S
            self._cache_problem = (
                "The shared HTTP cache set in WHATFIX_CACHE cannot be reached (a Redis server "
                "that is down, or a cache file that cannot be written), so every view asks the "
                "Whatfix API directly, which is slower. Start the cache again; it is retried "
                f"every {CACHE_RETRY_S:.0f} s."
            )

    def _cache_usable(self) -> bool:
        with self._lock:
            return time.monotonic() >= self._cache_down_until

    def today(self) -> date:
        """Today (UTC, or the `today` setting): the boundary of never-expiring windows."""
        return self._today()

    @property
    def governor(self) -> pacing.AccountGovernor:
        """The account's adaptive concurrency window and Retry-After pause (shared)."""
        return self._adapter.governor

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
        return self._adapter.exchanges, self._adapter.busy_s

    def clear_cache(self) -> int:
        """Delete this scope's cached responses (other accounts' stay); returns how many."""
        try:
            return clear_scope(self._session, self._url("/"))
        except CACHE_ERRORS as exc:  # its text may hold a Redis URL with a password
            self._cache_failed(exc, "DELETE", "(cache)")
            raise CacheUnavailableError(operation="clear cache") from None

    @property
    def cache(self) -> Any:
        """The requests-cache backend (for tests and maintenance)."""
        return self._session.cache

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
            response = self._send_whole("GET", CREDENTIAL_PROBE_PATH, CREDENTIAL_PROBE_PARAMS,
                                        DO_NOT_CACHE)
        except _Unavailable:
            logger.warning("Credential check skipped: the Whatfix API is unavailable")
            return
        if response.status_code in (401, 403, 404):
            with self._lock:
                self._last_check = None  # a rejected key stays rejected until a check passes
            raise _error_for_status(response.status_code, CREDENTIAL_PROBE_PATH)

    # ------------------------------------------------------------------------------ transport

    def _url(self, path: str) -> str:
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/': {path!r}")
        return f"{self.settings.base_url}/{quote(self.settings.account_id, safe='')}{path}"

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        expire_after: int | None,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        refresh: bool = False,
    ) -> requests.Response:
        """One request through the cache (retries happen inside the adapter)."""
        timeout = (self.settings.connect_timeout_s, self.settings.read_timeout_s)
        kwargs: dict[str, Any] = {"params": dict(params or {}), "timeout": timeout}
        if body is not None:
            kwargs["json"] = body
        extra = dict(headers or {})
        if expire_after == DO_NOT_CACHE:
            # requests-cache's DO_NOT_CACHE skips the read but still writes; no-store skips both.
            extra["Cache-Control"] = NO_STORE
        elif expire_after is not None:
            kwargs["expire_after"] = expire_after
        if extra:
            kwargs["headers"] = extra
        if refresh:
            kwargs["force_refresh"] = True
        cache_only = ONLY_IF_CACHED in extra.get("Cache-Control", "")
        try:
            if self._cache_usable():
                try:
                    response = self._session.request(method, self._url(path), **kwargs)
                except CACHE_ERRORS as exc:
                    self._cache_failed(exc, method, path)
                    if cache_only:
                        raise _Unavailable(None) from None  # no copy to read: still an outage
                    response = self._live_request(method, path, kwargs)
            elif cache_only:
                raise _Unavailable(None)
            else:
                response = self._live_request(method, path, kwargs)
        except CONNECTION_ERRORS as exc:
            logger.warning("%s %s failed: %s", method, path, type(exc).__name__)
            control = pacing.current_control()
            if control is not None:
                control.check()  # a timeout at the deadline is the deadline's message
            raise _Unavailable(None) from None
        except BODY_ERRORS:
            raise  # a body cut mid-transfer: re-sent by `_send_whole` / `_get_decoded`
        except requests.RequestException as exc:
            raise _request_error(exc, path) from None  # the exception text may quote a header
        if not getattr(response, "from_cache", False):
            with self._lock:
                self.network_requests += 1
        logger.debug("%s %s -> %s (cached=%s)", method, path, response.status_code,
                     getattr(response, "from_cache", False))
        if response.status_code in UNAVAILABLE_STATUSES:
            raise _Unavailable(response.status_code)
        return response

    def _live_request(self, method: str, path: str, kwargs: dict[str, Any]) -> requests.Response:
        """The request without the cache (the cache backend is failing)."""
        live = {k: v for k, v in kwargs.items() if k not in ("expire_after", "force_refresh")}
        return self._live.request(method, self._url(path), **live)

    def _attempts(self) -> int:
        return max(self.settings.retries + 1, BODY_ATTEMPTS)

    def _pause(self, attempt: int) -> None:
        """Exponential backoff before re-requesting a cut or unreadable body."""
        if attempt:
            pacing.wait(min(self.settings.backoff_s * 2 ** (attempt - 1), BACKOFF_MAX_S),
                        pacing.current_control())

    def _send_whole(self, method: str, path: str, params: Mapping[str, Any] | None,
                    expire_after: int | None, **kwargs: Any) -> requests.Response:
        """`_send`, re-sent when the connection drops mid-body; `_Unavailable` if it keeps
        dropping (urllib3's Retry covers everything up to the headers, not the body)."""
        for attempt in range(self._attempts()):
            self._pause(attempt)
            try:
                return self._send(method, path, params, expire_after, **kwargs)
            except BODY_ERRORS:
                logger.warning("Cut body from %s %s (attempt %d)", method, path, attempt + 1)
        raise _Unavailable(None)

    def _stale_copy(self, path: str, params: Mapping[str, Any] | None) -> requests.Response | None:
        """A cached copy of any age, or None: used only when the API is unavailable."""
        directive = f"only-if-cached,stale-if-error={STALE_MAX_S}"
        try:
            response = self._send("GET", path, params, None,
                                  headers={"Cache-Control": directive})
        except _Unavailable:
            return None
        return response if response.status_code == 200 and response.from_cache else None

    def _forget(self, response: requests.Response) -> None:
        """Delete a response from the cache (an unreadable body must not be replayed)."""
        key = getattr(response, "cache_key", None)
        if key:
            try:
                self._session.cache.delete(key)
            except CACHE_ERRORS as exc:  # the unreadable body is not stored anywhere readable
                self._cache_failed(exc, "DELETE", "(cache)")

    def _meta(self, response: requests.Response, *, stale: bool = False) -> FetchMeta:
        now = datetime.now(UTC)
        from_cache = bool(getattr(response, "from_cache", False))
        created = getattr(response, "created_at", None) if from_cache else None
        if created is not None and created.tzinfo is None:
            created = created.replace(tzinfo=UTC)  # requests-cache stores naive UTC
        fetched_at = created or now
        return FetchMeta(
            fetched_at=fetched_at,
            from_cache=from_cache,
            stale=stale,
            age_s=max((now - fetched_at).total_seconds(), 0.0),
            requests=1,
            network_requests=0 if from_cache else 1,
        )

    def _get(
        self, path: str, params: Mapping[str, Any] | None, kind: str, *, refresh: bool = False
    ) -> tuple[requests.Response, FetchMeta]:
        """GET with the expiry of its kind; stale cached copy when the API stays unavailable."""
        expire_after = expire_after_for(kind, params, self.settings, self.today())
        try:
            response = self._send("GET", path, params, expire_after, refresh=refresh)
        except _Unavailable as outage:
            stale = self._stale_copy(path, params) if kind != KIND_LIVE else None
            if stale is None:
                raise _outage_error(outage, path) from None
            logger.warning("Serving a cached copy of %s: the API is unavailable", path)
            return stale, self._meta(stale, stale=True)
        if response.status_code != 200:
            raise _error_for_status(response.status_code, path)
        return response, self._meta(response)

    def _get_decoded(
        self, path: str, params: Mapping[str, Any] | None, kind: str,
        decode: Callable[[requests.Response], Any], *, refresh: bool = False,
    ) -> ApiResult:
        """GET and decode; a cut or unreadable body is re-requested (uncached) a few times.

        An unreadable body that reached the cache is deleted from it at once: it is never served
        (validating every body before storing it would parse each response twice).
        """
        last_error: Exception | None = None
        for attempt in range(self._attempts()):
            self._pause(attempt)
            try:
                response, meta = self._get(path, params, kind, refresh=refresh or attempt > 0)
            except BODY_ERRORS as exc:
                last_error = exc
            else:
                try:
                    return ApiResult(decode(response), meta)
                except BadResponseError as exc:
                    last_error = exc
                    self._forget(response)
            logger.warning("Unreadable body from %s (attempt %d)", path, attempt + 1)
        if isinstance(last_error, BadResponseError):
            raise last_error
        return self._after_cut_bodies(path, params, kind, decode)

    def _after_cut_bodies(
        self, path: str, params: Mapping[str, Any] | None, kind: str,
        decode: Callable[[requests.Response], Any],
    ) -> ApiResult:
        """The connection kept breaking mid-body: an outage, so a cached copy if there is one."""
        stale = self._stale_copy(path, params) if kind != KIND_LIVE else None
        if stale is not None:
            logger.warning("Serving a cached copy of %s: its body kept being cut", path)
            return ApiResult(decode(stale), self._meta(stale, stale=True))
        raise ApiUnavailableError(
            f"The connection to the Whatfix API kept breaking while {path} was being downloaded "
            f"({self._attempts()} attempts) and no cached copy exists. Try again in a few "
            "minutes; if it persists, check the network between this machine and the API.",
            operation=path,
        )

    # ------------------------------------------------------------------------------ public API

    def get_json(
        self, path: str, params: Mapping[str, Any] | None = None, *, kind: str = KIND_WINDOW,
        refresh: bool = False,
    ) -> ApiResult:
        """A JSON object from `path` (kind: "window" for date ranges, "list", or "live")."""
        with self.fetch_scope(label=path):
            self.verify_credentials()
            return self._get_decoded(path, params, kind, _decode_json_object, refresh=refresh)

    def get_text(
        self, path: str, params: Mapping[str, Any] | None = None, *, kind: str = KIND_WINDOW
    ) -> ApiResult:
        """A text body (e.g. the CSV report), decoded as UTF-8 unless the server says otherwise."""
        with self.fetch_scope(label=path):
            self.verify_credentials()
            return self._get_decoded(path, params, kind, _decode_text)

    def get_bytes(
        self, path: str, params: Mapping[str, Any] | None = None, *, kind: str = KIND_WINDOW
    ) -> ApiResult:
        """The raw body bytes, exactly as the API sent them."""
        with self.fetch_scope(label=path):
            self.verify_credentials()
            return self._get_decoded(path, params, kind, lambda response: response.content)

    def get_all_pages(
        self, path: str, params: Mapping[str, Any] | None = None, *, kind: str = KIND_LIST,
        id_field: str | tuple[str, ...] = "id", refresh: bool = False, name: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> PagedResult:
        """Every record of a paginated list: page 1, then the rest concurrently; checked complete.

        Bounded by what the API claims and by time: a totalCount that is not a whole number >= 0
        is BadResponseError, one above `max_rows` TooLargeError (before page 2 is requested); a
        page that comes back short before the end stops the fetch (IncompleteDataError: the data
        ended early); the whole list, retries included, has `fetch_deadline_s`. The rows must add
        up to `totalCount` with no duplicate ids. If the total moves during the fetch (or ids
        repeat), the list is fetched again bypassing the cache (up to MAX_LIST_ATTEMPTS times),
        then IncompleteDataError: never a lost or double-counted row. `name` is the dataset named
        in messages (default: the path); `progress(rows received, totalCount)` after each page.
        """
        label = name or path
        with self.fetch_scope(label=label):
            self.verify_credentials()
            id_fields = (id_field,) if isinstance(id_field, str) else tuple(id_field)
            problem = ""
            for attempt in range(MAX_LIST_ATTEMPTS):
                pages = self._fetch_pages(path, params, kind, refresh=refresh or attempt > 0,
                                          label=label, progress=progress)
                problem, worth_retrying = _completeness_problem(pages, id_fields)
                if not problem:
                    records = [record for page in pages for record in page.records]
                    meta = FetchMeta.combine((p.meta for p in pages), len(records),
                                             pages[0].total)
                    return PagedResult(records, meta)
                if not worth_retrying and (refresh or attempt > 0
                                           or not any(p.meta.from_cache for p in pages)):
                    raise IncompleteDataError(
                        f"The Whatfix API says {label} has {pages[0].total:,} rows, but {problem}: "
                        f"the data ended early, so the download stopped there ({len(pages)} "
                        "requests) and no partial numbers are shown. Reload later; if it "
                        "persists, report it to Whatfix support.",
                        operation=path,
                    )
                # a moving list, or a short page served from the cache: once more, live
                logger.warning("Incomplete list %s (%s), attempt %d", path, problem, attempt + 1)
        raise IncompleteDataError(
            f"The list {label} changed while it was being downloaded ({problem}) and did not "
            f"settle after {MAX_LIST_ATTEMPTS} attempts, so no partial numbers are shown. "
            "Reload in a minute.",
            operation=path,
        )

    def _fetch_pages(
        self, path: str, params: Mapping[str, Any] | None, kind: str, *, refresh: bool,
        label: str, progress: Callable[[int, int], None] | None,
    ) -> list[_Page]:
        """Page 1, then the pages its (checked) total implies, stopping at a short page."""
        received = _RowTally(progress)

        def fetch(number: int) -> _Page:
            page_params = {**(params or {}), "page": number, "pageSize": PAGE_SIZE}
            result = self._get_decoded(path, page_params, kind, _decode_json_object,
                                       refresh=refresh)
            try:
                records, total = _page_content(result.payload, path, label,
                                               self.settings.max_rows)
            except (BadResponseError, TooLargeError):
                if not result.meta.from_cache:
                    raise
                # a cached copy (past windows never expire) is asked for once more, live
                result = self._get_decoded(path, page_params, kind, _decode_json_object,
                                           refresh=True)
                records, total = _page_content(result.payload, path, label,
                                               self.settings.max_rows)
            received.add(len(records), total)
            return _Page(records, total, result.meta, number)

        first = fetch(1)
        page_count = max(math.ceil(first.total / PAGE_SIZE), 1)
        if page_count == 1 or len(first.records) < PAGE_SIZE:
            return [first]  # one page, or the data already ended (reported by the caller)
        return [first, *self._rest_of_pages(fetch, first, page_count)]

    def _rest_of_pages(self, fetch: Callable[[int], _Page], first: _Page,
                       page_count: int) -> list[_Page]:
        """Pages 2..page_count, handed out in order to workers; none is requested once a page
        came back short (the data ended), the total moved, a page failed or the fetch stopped."""
        plan = _PagePlan(page_count, first.total)

        def work() -> list[_Page]:
            done: list[_Page] = []
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

        workers = min(self.settings.max_concurrency, page_count - 1)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="whatfix-page") as pool:
            futures = [pool.submit(pacing.carry_scope(work)) for _ in range(workers)]
        pages = [page for future in futures for page in future.result()]
        return sorted(pages, key=lambda page: page.number)

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

    def put_end_user(self, user_id: str, body: dict) -> tuple[int, dict]:
        """Upsert one end user: (200 updated | 201 created | 400 rejected, response body).

        A 400 is returned, not raised, so a batch sync can report it per row; 401/403/404,
        rate limiting and outages raise.
        """
        self.verify_credentials()
        path = f"/end-users/{quote(str(user_id), safe='')}"
        try:
            response = self._send_whole("PUT", path, None, DO_NOT_CACHE, body=body)
        except _Unavailable as outage:
            raise _outage_error(outage, "/end-users/{userId}") from None
        if response.status_code not in (*UPSERT_OK, UPSERT_REJECTED):
            raise _error_for_status(response.status_code, "/end-users/{userId}")
        if response.status_code in UPSERT_OK:
            for listener in list(_change_listeners):
                listener(self.settings.cache_scope)
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        return response.status_code, payload if isinstance(payload, dict) else {}


def _request_error(exc: requests.RequestException, path: str) -> WhatfixError:
    """A requests exception that is neither an outage nor a cut body, as our own error.

    Only the exception's type is named: its text may quote a header, i.e. the key.
    """
    if isinstance(exc, SETUP_ERRORS):
        return ConfigurationError(
            f"The request to the Whatfix API could not be built ({type(exc).__name__}): check "
            "WHATFIX_BASE_URL, WHATFIX_ACCOUNT_ID and WHATFIX_USER for stray spaces, line "
            "breaks or other characters.",
            operation=path,
        )
    return BadResponseError(
        f"The exchange with the Whatfix API failed ({type(exc).__name__}) for {path}. Try "
        "again later; if it persists, report it to Whatfix support.",
        operation=path,
    )


def _decode_json_object(response: requests.Response) -> dict:
    """The body as a JSON object, or BadResponseError."""
    try:
        payload = json.loads(response.content)
    except ValueError:
        raise BadResponseError(
            "The Whatfix API sent a response that is not valid JSON "
            f"({_operation(response.url or '')}). Try again later; if it persists, report it "
            "to Whatfix support.",
            operation=response.url,
        ) from None
    if not isinstance(payload, dict):
        raise BadResponseError(
            "The Whatfix API sent JSON that is not an object, unlike its documented format.",
            operation=response.url,
        )
    return payload


def _decode_text(response: requests.Response) -> str:
    encoding = response.encoding if "charset" in response.headers.get("Content-Type", "") \
        else "utf-8"
    try:
        return response.content.decode(encoding or "utf-8")
    except (UnicodeDecodeError, LookupError):
        raise BadResponseError("The Whatfix API sent a text file that is not readable text.",
                               operation=response.url) from None


def _as_count(value: Any) -> int | None:
    """An integer count from JSON (ints, whole floats, strings of ASCII digits), else None."""
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
    total = _as_count(raw)
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


def _page_content(payload: dict, path: str, label: str, max_rows: int) -> tuple[list[dict], int]:
    """(records, checked totalCount) of one page, or BadResponseError / TooLargeError."""
    data = payload.get("data")
    if not isinstance(data, list):
        raise BadResponseError(
            f"The Whatfix API sent a page of {label} without its data list, so completeness "
            "cannot be checked and nothing is shown. Try again later.",
            operation=path,
        )
    return data, total_count(payload, label, max_rows)  # non-objects are dropped by frames


def _hashable(value: Any) -> Any:
    """Ids of the wrong JSON type (lists, objects) still need to be compared."""
    return json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else value


def _completeness_problem(pages: list[_Page], id_fields: tuple[str, ...]) -> tuple[str, bool]:
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
    duplicate = _first_duplicate(pages, id_fields)
    if duplicate is not None:
        return f"duplicate id {duplicate if len(id_fields) > 1 else duplicate[0]!r}", True
    return "", True


def _record_keys(pages: list[_Page], id_fields: tuple[str, ...]) -> list[tuple]:
    """The id tuple of every object record (records without any id are left out)."""
    if len(id_fields) == 1:  # the common case, without a generator per record
        name = id_fields[0]
        return [(value,) for page in pages for record in page.records
                if isinstance(record, dict) and (value := record.get(name)) is not None]
    no_id = (None,) * len(id_fields)
    return [key for page in pages for record in page.records if isinstance(record, dict)
            and (key := tuple(map(record.get, id_fields))) != no_id]


def _first_duplicate(pages: list[_Page], id_fields: tuple[str, ...]) -> tuple | None:
    """The first id seen twice, or None. A set of the ids answers the common case at C speed;
    only a list with a duplicate, or ids of the wrong JSON type (lists, objects), is walked."""
    keys = _record_keys(pages, id_fields)
    try:
        if len(set(keys)) == len(keys):
            return None
    except TypeError:  # an unhashable id: compared in its JSON form below
        pass
    seen: set[tuple] = set()
    for key in keys:
        comparable = tuple(_hashable(part) for part in key)
        if comparable in seen:
            return key
        seen.add(comparable)
    return None


__all__ = [
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
