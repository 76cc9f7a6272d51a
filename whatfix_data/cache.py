"""Cache policy: what is fresh, backend choice, per-account cache keys, private files.

Freshness is decided here once, for every layer: `lifetime_s` says how long data of a request
kind and window stays fresh (a window that ended before today: forever; a window with today:
`ttl_today_s`; a list: `ttl_lists_s`; a live request: not kept). The HTTP cache asks it through
`expire_after_for` (requests-cache's form of the same answer); the in-process memo of finished
datasets (`whatfix_data.datasets`) asks it directly. "Today" is `windows.today_for(settings)`.

One requests-cache `CachedSession` serves every request (see `whatfix_data.client`). This module
decides where it stores responses (SQLite file, Redis, memory, or nowhere), how cache keys are
scoped (requests-cache's own key plus `Settings.cache_scope`: base URL, account and a sha256
fingerprint of the key, never the key), and guarantees that stored requests carry no
credentials (requests-cache redacts `ignored_parameters`). A Redis that is down fails within
REDIS_TIMEOUT_S; the client then falls back to uncached requests.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import requests_cache._utils
from requests_cache import CachedSession, create_key
from requests_cache.backends import BaseCache, RedisCache, SQLiteCache
from requests_cache.policy import DO_NOT_CACHE, NEVER_EXPIRE
from requests_cache.policy.settings import DEFAULT_IGNORED_PARAMS

from whatfix_data.config import CACHE_MEMORY, CACHE_OFF, DEFAULT_TTL_TODAY_S, Settings
from whatfix_data.errors import ConfigurationError
from whatfix_data.windows import DateRange


def memoise_signatures_of_requests_cache() -> None:
    """Make requests-cache look up each function's signature once, not once per request.

    requests-cache 1.3 parses the Cache-Control directives of every request and response with
    `_utils.get_valid_kwargs`, which calls `inspect.signature` on the same attrs `__init__` each
    time: 38 % of a fetch thread's CPU (py-spy, 200 pages of end users; docs/PERFORMANCE.md).
    A function's signature does not change, so the same answer is kept per function. This is the
    project's one patch of a library's internals; `tests/test_cache.py` fails when requests-cache
    stops looking signatures up this way (then drop this).
    """
    current = requests_cache._utils.signature
    if not isinstance(current, functools._lru_cache_wrapper):
        requests_cache._utils.signature = functools.lru_cache(maxsize=256)(inspect.signature)


memoise_signatures_of_requests_cache()

INTEGRATION_KEY_HEADER = "x-whatfix-integration-key"
USER_HEADER = "x-whatfix-user"
# requests-cache matches ignored names case-sensitively against the stored header names, so both
# spellings are listed; the client always sends the lower-case ones.
IGNORED_PARAMETERS: tuple[str, ...] = (
    *DEFAULT_IGNORED_PARAMS,
    INTEGRATION_KEY_HEADER,
    INTEGRATION_KEY_HEADER.title(),
    USER_HEADER,
    USER_HEADER.title(),
)
REDIS_NAMESPACE = "whatfix_http_cache"
# A Redis that is down or unreachable must fail fast: the client then goes on uncached.
REDIS_TIMEOUT_S = 2.0
FILE_MODE = 0o600
DIR_MODE = 0o700
SQLITE_BUSY_TIMEOUT_MS = 5000
CACHEABLE_STATUS = (200,)
# Request kinds and their freshness rule (see `lifetime_s`).
KIND_WINDOW = "window"
KIND_LIST = "list"
KIND_LIVE = "live"
KINDS = (KIND_WINDOW, KIND_LIST, KIND_LIVE)
# `lifetime_s` answers: seconds, FOREVER (a past window) or NOT_KEPT (live requests).
FOREVER: None = None
NOT_KEPT = 0
# Things built from datasets above the data layer (the review pack): rebuilt after this, the
# default life of a window with today, so a pack is never much older than its freshest data.
PRODUCT_TTL_S = DEFAULT_TTL_TODAY_S

__all__ = [
    "DO_NOT_CACHE",
    "FOREVER",
    "IGNORED_PARAMETERS",
    "NEVER_EXPIRE",
    "NOT_KEPT",
    "build_session",
    "clear_scope",
    "expire_after_for",
    "lifetime_s",
    "make_key_fn",
    "request_window",
]


# ---------------------------------------------------------------------------------- freshness


def lifetime_s(kind: str, window: DateRange | None, settings: Settings,
               today: date) -> int | None:
    """How long data of `kind` for `window` stays fresh: the one rule of every cache layer.

    A window that ended before `today` can no longer change: FOREVER (None). A window that
    includes today (or is unknown, e.g. a request without an endDate: the API then answers up
    to now) lives `ttl_today_s`; a list (users, content, segments) `ttl_lists_s`; a live request
    is NOT_KEPT (0).
    """
    if kind == KIND_LIVE:
        return NOT_KEPT
    if kind == KIND_LIST:
        return settings.ttl_lists_s
    if kind != KIND_WINDOW:
        raise ValueError(f"unknown request kind {kind!r}; expected one of {KINDS}")
    if window is not None and window.ended_before(today):
        return FOREVER
    return settings.ttl_today_s


def request_window(params: Mapping[str, Any] | None) -> DateRange | None:
    """The window a request's startDate/endDate name (only endDate matters to freshness).

    None when endDate is missing or not a date: such a request counts as one that includes
    today. A missing or unusable startDate is taken as the end day itself.
    """
    params = params or {}
    try:
        end = date.fromisoformat(str(params.get("endDate")))
    except ValueError:
        return None
    try:
        start = min(date.fromisoformat(str(params.get("startDate"))), end)
    except ValueError:
        start = end
    return DateRange(start, end)


def expire_after_for(
    kind: str, params: Mapping[str, Any] | None, settings: Settings, today: date
) -> int:
    """`lifetime_s` of one HTTP request in requests-cache's terms (its `expire_after`)."""
    lifetime = lifetime_s(kind, request_window(params), settings, today)
    if lifetime is FOREVER:
        return NEVER_EXPIRE
    return DO_NOT_CACHE if lifetime == NOT_KEPT else lifetime


