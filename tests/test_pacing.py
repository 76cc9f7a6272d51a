"""Adaptive concurrency and the shared Retry-After pause (whatfix_data.pacing), unit and HTTP."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whatfix_data import pacing
from whatfix_data.client import WhatfixClient
from whatfix_data.errors import FetchCancelledError, FetchTimeoutError
from whatfix_data.pacing import AccountGovernor, FetchControl, fetch_scope, wait


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=64),
       st.lists(st.sampled_from(["ok", "slow", "429", "503", "500"]), max_size=300))
def test_the_window_stays_between_one_and_the_ceiling_and_climbs_back(ceiling, events):
    governor = AccountGovernor(ceiling)
    for event in events:
        governor.acquire(None)
        status = {"ok": 200, "slow": 200, "429": 429, "503": 503, "500": 500}[event]
        governor.release(status, 5.0 if event == "slow" else 0.01)
        assert 1 <= governor.window <= ceiling
        assert governor.in_flight == 0
    governor._last_decrease -= 1000  # time passes
    governor._smoothed_s = None
    for _ in range(ceiling * ceiling + 1):  # healthy answers: +1 per window of them
        governor.acquire(None)
        governor.release(200, 0.01)
    assert governor.window == ceiling


def test_a_throttle_halves_the_window_once_per_burst():
    governor = AccountGovernor(16)
    for _ in range(8):  # eight 429s of one burst
        governor.throttle(None)
    assert governor.window == 8 and governor.decreases == 1
    time.sleep(0.3)
    governor.throttle(None)
    assert governor.window == 4


def test_latency_growth_shrinks_the_window():
    governor = AccountGovernor(8)
    for latency in [0.05] * 20 + [1.0] * 10:
        governor.acquire(None)
        governor.release(200, latency)
        time.sleep(0.03)
    assert governor.window < 8


def test_retry_after_pauses_every_thread_of_the_account():
    governor = AccountGovernor(8)
    governor.throttle(0.6)
    waited: list[float] = []

    def one_request() -> None:
        started = time.monotonic()
        governor.acquire(None)
        waited.append(time.monotonic() - started)
        governor.release(200, 0.01)

    threads = [threading.Thread(target=one_request) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert len(waited) == 6 and min(waited) >= 0.5


def _wait_until(condition, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)


def test_a_freed_slot_goes_to_a_waiter_even_when_the_one_woken_has_stopped(monkeypatch):
    """A release wakes one waiter per free slot; a woken waiter whose fetch was cancelled hands
    the wake-up on at once, instead of the next waiter sleeping until its wait slice ends."""
    monkeypatch.setattr(pacing, "WAIT_SLICE_S", 30.0)  # a lost wake-up would cost 30 s
    governor = AccountGovernor(1)
    governor.acquire(None)  # the only slot is taken
    cancel = threading.Event()
    stopped = FetchControl(deadline=time.monotonic() + 60, deadline_s=60, cancel=cancel)
    outcome: dict[str, object] = {}

    def cancelled_waiter() -> None:
        try:
            governor.acquire(stopped)
        except FetchCancelledError as exc:
            outcome["cancelled"] = exc

    def waiter() -> None:
        governor.acquire(None)
        outcome["acquired_at"] = time.monotonic()

    first = threading.Thread(target=cancelled_waiter)
    first.start()
    _wait_until(lambda: len(governor._cond._waiters) == 1)  # first in the queue: woken first
    second = threading.Thread(target=waiter)
    second.start()
    _wait_until(lambda: len(governor._cond._waiters) == 2)
    cancel.set()
    released_at = time.monotonic()
    governor.release(200, 0.01)
    first.join(5)
    second.join(5)
    assert isinstance(outcome.get("cancelled"), FetchCancelledError)
    assert outcome["acquired_at"] - released_at < 5.0  # handed on, not the 30 s slice
    assert governor.in_flight == 1


def test_an_absurd_retry_after_is_capped_and_a_wait_ends_at_the_deadline():
    governor = AccountGovernor(2)
    governor.throttle(86_400)  # "come back tomorrow"
    assert governor.pause_remaining() <= 60
    started = time.monotonic()
    with fetch_scope(0.3) as control, pytest.raises(FetchTimeoutError):
        governor.acquire(control)
    assert time.monotonic() - started < 0.3 + 0.3
    cancel = threading.Event()
    cancel.set()
    with fetch_scope(10, cancel=cancel) as control, pytest.raises(FetchCancelledError):
        wait(5, control)


def test_a_429_for_one_session_slows_the_other_sessions_of_the_account(
        make_sim_server, make_settings):
    server = make_sim_server(users=50, rate_limit=3)
    first = WhatfixClient(make_settings(server=server))  # one browser session ...
    second = WhatfixClient(make_settings(server=server))  # ... and another, same account
    try:
        assert first.governor is second.governor
        server.reset()
        worker = threading.Thread(target=lambda: [first.get_json("/segments", {"i": i},
                                                                 kind="live")
                                                  for i in range(5)])
        worker.start()
        deadline = time.monotonic() + 10
        while first.governor.throttles == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert first.governor.throttles >= 1
        pause = first.governor.pause_remaining()
        started = time.monotonic()
        second.get_json("/content", {"other": 1}, kind="live")  # waits out the pause
        assert time.monotonic() - started >= pause - 0.05
        worker.join(20)
        stats = server.stats()
        assert stats["byStatus"].get("429", 0) >= 1  # the first session did hit the limit
        # The second session did not run into it blindly: it waited out the pause (above), and
        # its own operation's count shows at most one refusal, which can only come after that
        # pause, when the first session's retries share the limiter's second (on a loaded box).
        assert stats["byOperation"].get("listContent") in (1, 2)
    finally:
        first.close()
        second.close()


def test_a_rate_limited_list_arrives_whole_with_few_429s(make_sim_server, make_settings):
    server = make_sim_server(users=1000, rate_limit=4)  # 10 pages at 4 requests per second
    with WhatfixClient(make_settings(server=server, retries=5)) as client:
        server.reset()
        started = time.monotonic()
        result = client.get_all_pages("/end-users", kind="list", id_field="userId")
        elapsed = time.monotonic() - started
        assert len(result.records) == 1000
        assert client.governor.decreases >= 1  # it backed off (and may have climbed back)
    by_status = server.stats()["byStatus"]
    assert by_status["200"] == 10
    assert by_status.get("429", 0) <= 10  # bounded: the window and the pause, not hammering
    assert elapsed >= (10 - 4) / 4 - 0.5  # the limit was honoured
