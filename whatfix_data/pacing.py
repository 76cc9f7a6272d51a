"""How fast and how long the client may talk to one account: fetch scopes and adaptive concurrency.

Two concerns of the HTTP client (whatfix_data.client), kept out of it:

* `FetchControl` / `fetch_scope`: the deadline and cancel token of one dataset fetch. The scope is
  ambient (a context variable), so every request made inside it, in this thread or in the client's
  worker threads (`carry_scope`), checks it before it is sent, between retries and while it waits.
* `AccountGovernor`: one per account per process, shared by every client (every browser session)
  of that account. It is the concurrency gate (AIMD: the window halves on 429/503 and shrinks on
  latency growth, then climbs back by one per window of healthy answers, never above
  `max_concurrency`) and holds a `Retry-After` pause that every thread of the account honours.
  `GovernedRetry` is urllib3's Retry with those two hooked in: retries stop at the deadline and a
  429/503 slows the whole account, not only the thread that got it.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from urllib3.util.retry import Retry

from whatfix_data.errors import FetchCancelledError, FetchTimeoutError

THROTTLE_STATUSES = frozenset({429, 503})
RETRY_AFTER_CAP_S = 60.0  # an absurd Retry-After (a day) waits this long at most (and the deadline)
WAIT_SLICE_S = 0.1  # waits are sliced so a cancel or deadline is noticed within this
DECREASE_FACTOR = 0.5  # 429/503: the window halves
LATENCY_DECREASE_FACTOR = 0.75  # latency growth: a gentler cut
MIN_DECREASE_INTERVAL_S = 0.25  # one cut per burst: the answers of one window arrive together
LATENCY_GROWTH_FACTOR = 3.0  # smoothed latency above 3x the fastest seen ...
LATENCY_GROWTH_MARGIN_S = 0.25  # ... plus this (so a loopback server's jitter never counts)
LATENCY_SMOOTHING = 0.2
RECENT_DECREASE_S = 30.0  # a new client keeps a window cut this recently instead of resetting it

T = TypeVar("T")


# ------------------------------------------------------------------------------ fetch scopes


@dataclass
class FetchControl:
    """The bounds of one fetch: a monotonic deadline and an optional cancel token."""

    deadline: float
    deadline_s: float
    label: str = ""
    cancel: threading.Event | None = None
    parent: FetchControl | None = None

    def cancelled(self) -> bool:
        """Whether this fetch or any fetch it is part of was abandoned."""
        node: FetchControl | None = self
        while node is not None:
            if node.cancel is not None and node.cancel.is_set():
                return True
            node = node.parent
        return False

    def remaining(self) -> float:
        """Seconds left before the deadline (negative once it passed)."""
        return self.deadline - time.monotonic()

    def check(self) -> None:
        """Raise FetchCancelledError or FetchTimeoutError if the fetch must stop now."""
        if self.cancelled():
            raise FetchCancelledError(
                f"Loading {self.label or 'the data'} was cancelled (the view changed) before it "
                "finished; no further requests were sent.", operation=self.label or None)
        if self.remaining() <= 0:
            raise FetchTimeoutError(
                f"Loading {self.label or 'the data'} was stopped after {self.deadline_s:g} s "
                "(WHATFIX_FETCH_DEADLINE_S) because the Whatfix API had not delivered all of it; "
                "nothing partial is shown. Try again later, or raise WHATFIX_FETCH_DEADLINE_S.",
                operation=self.label or None)


_current: contextvars.ContextVar[FetchControl | None] = contextvars.ContextVar(
    "whatfix_fetch_control", default=None)


def current_control() -> FetchControl | None:
    """The fetch scope the calling thread is in, if any."""
    return _current.get()


@contextlib.contextmanager
def fetch_scope(deadline_s: float, *, label: str = "",
                cancel: threading.Event | None = None) -> Iterator[FetchControl]:
    """Run the block as one fetch: deadline `deadline_s` from now (never later than an enclosing
    scope's), stopped early when `cancel` (or an enclosing scope's token) is set."""
    parent = _current.get()
    deadline = time.monotonic() + deadline_s
    if parent is not None and parent.deadline < deadline:
        deadline, deadline_s = parent.deadline, parent.deadline_s
    control = FetchControl(deadline, deadline_s, label, cancel, parent)
    token = _current.set(control)
    try:
        yield control
    finally:
        _current.reset(token)


def carry_scope(function: Callable[..., T]) -> Callable[..., T]:
    """`function` wrapped to run in the caller's fetch scope (for worker threads)."""
    control = _current.get()

    def run(*args: Any, **kwargs: Any) -> T:
        token = _current.set(control)
        try:
            return function(*args, **kwargs)
        finally:
            _current.reset(token)

    return run


def wait(seconds: float, control: FetchControl | None) -> None:
    """Sleep, in slices, raising as soon as the fetch is cancelled or out of time."""
    end = time.monotonic() + max(seconds, 0.0)
    while True:
        if control is not None:
            control.check()
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, WAIT_SLICE_S))


# -------------------------------------------------------------------------- account governor


