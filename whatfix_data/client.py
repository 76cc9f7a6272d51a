"""HTTP client of the Whatfix API: one CachedSession with auth, timeouts, retries and pagination.

Paths are relative to the account, as in the spec without `/{accountId}`: `client.get_json(
"/analytics/flows", {"startDate": ..., "endDate": ...})`. Every request carries both auth headers;
every failure becomes one exception of `whatfix_data.errors`. When the API stays unavailable, a
cached copy is served and marked `stale` (never for 401/403: the credentials are re-checked live
when the client is created and at most every `credential_check_s` seconds after).
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

from whatfix_data import __version__
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
    WhatfixError,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
MAX_LIST_ATTEMPTS = 3  # a list whose total keeps moving is refetched this often, then reported
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


class _BoundedAdapter(HTTPAdapter):
    """An HTTPAdapter that lets at most N requests be on the wire at once (retries included).

    The bound sits here, below the cache: cache hits and cache writes never wait for a slot, and
    the body is read inside the slot so a slot means one whole exchange with the API.
    """

    def __init__(self, gate: threading.BoundedSemaphore, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._gate = gate
        self._stats_lock = threading.Lock()
        self.exchanges = 0
        self.busy_s = 0.0  # slot-seconds spent on the wire (for the benchmark's utilisation)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        with self._gate:
            started = time.perf_counter()
            try:
                response = super().send(request, **kwargs)
                if not kwargs.get("stream"):
                    _ = response.content  # read the body while holding the slot
                return response
            finally:
                with self._stats_lock:
                    self.exchanges += 1
                    self.busy_s += time.perf_counter() - started


def _retry_policy(settings: Settings) -> Retry:
    """urllib3 Retry: exponential backoff with jitter on 429/5xx and dropped connections."""
    return Retry(
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
        # One bound for the whole client: nested page/window pools never exceed it together.
        adapter = _BoundedAdapter(
            threading.BoundedSemaphore(settings.max_concurrency),
            max_retries=_retry_policy(settings),
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
        self._session.close()

    def today(self) -> date:
        """Today (UTC, or the `today` setting): the boundary of never-expiring windows."""
        return self._today()

    def wire_stats(self) -> tuple[int, float]:
        """(exchanges with the API, slot-seconds they held): a slot's use over time."""
        return self._adapter.exchanges, self._adapter.busy_s

    def clear_cache(self) -> int:
        """Delete this scope's cached responses (other accounts' stay); returns how many."""
        return clear_scope(self._session, self._url("/"))

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
        try:
            response = self._session.request(method, self._url(path), **kwargs)
        except CONNECTION_ERRORS as exc:
            logger.warning("%s %s failed: %s", method, path, type(exc).__name__)
            raise _Unavailable(None) from None
        except BODY_ERRORS:
            raise  # a body cut mid-transfer: re-sent by `_send_whole` / `_get_decoded`
        except requests.RequestException as exc:
            raise _request_error(exc, path) from None  # the exception text may quote a header
        except CACHE_ERRORS as exc:  # its text may hold a Redis URL with a password: not shown
            logger.warning("HTTP cache failed on %s %s: %s", method, path, type(exc).__name__)
            raise CacheUnavailableError(operation=path) from None
        if not getattr(response, "from_cache", False):
            with self._lock:
                self.network_requests += 1
        logger.debug("%s %s -> %s (cached=%s)", method, path, response.status_code,
                     getattr(response, "from_cache", False))
        if response.status_code in UNAVAILABLE_STATUSES:
            raise _Unavailable(response.status_code)
        return response

    def _attempts(self) -> int:
        return max(self.settings.retries + 1, BODY_ATTEMPTS)

    def _pause(self, attempt: int) -> None:
        """Exponential backoff before re-requesting a cut or unreadable body."""
        if attempt:
            time.sleep(min(self.settings.backoff_s * 2 ** (attempt - 1), BACKOFF_MAX_S))

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
            self._session.cache.delete(key)

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
        self.verify_credentials()
        return self._get_decoded(path, params, kind, _decode_json_object, refresh=refresh)

    def get_text(
        self, path: str, params: Mapping[str, Any] | None = None, *, kind: str = KIND_WINDOW
    ) -> ApiResult:
        """A text body (e.g. the CSV report), decoded as UTF-8 unless the server says otherwise."""
        self.verify_credentials()
        return self._get_decoded(path, params, kind, _decode_text)

    def get_bytes(
        self, path: str, params: Mapping[str, Any] | None = None, *, kind: str = KIND_WINDOW
    ) -> ApiResult:
        """The raw body bytes, exactly as the API sent them."""
        self.verify_credentials()
        return self._get_decoded(path, params, kind, lambda response: response.content)

    def get_all_pages(
        self, path: str, params: Mapping[str, Any] | None = None, *, kind: str = KIND_LIST,
        id_field: str | tuple[str, ...] = "id", refresh: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> PagedResult:
        """Every record of a paginated list: page 1, then the rest concurrently; checked complete.

        The rows must add up to `totalCount` with no duplicate ids. If the total moves during the
        fetch, the whole list is fetched again bypassing the cache (up to MAX_LIST_ATTEMPTS
        times); if it never settles, IncompleteDataError: never a lost or double-counted row.
        `progress(rows received, totalCount)`, if given, is called after each page.
        """
        self.verify_credentials()
        id_fields = (id_field,) if isinstance(id_field, str) else tuple(id_field)
        problem = ""
        for attempt in range(MAX_LIST_ATTEMPTS):
            pages = self._fetch_pages(path, params, kind, refresh=refresh or attempt > 0,
                                      progress=progress)
            problem = _completeness_problem(pages, id_fields)
            if not problem:
                records = [record for page in pages for record in page.records]
                meta = FetchMeta.combine((p.meta for p in pages), len(records), pages[0].total)
                return PagedResult(records, meta)
            logger.warning("Incomplete list %s (%s), attempt %d", path, problem, attempt + 1)
        raise IncompleteDataError(
            f"The list {path} changed while it was being downloaded ({problem}) and did not "
            f"settle after {MAX_LIST_ATTEMPTS} attempts, so no partial numbers are shown. "
            "Reload in a minute.",
            operation=path,
        )

    def _fetch_pages(
        self, path: str, params: Mapping[str, Any] | None, kind: str, *, refresh: bool,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[_Page]:
        received = [0]
        received_lock = threading.Lock()

        def fetch(number: int) -> _Page:
            page_params = {**(params or {}), "page": number, "pageSize": PAGE_SIZE}
            result = self._get_decoded(path, page_params, kind, _decode_json_object,
                                       refresh=refresh)
            records, total = _page_content(result.payload, path)
            if progress is not None:
                with received_lock:  # in order: a bar never goes back
                    received[0] += len(records)
                    progress(min(received[0], total), total)
            return _Page(records, total, result.meta)

        first = fetch(1)
        page_count = max(math.ceil(first.total / PAGE_SIZE), 1)
        if page_count == 1:
            return [first]
        workers = min(self.settings.max_concurrency, page_count - 1)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="whatfix-page") as pool:
            rest = list(pool.map(fetch, range(2, page_count + 1)))
        return [first, *rest]

    def map_concurrently(self, function: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """Apply `function` to items with at most `max_concurrency` threads, keeping order."""
        items = list(items)
        if len(items) <= 1:
            return [function(item) for item in items]
        workers = min(self.settings.max_concurrency, len(items))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="whatfix-map") as pool:
            return list(pool.map(function, items))

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
    """An integer count from JSON (ints, or strings of digits), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _page_content(payload: dict, path: str) -> tuple[list[dict], int]:
    """(records, totalCount) of one page, or BadResponseError if it is not a paginated list."""
    data = payload.get("data")
    pagination = payload.get("pagination")
    total = _as_count(pagination.get("totalCount")) if isinstance(pagination, dict) else None
    if not isinstance(data, list) or total is None or total < 0:
        raise BadResponseError(
            f"The Whatfix API sent a page of {path} without its data list or totalCount, so "
            "completeness cannot be checked and nothing is shown. Try again later.",
            operation=path,
        )
    return data, total  # items that are not objects are counted here, dropped by frames


def _hashable(value: Any) -> Any:
    """Ids of the wrong JSON type (lists, objects) still need to be compared."""
    return json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else value


def _completeness_problem(pages: list[_Page], id_fields: tuple[str, ...]) -> str:
    """Why these pages are not exactly the list (empty string when they are)."""
    total = pages[0].total
    if any(page.total != total for page in pages):
        return "the total count changed between pages"
    rows = sum(len(page.records) for page in pages)
    if rows != total:
        return f"{rows} rows received for a total of {total}"
    seen: set[tuple] = set()
    for page in pages:
        for record in page.records:
            if not isinstance(record, dict):
                continue
            key = tuple(_hashable(record.get(name)) for name in id_fields)
            if all(part is None for part in key):
                continue  # no id to compare: the row count check still covers it
            if key in seen:
                return f"duplicate id {key if len(key) > 1 else key[0]!r}"
            seen.add(key)
    return ""


__all__ = [
    "KIND_LIST",
    "KIND_LIVE",
    "KIND_WINDOW",
    "PAGE_SIZE",
    "ApiResult",
    "FetchMeta",
    "PagedResult",
    "WhatfixClient",
]
