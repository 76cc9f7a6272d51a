"""HTTP transport of the client: the bounded adapter, the urllib3 Retry policy, error mapping.

`Transport` sends one request of an account through the requests-cache `CachedSession` (or, while
the cache backend fails, a plain session on the same adapter) and raises `Unavailable` for an
outage (429/5xx after the retries, no answer, a body that keeps being cut). The adapter takes a
slot of the account's concurrency gate (`pacing.AccountGovernor`) per exchange, and its
`GovernedRetry` re-sends 429/5xx and dropped connections with backoff, honouring Retry-After and
the fetch's deadline. Final statuses and requests exceptions become `whatfix_data.errors`.
Deciding what to do about an outage (a stale copy) is the client's job, not this module's.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
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
    USER_HEADER,
    build_session,
    clear_scope,
)
from whatfix_data.config import Settings
from whatfix_data.errors import (
    ApiUnavailableError,
    AuthenticationError,
    BadResponseError,
    ConfigurationError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    WhatfixError,
)
from whatfix_data.results import FetchMeta

logger = logging.getLogger(__name__)

BODY_ATTEMPTS = 3  # minimum tries for cut or garbled bodies (outside urllib3's Retry)
RETRY_STATUSES = (429, 500, 502, 503, 504)
UNAVAILABLE_STATUSES = frozenset(RETRY_STATUSES)
BACKOFF_MAX_S = 10.0
STALE_MAX_S = 365 * 24 * 3600  # how old a cached copy may be when served during an outage
NO_STORE = "no-store"
ONLY_IF_CACHED = "only-if-cached"
USER_AGENT = f"whatfix-dashboard/{__version__}"
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
# Raised before anything is sent: a setting makes an impossible URL or header; retrying won't help.
SETUP_ERRORS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
    requests.exceptions.URLRequired,
)


class Unavailable(Exception):
    """The API did not answer usefully after the retries.

    `status` is the last 429/5xx (None: no answer at all); `cut`: every body was cut mid-transfer.
    """

    def __init__(self, status: int | None, *, cut: bool = False) -> None:
        super().__init__(status)
        self.status = status
        self.cut = cut


# ------------------------------------------------------------------------------ the adapter


class BoundedAdapter(HTTPAdapter):
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
            kwargs["timeout"] = within_deadline(kwargs.get("timeout"), control)
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


def within_deadline(timeout: Any, control: pacing.FetchControl | None) -> Any:
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


def retry_policy(settings: Settings, governor: pacing.AccountGovernor) -> Retry:
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


# ----------------------------------------------------------------------------- error mapping


def error_for_status(status: int, operation: str) -> WhatfixError:
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


def outage_error(outage: Unavailable, operation: str, attempts: int) -> WhatfixError:
    """RateLimitedError for a final 429, ApiUnavailableError for 5xx, no answer or cut bodies."""
    if outage.cut:
        return ApiUnavailableError(
            f"The connection to the Whatfix API kept breaking while {operation} was being "
            f"transferred ({attempts} attempts) and no cached copy exists. Try again in a few "
            "minutes; if it persists, check the network between this machine and the API.",
            operation=operation,
        )
    if outage.status is None:
        return ApiUnavailableError(operation=operation)
    return error_for_status(outage.status, operation)


def request_error(exc: requests.RequestException, path: str) -> WhatfixError:
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


# ---------------------------------------------------------------------------------- bodies


def decode_json_object(response: requests.Response) -> dict:
    """The body as a JSON object, or BadResponseError."""
    try:
        payload = json.loads(response.content)
    except ValueError:
        raise BadResponseError(
            "The Whatfix API sent a response that is not valid JSON "
            f"({(response.url or '').split('?')[0]}). Try again later; if it persists, report "
            "it to Whatfix support.",
            operation=response.url,
        ) from None
    if not isinstance(payload, dict):
        raise BadResponseError(
            "The Whatfix API sent JSON that is not an object, unlike its documented format.",
            operation=response.url,
        )
    return payload


def decode_text(response: requests.Response) -> str:
    """The body as text: UTF-8 unless the server names a charset."""
    encoding = response.encoding if "charset" in response.headers.get("Content-Type", "") \
        else "utf-8"
    try:
        return response.content.decode(encoding or "utf-8")
    except (UnicodeDecodeError, LookupError):
        raise BadResponseError("The Whatfix API sent a text file that is not readable text.",
                               operation=response.url) from None


def decode_bytes(response: requests.Response) -> bytes:
    """The raw body bytes, exactly as the API sent them."""
    return response.content


def response_meta(response: requests.Response, *, stale: bool = False) -> FetchMeta:
    """FetchMeta of one response: from the cache or not, and how old."""
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


# ------------------------------------------------------------------------------ the transport


class Transport:
    """One account's HTTP: the cached session, its uncached twin, the adapter; thread-safe."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.session = build_session(settings)
        # One adaptive bound per account and process: nested page/window pools, and every other
        # client of this account (other browser sessions), never exceed it together.
        governor = pacing.governor_for(settings.base_url, settings.account_id,
                                       settings.max_concurrency)
        self.adapter = BoundedAdapter(
            governor,
            max_retries=retry_policy(settings, governor),
            pool_connections=1,
            pool_maxsize=max(settings.max_concurrency, 1),
        )
        self.session.mount("http://", self.adapter)
        self.session.mount("https://", self.adapter)
        _resolve_environment_once(self.session, settings.base_url)
        self.session.headers.update({
            INTEGRATION_KEY_HEADER: settings.integration_key,
            USER_HEADER: settings.user,
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        })
        # The same transport without the cache: used while the cache backend is failing.
        self._live = requests.Session()
        self._live.mount("http://", self.adapter)
        self._live.mount("https://", self.adapter)
        self._live.headers.update(self.session.headers)
        self._live.proxies.update(self.session.proxies)
        self._live.verify = self.session.verify
        self._live.trust_env = False
        self._lock = threading.Lock()
        self._cache_down_until = 0.0
        self._cache_problem: str | None = None
        self.network_requests = 0

    def close(self) -> None:
        """Close the HTTP connections and the cache backend."""
        self._live.close()
        self.session.close()

    @property
    def attempts(self) -> int:
        """How often a cut or unreadable body is asked for (each attempt has its own Retry)."""
        return max(self.settings.retries + 1, BODY_ATTEMPTS)

    def pause(self, attempt: int) -> None:
        """Exponential backoff before re-requesting a cut or unreadable body."""
        if attempt:
            pacing.wait(min(self.settings.backoff_s * 2 ** (attempt - 1), BACKOFF_MAX_S),
                        pacing.current_control())

    def url(self, path: str) -> str:
        """The absolute URL of an account-relative path ("/segments")."""
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/': {path!r}")
        return f"{self.settings.base_url}/{quote(self.settings.account_id, safe='')}{path}"

    # ------------------------------------------------------------------------- cache failures

    @property
    def cache_problem(self) -> str | None:
        """Why responses are not being cached right now (the backend failed), or None."""
        with self._lock:
            return self._cache_problem

    def cache_failed(self, exc: BaseException, method: str, path: str) -> None:
        """Note a cache-backend failure: requests skip the cache for CACHE_RETRY_S."""
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

    def clear_scope(self) -> int:
        """Delete this scope's cached responses; CACHE_ERRORS propagate (after being noted)."""
        try:
            return clear_scope(self.session, self.url("/"))
        except CACHE_ERRORS as exc:
            self.cache_failed(exc, "DELETE", "(cache)")
            raise

    def forget(self, response: requests.Response) -> None:
        """Delete a response from the cache (an unreadable body must not be replayed)."""
        key = getattr(response, "cache_key", None)
        if key:
            try:
                self.session.cache.delete(key)
            except CACHE_ERRORS as exc:  # the unreadable body is not stored anywhere readable
                self.cache_failed(exc, "DELETE", "(cache)")

    # ---------------------------------------------------------------------------------- send

    def send(
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
        """One request through the cache (urllib3's Retry runs inside the adapter).

        Returns any final response that is not an outage; raises `Unavailable` for 429/5xx
        after the retries or no answer, BODY_ERRORS for a body cut mid-transfer, and our own
        errors for the rest.
        """
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
                    response = self.session.request(method, self.url(path), **kwargs)
                except CACHE_ERRORS as exc:
                    self.cache_failed(exc, method, path)
                    if cache_only:
                        raise Unavailable(None) from None  # no copy to read: still an outage
                    response = self._live_request(method, path, kwargs)
            elif cache_only:
                raise Unavailable(None)
            else:
                response = self._live_request(method, path, kwargs)
        except CONNECTION_ERRORS as exc:
            logger.warning("%s %s failed: %s", method, path, type(exc).__name__)
            control = pacing.current_control()
            if control is not None:
                control.check()  # a timeout at the deadline is the deadline's message
            raise Unavailable(None) from None
        except BODY_ERRORS:
            raise  # a body cut mid-transfer: the caller decides whether to send again
        except requests.RequestException as exc:
            raise request_error(exc, path) from None  # the exception text may quote a header
        if not getattr(response, "from_cache", False):
            with self._lock:
                self.network_requests += 1
        logger.debug("%s %s -> %s (cached=%s)", method, path, response.status_code,
                     getattr(response, "from_cache", False))
        if response.status_code in UNAVAILABLE_STATUSES:
            raise Unavailable(response.status_code)
        return response

    def _live_request(self, method: str, path: str, kwargs: dict[str, Any]) -> requests.Response:
        """The request without the cache (the cache backend is failing)."""
        live = {k: v for k, v in kwargs.items() if k not in ("expire_after", "force_refresh")}
        return self._live.request(method, self.url(path), **live)

    def send_whole(self, method: str, path: str, params: Mapping[str, Any] | None,
                   expire_after: int | None, **kwargs: Any) -> requests.Response:
        """`send`, re-sent when the connection drops mid-body; `Unavailable(cut=True)` if it
        keeps dropping (urllib3's Retry covers everything up to the headers, not the body)."""
        for attempt in range(self.attempts):
            self.pause(attempt)
            try:
                return self.send(method, path, params, expire_after, **kwargs)
            except BODY_ERRORS:
                logger.warning("Cut body from %s %s (attempt %d)", method, path, attempt + 1)
        raise Unavailable(None, cut=True)

    def cached_copy(self, path: str, params: Mapping[str, Any] | None) -> requests.Response | None:
        """A cached 200 of any age for this GET, or None; never sends anything to the API."""
        directive = f"{ONLY_IF_CACHED},stale-if-error={STALE_MAX_S}"
        try:
            response = self.send("GET", path, params, None, headers={"Cache-Control": directive})
        except Unavailable:
            return None
        return response if response.status_code == 200 and response.from_cache else None


__all__ = [
    "BODY_ATTEMPTS",
    "BODY_ERRORS",
    "CACHE_ERRORS",
    "RETRY_STATUSES",
    "STALE_MAX_S",
    "BoundedAdapter",
    "Transport",
    "Unavailable",
    "decode_bytes",
    "decode_json_object",
    "decode_text",
    "error_for_status",
    "outage_error",
    "request_error",
    "response_meta",
    "retry_policy",
]