class AccountGovernor:
    """The concurrency window and Retry-After pause of one account, shared within a process."""

    def __init__(self, ceiling: int) -> None:
        self._cond = threading.Condition()
        self.ceiling = ceiling
        self.limit = float(ceiling)
        self.in_flight = 0
        self.pause_until = 0.0
        self.throttles = 0  # 429/503 answers seen
        self.decreases = 0
        self._last_decrease = -math.inf
        self._fastest_s: float | None = None
        self._smoothed_s: float | None = None

    @property
    def window(self) -> int:
        """Requests currently allowed on the wire at once."""
        return max(1, int(self.limit))

    def adopt_ceiling(self, ceiling: int) -> None:
        """A new client's max_concurrency; a window cut in the last 30 s stays cut."""
        with self._cond:
            self.ceiling = ceiling
            recent = time.monotonic() - self._last_decrease < RECENT_DECREASE_S
            self.limit = min(self.limit, ceiling) if recent else float(ceiling)
            self._cond.notify_all()

    def pause_remaining(self) -> float:
        """Seconds until the account's Retry-After pause ends (0 when none)."""
        return max(self.pause_until - time.monotonic(), 0.0)

    def acquire(self, control: FetchControl | None) -> None:
        """Wait for a slot in the window, after any pause; raises if the fetch must stop."""
        with self._cond:
            while True:
                if control is not None:
                    try:
                        control.check()
                    except BaseException:
                        self._cond.notify()  # a wake-up meant for a slot goes to the next waiter
                        raise
                now = time.monotonic()
                if now >= self.pause_until and self.in_flight < self.window:
                    self.in_flight += 1
                    return
                timeout = WAIT_SLICE_S if now >= self.pause_until else self.pause_until - now
                self._cond.wait(min(timeout, WAIT_SLICE_S))

    def release(self, status: int | None, latency_s: float | None) -> None:
        """A request left the wire: its final status and, for a one-attempt answer, its time."""
        with self._cond:
            self.in_flight -= 1
            now = time.monotonic()
            if status in THROTTLE_STATUSES:
                self._decrease(now, DECREASE_FACTOR)
            elif (status is not None and status < 500 and latency_s is not None
                  and not self._latency_grew(latency_s, now)):
                self.limit = min(float(self.ceiling), self.limit + 1.0 / self.window)
            # Wake as many waiters as there are free slots, not all of them: with dozens of
            # page workers waiting, waking every one for each answer cost 0.5 ms of CPU (GIL)
            # per request. Waits are sliced (WAIT_SLICE_S), so no waiter sleeps past a free slot
            # for long even if a wake-up went to a thread that then stopped.
            free = self.window - self.in_flight
            if free > 0:
                self._cond.notify(free)

    def throttle(self, retry_after_s: float | None) -> None:
        """A 429/503 (maybe with Retry-After): cut the window and pause the whole account."""
        with self._cond:
            self.throttles += 1
            now = time.monotonic()
            if retry_after_s:
                pause = min(max(retry_after_s, 0.0), RETRY_AFTER_CAP_S)
                self.pause_until = max(self.pause_until, now + pause)
            self._decrease(now, DECREASE_FACTOR)
            self._cond.notify_all()

    def _decrease(self, now: float, factor: float) -> None:
        interval = max(MIN_DECREASE_INTERVAL_S, self._smoothed_s or 0.0)
        if now - self._last_decrease < interval:
            return  # the same burst: one cut
        self._last_decrease = now
        self.decreases += 1
        self.limit = max(1.0, self.limit * factor)

    def _latency_grew(self, latency_s: float, now: float) -> bool:
        """Track latency; cut the window (and say so) when it grew well past the fastest seen."""
        self._fastest_s = latency_s if self._fastest_s is None else min(self._fastest_s,
                                                                        latency_s)
        previous = self._smoothed_s if self._smoothed_s is not None else latency_s
        self._smoothed_s = previous + LATENCY_SMOOTHING * (latency_s - previous)
        threshold = LATENCY_GROWTH_FACTOR * self._fastest_s + LATENCY_GROWTH_MARGIN_S
        if self._smoothed_s <= threshold:
            return False
        self._decrease(now, LATENCY_DECREASE_FACTOR)
        return True


_governors: dict[tuple[str, str], AccountGovernor] = {}
_governors_lock = threading.Lock()


def governor_for(base_url: str, account_id: str, ceiling: int) -> AccountGovernor:
    """The process-wide governor of an account (created on first use, ceiling adopted)."""
    with _governors_lock:
        governor = _governors.get((base_url, account_id))
        if governor is None:
            governor = _governors[(base_url, account_id)] = AccountGovernor(ceiling)
            return governor
    governor.adopt_ceiling(ceiling)
    return governor


def retry_after_s(retry: Retry, response: Any) -> float | None:
    """The Retry-After of a response in seconds; None when absent or unreadable (any text)."""
    try:
        return retry.get_retry_after(response)
    except Exception:  # urllib3 raises InvalidHeader for text that is neither seconds nor a date
        return None


class GovernedRetry(Retry):
    """urllib3 Retry that stops at the fetch's deadline or cancel and reports 429/503 to the
    account governor, whose Retry-After pause (capped) every retry of the account then waits."""

    def __init__(self, *args: Any, governor: AccountGovernor | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.governor = governor

    def new(self, **kw: Any) -> GovernedRetry:
        """A copy for the next attempt (urllib3 makes one per retry): keep the governor."""
        retry = super().new(**kw)
        retry.governor = self.governor
        return retry

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None,
                  _stacktrace: Any = None) -> Retry:
        """Stop if the fetch is over; tell the governor about a 429/503; then urllib3's rules."""
        control = current_control()
        if control is not None:
            control.check()
        if response is not None and response.status in THROTTLE_STATUSES and self.governor:
            self.governor.throttle(retry_after_s(self, response))
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def sleep(self, response: Any = None) -> None:
        """Back off (with jitter), at least until the account's pause ends; interruptible."""
        seconds = self.get_backoff_time()
        if response is not None and self.respect_retry_after_header:
            retry_after = retry_after_s(self, response)
            if retry_after is not None:
                seconds = max(seconds, min(retry_after, RETRY_AFTER_CAP_S))
        if self.governor is not None:
            seconds = max(seconds, self.governor.pause_remaining())
        wait(seconds, current_control())