def make_key_fn(cache_scope: str) -> Callable[..., str]:
    """A requests-cache `key_fn`: its normal key, salted with the account's cache scope.

    Two clients with different keys, accounts or base URLs never share an entry, even in a shared
    Redis; the scope holds only a fingerprint of the key.
    """
    scope = cache_scope.encode("utf-8")

    def scoped_key(request: Any, **kwargs: Any) -> str:
        base = create_key(request, **kwargs)
        return hashlib.sha256(scope + b"|" + base.encode("ascii")).hexdigest()[:32]

    return scoped_key


def _private_sqlite_file(path: Path) -> Path:
    """Create the cache folder (0700) and file (0600) before SQLite opens it."""
    path = path.expanduser()
    folder = path.parent
    if not folder.exists():
        folder.mkdir(parents=True, mode=DIR_MODE)
        os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered by the umask
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR, FILE_MODE)
    os.close(descriptor)
    os.chmod(path, FILE_MODE)
    return path


def _backend(settings: Settings) -> tuple[BaseCache, bool]:
    """The storage backend for `settings.cache` and whether caching is disabled."""
    spec = settings.cache.strip()
    if spec == CACHE_OFF:
        return BaseCache(), True
    if spec == CACHE_MEMORY:
        return BaseCache(), False
    if spec.startswith(("redis://", "rediss://", "unix://")):
        from redis import Redis  # imported here: only Redis users need a server

        connection = Redis.from_url(spec, socket_connect_timeout=REDIS_TIMEOUT_S,
                                    socket_timeout=REDIS_TIMEOUT_S)
        return RedisCache(namespace=REDIS_NAMESPACE, connection=connection), False
    try:
        path = _private_sqlite_file(Path(spec))
    except OSError as exc:
        raise ConfigurationError(
            f"The cache file {spec} cannot be created ({exc.strerror}). Set WHATFIX_CACHE to a "
            "writable path, 'memory', 'off' or a redis:// URL."
        ) from None
    # WAL: commits without an fsync each (a cache may lose its last writes on power loss, never
    # its consistency); readers in other processes are not blocked by a writer.
    return SQLiteCache(str(path), busy_timeout=SQLITE_BUSY_TIMEOUT_MS, wal=True), False


def build_session(settings: Settings) -> CachedSession:
    """The one CachedSession for these settings (the client adds auth headers and retries)."""
    backend, disabled = _backend(settings)
    session = CachedSession(
        backend=backend,
        key_fn=make_key_fn(settings.cache_scope),
        ignored_parameters=IGNORED_PARAMETERS,
        allowable_codes=CACHEABLE_STATUS,
        allowable_methods=("GET",),
        expire_after=NEVER_EXPIRE,  # always overridden per request by the client
        stale_if_error=False,  # stale fallback is decided by the client (never on 401/403)
        cache_control=False,
    )
    session.settings.disabled = disabled
    return session


def clear_scope(session: CachedSession, url_prefix: str) -> int:
    """Delete the cached responses of one scope only; returns how many were deleted.

    A response belongs to the scope when its URL starts with `url_prefix` (the account's
    `{base_url}/{account_id}/`) and its key is the one this session's scoped `key_fn` gives its
    request: entries of other accounts, and of other keys for the same account, stay (in a shared
    Redis they are other users' data and their copy for outages).
    """
    cache = session.cache
    keys = [
        response.cache_key
        for response in cache.filter(valid=True, expired=True)
        if str(response.url).startswith(url_prefix)
        and cache.create_key(response.request) == response.cache_key
    ]
    if keys:
        cache.delete(*keys)
    return len(keys)
