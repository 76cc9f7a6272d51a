"""The one per-account record store for what PMs set in the dashboard (targets, the alert
sent-log, the chart notes of whatfix_data.annotations): JSON records by kind and key, in a SQLite
file by default, in Redis when the cache is shared there, or in memory (tests).

Where: ``Settings.store_spec`` (the ``WHATFIX_STORE`` setting, else the cache's Redis, else
``whatfix_store.sqlite`` beside the cache file); the notes keep their own place
(:func:`whatfix_data.annotations.open_store`) through :meth:`RecordStore.at`. Whose: every record
is under ``Settings.store_scope`` (base URL and account id), so two accounts never see each
other's records, also in a shared Redis. The SQLite file is private (0600) like the cache.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from whatfix_data.cache import SQLITE_BUSY_TIMEOUT_MS, _private_sqlite_file
from whatfix_data.config import Settings
from whatfix_data.errors import ConfigurationError, WhatfixError

REDIS_PREFIX = "whatfix_store"
STORE_MEMORY = "memory"
# Bounds: a store is for a PM's settings, not bulk data; a runaway caller fails clearly.
MAX_RECORDS_PER_KIND = 10_000
MAX_RECORD_BYTES = 64_000
REDIS_TIMEOUT_S = 5.0  # a Redis that does not answer fails the call, it does not hang it


class StoreError(WhatfixError):
    """The store could not be read or written."""

    default_message = (
        "The dashboard's store (targets, alert log) could not be read or written. Check "
        "WHATFIX_STORE (a writable SQLite path, a redis:// URL or 'memory')."
    )


class _Backend(Protocol):
    def all(self, scope: str, kind: str) -> dict[str, str]: ...
    def put(self, scope: str, kind: str, key: str, value: str) -> None: ...
    def delete(self, scope: str, kind: str, key: str) -> bool: ...


class _MemoryBackend:
    def __init__(self) -> None:
        self._data: dict[tuple[str, str], dict[str, str]] = {}
        self._lock = threading.Lock()

    def all(self, scope: str, kind: str) -> dict[str, str]:
        with self._lock:
            return dict(self._data.get((scope, kind), {}))

    def put(self, scope: str, kind: str, key: str, value: str) -> None:
        with self._lock:
            self._data.setdefault((scope, kind), {})[key] = value

    def delete(self, scope: str, kind: str, key: str) -> bool:
        with self._lock:
            return self._data.get((scope, kind), {}).pop(key, None) is not None


class _SqliteBackend:
    """One table; a connection per call (the app's threads and a cron job may share the file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS records (scope TEXT NOT NULL, kind TEXT NOT "
                       "NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (scope, kind, "
                       "key))")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)

    def all(self, scope: str, kind: str) -> dict[str, str]:
        with self._connect() as db:
            rows = db.execute("SELECT key, value FROM records WHERE scope = ? AND kind = ? "
                              "LIMIT ?", (scope, kind, MAX_RECORDS_PER_KIND)).fetchall()
        return dict(rows)

    def put(self, scope: str, kind: str, key: str, value: str) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)",
                       (scope, kind, key, value))

    def delete(self, scope: str, kind: str, key: str) -> bool:
        with self._connect() as db:
            cursor = db.execute("DELETE FROM records WHERE scope = ? AND kind = ? AND key = ?",
                                (scope, kind, key))
        return cursor.rowcount > 0


class _RedisBackend:
    """A Redis hash per (scope, kind); the scope is hashed so a key never shows the base URL."""

    def __init__(self, url: str) -> None:
        from redis import Redis  # only Redis users need the server

        self.redis = Redis.from_url(url, decode_responses=True, socket_timeout=REDIS_TIMEOUT_S,
                                    socket_connect_timeout=REDIS_TIMEOUT_S)

    @staticmethod
    def _name(scope: str, kind: str) -> str:
        digest = hashlib.sha256(scope.encode("utf-8")).hexdigest()[:24]
        return f"{REDIS_PREFIX}:{digest}:{kind}"

    def all(self, scope: str, kind: str) -> dict[str, str]:
        return dict(self.redis.hgetall(self._name(scope, kind)))

    def put(self, scope: str, kind: str, key: str, value: str) -> None:
        self.redis.hset(self._name(scope, kind), key, value)

    def delete(self, scope: str, kind: str, key: str) -> bool:
        return bool(self.redis.hdel(self._name(scope, kind), key))


