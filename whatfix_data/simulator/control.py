"""Test controls of the built-in server: request counters, response scenarios, revoked keys, faults.

Reached over HTTP under `/__sim__/` (see docs/SIMULATOR.md) or as methods of the server object.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

SCENARIOS = ("non_json", "truncated_json", "missing_fields", "extra_fields", "wrong_types",
             "impossible_values", "total_drift", "huge_total", "negative_total", "ends_early",
             "never_answers")
FAULT_KINDS = ("rate_limited", "error_500", "error_502", "error_503", "dropped", "slow")
FAULT_STATUS = {"rate_limited": 429, "error_500": 500, "error_502": 502, "error_503": 503}
RETRY_AFTER_S = 1
SLOW_RESPONSE_S = (1.0, 2.0)


class RateLimiter:
    """Requests per second per account: a token bucket holding one second of requests.

    `admit(account)` is 0 when the request may be served, else the whole seconds (>= 1) after
    which a token is there again: the Retry-After of the 429.
    """

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # account -> (tokens, at)

    def admit(self, account: str | None) -> int:
        if self.per_second <= 0:
            return 0
        now = time.monotonic()
        key = account or ""
        with self._lock:
            tokens, at = self._buckets.get(key, (self.per_second, now))
            tokens = min(self.per_second, tokens + (now - at) * self.per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self.per_second))


@dataclass
class Scenario:
    """One active scenario; `operation`/`account` None means every operation/account."""

    name: str
    operation: str | None = None
    account: str | None = None
    armed: bool = False  # total_drift: set once page 1 has been served

    def matches(self, operation: str | None, account: str | None) -> bool:
        """Whether this scenario applies to a response of that operation and account."""
        return ((self.operation is None or self.operation == operation)
                and (self.account is None or self.account == account))


@dataclass
class SimControl:
    """Mutable test state shared by all request threads (every access under one lock)."""

    fault_rate: float = 0.0
    seed: int = 0
    rate_limit: float = 0.0  # requests per second per account (0: unlimited)
    fault_kinds: tuple[str, ...] = FAULT_KINDS  # tests may narrow this to one kind
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _by_operation: Counter = field(default_factory=Counter)
    _by_status: Counter = field(default_factory=Counter)
    _faults: Counter = field(default_factory=Counter)
    _total: int = 0
    _in_flight: int = 0
    _max_in_flight: int = 0  # the most API requests handled at once since the last reset
    _scenarios: list[Scenario] = field(default_factory=list)
    _revoked: set[str] = field(default_factory=set)
    _random: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._random.seed(self.seed)
        self.limiter = RateLimiter(self.rate_limit)
        # set when the server stops: requests held by `never_answers` end then
        self.stopping = threading.Event()

    def count(self, operation: str | None, status: int) -> None:
        """Record one API request served."""
        with self._lock:
            self._total += 1
            self._by_operation[operation or "unknown"] += 1
            self._by_status[str(status)] += 1

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        """Count an API request as in flight while the block runs (for concurrency checks)."""
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def stats(self) -> dict:
        """API requests served: total, by operationId, by status, and faults injected."""
        with self._lock:
            return {"requests": self._total, "byOperation": dict(self._by_operation),
                    "byStatus": dict(self._by_status), "faults": dict(self._faults),
                    "scenarios": [s.name for s in self._scenarios],
                    "revokedKeys": len(self._revoked), "maxInFlight": self._max_in_flight}

    def reset(self) -> None:
        """Zero the counters, clear scenarios and restore revoked keys."""
        with self._lock:
            self._total = 0
            self._max_in_flight = self._in_flight
            self._by_operation.clear()
            self._by_status.clear()
            self._faults.clear()
            self._scenarios.clear()
            self._revoked.clear()

    def set_scenario(self, name: str | None, operation: str | None = None,
                     account: str | None = None) -> None:
        """Activate a scenario (replacing one with the same scope); name None clears all."""
        if name is not None and name not in SCENARIOS:
            raise ValueError(f"unknown scenario {name!r}; expected one of {', '.join(SCENARIOS)}")
        with self._lock:
            if name is None:
                self._scenarios.clear()
                return
            self._scenarios = [s for s in self._scenarios
                               if (s.operation, s.account) != (operation, account)]
            self._scenarios.append(Scenario(name, operation, account))

    def scenario_for(self, operation: str | None, account: str | None) -> Scenario | None:
        """The most recently set scenario that applies, if any."""
        with self._lock:
            for scenario in reversed(self._scenarios):
                if scenario.matches(operation, account):
                    return scenario
        return None

    def arm(self, scenario: Scenario) -> bool:
        """Mark a drift scenario as triggered; returns whether it already was."""
        with self._lock:
            was, scenario.armed = scenario.armed, True
            return was

    def revoke(self, key: str) -> None:
        """From now on this integration key gets 401 (until reset)."""
        with self._lock:
            self._revoked.add(key)

    def is_revoked(self, key: str) -> bool:
        """Whether the key was revoked."""
        with self._lock:
            return key in self._revoked

    def draw_fault(self) -> str | None:
        """A fault kind for the next API request, with probability fault_rate."""
        with self._lock:
            if self.fault_rate <= 0 or self._random.random() >= self.fault_rate:
                return None
            kind = self._random.choice(self.fault_kinds)
            self._faults[kind] += 1
            return kind

    def slow_delay(self) -> float:
        """Seconds to wait for a slow response."""
        with self._lock:
            return self._random.uniform(*SLOW_RESPONSE_S)
