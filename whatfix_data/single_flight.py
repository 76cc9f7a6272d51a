"""One upstream fetch per dataset, whoever asks: leases shared by threads and processes.

`datasets.load_dataset` wraps every cold load in `flight(settings, key, progress)`:

* Threads of one process queue on a process-local lock per key; the first one loads, the others
  then find the finished dataset in the memo (`datasets`).
* Processes that share a cache (app replicas, CLI runs, cron) take a *lease* on the key where the
  cache lives: a Redis lock for a `redis://` cache, a `flock` on a file next to a SQLite cache.
  The holder fetches and fills the shared HTTP cache; the others wait for it to finish, then load
  the same dataset from the cache (0 requests to the API). While they wait they get the holder's
  progress (rows or windows done of the total), so every viewer sees the same bar.

A lease expires: a Redis lease lives `LEASE_S` seconds and the holder renews it every third of
that from a heartbeat thread, so a holder killed with SIGKILL frees it within `LEASE_S`; a file
lock is released by the kernel when its process dies. When the holder finishes (well or not) it
leaves a short-lived "finished" marker: the waiters then load on their own, concurrently, from
the cache it filled (after a failure each one gets its own error or data). Waiting is bounded by
`MAX_WAIT_S`: past it a waiter fetches on its own. When the lease store itself fails (Redis down)
a load goes ahead without a lease: sharing is an optimisation, never a reason to fail.

Why redis-py's own `Lock` (not python-redis-lock or pottery): redis is already a dependency, is
maintained by Redis itself, and its Lock is token-owned (only the holder can release or extend,
atomically in Lua) with an expiry; the one missing piece, renewal while a long fetch runs, is the
small heartbeat below.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import redis
from redis.lock import Lock

from whatfix_data.config import CACHE_MEMORY, CACHE_OFF, Settings

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)

LEASE_S = 15.0  # a crashed holder's lease is free after at most this long
RENEW_EVERY_S = LEASE_S / 3
FINISHED_S = 60  # how long "the holder finished" is remembered (only waiters of now need it)
MAX_WAIT_S = 900.0  # a waiter that waited this long fetches on its own
POLL_FIRST_S, POLL_MAX_S = 0.02, 0.25
PROGRESS_EVERY_S = 0.2  # a holder publishes its progress at most this often
KEY_PREFIX = "whatfix_flight:"
LOCK_DIR_SUFFIX = ".flights"
DIR_MODE = 0o700
STORE_ERRORS = (redis.exceptions.RedisError, OSError)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def lease_name(key: tuple) -> str:
    """A short, stable name for a dataset key (cache scope first, then dataset, range, ...).

    "<scope digest>.<key digest>": the scope holds only a fingerprint of the integration key,
    and hashing keeps even that and the account name out of lock names; the scope part lets
    `forget_scope` find one account's markers.
    """
    return f"{_digest(str(key[0]))}.{_digest(repr(key))}"


def forget_scope(settings: Settings) -> None:
    """Drop this scope's "finished" markers (after its cache was cleared: fetch under a lease)."""
    store = store_for(settings)
    if store is not None:
        _quietly(store.forget, _digest(settings.cache_scope))


# --------------------------------------------------------------------------------- lease stores


class _Store(Protocol):
    """Where leases live for a cache backend (shared by every process using that cache)."""

    def try_acquire(self, name: str) -> Any | None: ...
    def release(self, handle: Any) -> None: ...
    def renew(self, handle: Any) -> None: ...
    def mark_finished(self, name: str) -> None: ...
    def is_finished(self, name: str) -> bool: ...
    def publish(self, name: str, done: int, total: int) -> None: ...
    def progress(self, name: str) -> tuple[int, int] | None: ...
    def forget(self, scope_digest: str) -> None: ...


class RedisStore:
    """Leases as redis-py Locks with expiry; markers and progress as expiring keys."""

    def __init__(self, connection: redis.Redis) -> None:
        self.redis = connection

    def try_acquire(self, name: str) -> Lock | None:
        lock = self.redis.lock(KEY_PREFIX + "lease:" + name, timeout=LEASE_S, blocking=False,
                               thread_local=False)  # the heartbeat thread renews it
        return lock if lock.acquire() else None

    def release(self, handle: Lock) -> None:
        with contextlib.suppress(redis.exceptions.LockError):  # expired meanwhile: nothing held
            handle.release()

    def renew(self, handle: Lock) -> None:
        handle.reacquire()

    def mark_finished(self, name: str) -> None:
        self.redis.set(KEY_PREFIX + "finished:" + name, b"1", ex=FINISHED_S)

    def is_finished(self, name: str) -> bool:
        return bool(self.redis.exists(KEY_PREFIX + "finished:" + name))

    def publish(self, name: str, done: int, total: int) -> None:
        self.redis.set(KEY_PREFIX + "progress:" + name, f"{done} {total}", ex=int(LEASE_S))

    def progress(self, name: str) -> tuple[int, int] | None:
        return _parse_progress(self.redis.get(KEY_PREFIX + "progress:" + name))

    def forget(self, scope_digest: str) -> None:
        pattern = f"{KEY_PREFIX}finished:{scope_digest}.*"
        keys = list(self.redis.scan_iter(match=pattern, count=500))
        if keys:
            self.redis.delete(*keys)