_MEMORY_BACKENDS: dict[str, _MemoryBackend] = {}
_MEMORY_LOCK = threading.Lock()


def _store_problem(spec: str, exc: Exception, opening: bool) -> WhatfixError:
    """The message of a store that cannot be opened or used (targets, alert log)."""
    if opening:
        return ConfigurationError(
            f"The store file {spec} cannot be opened ({type(exc).__name__}). Set WHATFIX_STORE "
            "to a writable path, a redis:// URL or 'memory'.")
    return StoreError(
        f"The dashboard's store could not be used ({type(exc).__name__}). Check "
        "WHATFIX_STORE (a writable SQLite path, a redis:// URL or 'memory')."
    )


# (spec, the exception, whether it happened while opening) -> the error to raise
Problem = Callable[[str, Exception, bool], WhatfixError]


def is_redis_spec(spec: str) -> bool:
    """Whether a store or cache setting names a Redis server."""
    return spec.strip().startswith(("redis://", "rediss://", "unix://"))


def _backend(spec: str, problem: Problem) -> _Backend:
    spec = spec.strip()
    if spec == STORE_MEMORY:
        with _MEMORY_LOCK:  # one memory store per process, like a file would be
            return _MEMORY_BACKENDS.setdefault(spec, _MemoryBackend())
    if is_redis_spec(spec):
        return _RedisBackend(spec)
    try:
        return _SqliteBackend(_private_sqlite_file(Path(spec)))
    except (OSError, sqlite3.Error) as exc:
        raise problem(spec, exc, True) from None


class RecordStore:
    """JSON records of one account by kind ("targets", "alerts-sent", "notes") and key."""

    def __init__(self, settings: Settings) -> None:
        self._init(settings.store_spec, settings.store_scope, _store_problem)

    @classmethod
    def at(cls, spec: str, scope: str, problem: Problem = _store_problem) -> RecordStore:
        """The store at ``spec`` (a SQLite path, redis:// URL or 'memory') for ``scope``, its
        failures worded by ``problem`` (e.g. naming the setting that says where it is)."""
        store = cls.__new__(cls)
        store._init(spec, scope, problem)
        return store

    def _init(self, spec: str, scope: str, problem: Problem) -> None:
        self.spec = spec
        self.scope = scope
        self._problem = problem
        self._backend = _backend(spec, problem)

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self._backend, method)(self.scope, *args)
        except WhatfixError:
            raise
        except Exception as exc:  # sqlite3 / redis errors: one message, no traceback
            raise self._problem(self.spec, exc, False) from exc

    def raw(self, kind: str) -> dict[str, str]:
        """Every record of a kind as stored, key -> JSON text."""
        return self._call("all", kind)

    def records(self, kind: str) -> dict[str, Any]:
        """Every record of a kind, key -> decoded value (unreadable records are skipped)."""
        out: dict[str, Any] = {}
        for key, text in self.raw(kind).items():
            try:
                out[key] = json.loads(text)
            except (TypeError, ValueError):
                continue
        return out

    def put(self, kind: str, key: str, value: Any) -> None:
        """Insert or replace one record."""
        text = json.dumps(value, sort_keys=True)
        if len(text.encode("utf-8")) > MAX_RECORD_BYTES:
            raise StoreError(f"A {kind} record is larger than {MAX_RECORD_BYTES:,} bytes.")
        self._call("put", kind, key, text)

    def delete(self, kind: str, key: str) -> bool:
        """Remove one record; whether it existed."""
        return bool(self._call("delete", kind, key))