class FileStore:
    """Leases as `flock`s on files next to a SQLite cache (freed by the kernel on a crash)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, name: str, kind: str) -> Path:
        return self.folder / f"{name}.{kind}"

    def try_acquire(self, name: str) -> int | None:
        if not self.folder.exists():
            self.folder.mkdir(parents=True, mode=DIR_MODE, exist_ok=True)
        descriptor = os.open(self._path(name, "lock"), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return None
        return descriptor

    def release(self, handle: int) -> None:
        os.close(handle)  # closing drops the flock

    def renew(self, handle: int) -> None:
        """A flock lasts as long as its process: nothing to renew."""

    def mark_finished(self, name: str) -> None:
        self._path(name, "finished").write_text(str(time.time() + FINISHED_S))

    def is_finished(self, name: str) -> bool:
        try:
            return float(self._path(name, "finished").read_text()) > time.time()
        except (OSError, ValueError):
            return False

    def publish(self, name: str, done: int, total: int) -> None:
        self._path(name, "progress").write_text(f"{done} {total}")

    def progress(self, name: str) -> tuple[int, int] | None:
        try:
            return _parse_progress(self._path(name, "progress").read_bytes())
        except OSError:
            return None

    def forget(self, scope_digest: str) -> None:
        for marker in self.folder.glob(f"{scope_digest}.*.finished"):
            marker.unlink(missing_ok=True)


def _parse_progress(raw: bytes | None) -> tuple[int, int] | None:
    try:
        done, total = (int(part) for part in (raw or b"").split())
    except ValueError:
        return None
    return done, total


_stores: dict[str, _Store | None] = {}
_stores_lock = threading.Lock()


def store_for(settings: Settings) -> _Store | None:
    """The lease store shared by every process using this cache (None: memory or no cache)."""
    spec = settings.cache.strip()
    with _stores_lock:
        if spec not in _stores:
            _stores[spec] = _new_store(spec)
        return _stores[spec]


def _new_store(spec: str) -> _Store | None:
    if spec in (CACHE_OFF, CACHE_MEMORY):
        return None
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(redis.Redis.from_url(spec))
    path = Path(spec).expanduser()
    return FileStore(path.with_name(path.name + LOCK_DIR_SUFFIX))


# ------------------------------------------------------------------------------- the flight


class _LocalFlight:
    """The threads of this process asking for one key: the lock they take turns on, and who
    waits (to hear the holder's progress and, after a failure, its error)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0
        self.listeners: list[Progress] = []
        self.last: tuple[int, int] | None = None
        self.failure: BaseException | None = None  # the last holder's error, for its waiters
        self.failures = 0  # counts holder failures (a waiter compares before and after)


_local_flights: dict[str, _LocalFlight] = {}
_local_guard = threading.Lock()


@dataclass
class LocalTurn:
    """A thread's turn on a key: `progress` fans out to the threads waiting behind it, and
    `failed_before_me` is the error of the holder this thread waited for (None when it did not
    wait, or that holder succeeded or was cancelled)."""

    progress: Progress | None
    failed_before_me: BaseException | None
    _flight: _LocalFlight

    def failed(self, error: BaseException) -> None:
        """Hand this holder's error to the threads that waited for it."""
        with _local_guard:
            self._flight.failure = error
            self._flight.failures += 1


@contextlib.contextmanager
def local_turn(name: str, progress: Progress | None = None) -> Iterator[LocalTurn]:
    """One thread of this process at a time per key (the others then find its result).

    While a thread waits, it hears the holder's progress (`progress(done, total)`), so a page
    that joins a fetch another thread started (another session, the page's own prefetch) shows
    the same bar.
    """
    with _local_guard:
        entry = _local_flights.setdefault(name, _LocalFlight())
        entry.users += 1
        failures_seen = entry.failures
        so_far = entry.last
        if progress is not None:
            entry.listeners.append(progress)
    if progress is not None and so_far is not None:
        _tell(progress, *so_far)  # joined mid-fetch: the progress so far, at once
    try:
        with entry.lock:
            with _local_guard:
                if progress is not None:
                    entry.listeners.remove(progress)
                failed = entry.failure if entry.failures != failures_seen else None
                entry.last = None
            yield LocalTurn(_fanning_out(entry, progress), failed, entry)
    finally:
        with _local_guard:
            entry.users -= 1
            if entry.users == 0:
                del _local_flights[name]


def _fanning_out(entry: _LocalFlight, progress: Progress | None) -> Progress:
    def report(done: int, total: int) -> None:
        with _local_guard:
            entry.last = (done, total)
            listeners = list(entry.listeners)
        for listener in [progress, *listeners]:
            if listener is not None:
                _tell(listener, done, total)

    return report


def _tell(listener: Progress, done: int, total: int) -> None:
    """A waiter's progress callback; a waiter that went away (its page closed) is no error of
    the holder's fetch."""
    try:
        listener(done, total)
    except Exception as exc:
        logger.debug("A waiting caller's progress report failed (%s)", type(exc).__name__)


@dataclass
class Flight:
    """The caller's role: `holder` fetches for everyone; otherwise the cache already has it.

    `progress` is what the loader should report to: the caller's own callback, plus (for a
    holder) publication to the waiters of other processes.
    """

    holder: bool
    progress: Progress | None


@contextlib.contextmanager
def flight(settings: Settings, key: tuple, progress: Progress | None = None) -> Iterator[Flight]:
    """Wait for this key's lease (or for its holder to finish) and yield the caller's role.

    Without a shared store (memory cache) every caller is a holder: threads are already
    serialised by `local_turn`.
    """
    store = store_for(settings)
    name = lease_name(key)
    if store is None:
        yield Flight(True, progress)
        return
    handle = _wait_for_turn(store, name, progress)
    if handle is None:
        yield Flight(False, progress)
        return
    stop = threading.Event()
    heartbeat = threading.Thread(target=_renew_until, args=(store, handle, stop),
                                 name="whatfix-lease", daemon=True)
    heartbeat.start()
    try:
        yield Flight(True, _publishing(store, name, progress))
    finally:
        stop.set()
        heartbeat.join()
        _quietly(store.mark_finished, name)
        _quietly(store.release, handle)


def _wait_for_turn(store: _Store, name: str, progress: Progress | None) -> Any | None:
    """The lease handle when this caller must fetch; None when another holder finished."""
    deadline = time.monotonic() + MAX_WAIT_S
    pause = POLL_FIRST_S
    shown: tuple[int, int] | None = None
    while True:
        try:
            if store.is_finished(name):
                return None
            handle = store.try_acquire(name)
            if handle is not None:
                if store.is_finished(name):  # finished between the two checks
                    store.release(handle)
                    return None
                return handle
            current = store.progress(name)
        except STORE_ERRORS as exc:
            logger.warning("Lease store unavailable (%s): fetching without a lease",
                           type(exc).__name__)
            return _NO_LEASE
        if progress is not None and current is not None and current != shown:
            shown = current
            progress(*current)
        if time.monotonic() >= deadline:
            logger.warning("Waited %.0f s for another process's fetch: fetching here", MAX_WAIT_S)
            return _NO_LEASE
        time.sleep(pause)
        pause = min(pause * 2, POLL_MAX_S)


class _NoLease:
    """A holder role without a lease in the store (store down, or waited too long)."""


_NO_LEASE = _NoLease()


def _renew_until(store: _Store, handle: Any, stop: threading.Event) -> None:
    if isinstance(handle, _NoLease):
        return
    while not stop.wait(RENEW_EVERY_S):
        try:
            store.renew(handle)
        except (*STORE_ERRORS, redis.exceptions.LockError) as exc:
            logger.warning("Lease renewal failed (%s)", type(exc).__name__)
            return


def _quietly(action: Callable[[Any], None], argument: Any) -> None:
    if isinstance(argument, _NoLease):
        return
    try:
        action(argument)
    except STORE_ERRORS as exc:
        logger.warning("Lease store unavailable (%s) while finishing", type(exc).__name__)


def _publishing(store: _Store, name: str, progress: Progress | None) -> Progress:
    """The caller's progress callback, also published (throttled) for other processes."""
    last = [0.0]
    guard = threading.Lock()

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress(done, total)
        now = time.monotonic()
        with guard:
            if done < total and now - last[0] < PROGRESS_EVERY_S:
                return
            last[0] = now
        _quietly(lambda n: store.publish(n, done, total), name)

    return report
