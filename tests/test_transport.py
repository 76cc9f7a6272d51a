"""How the retry layers nest, counted in requests against the built-in server's faults.

The layers add, never multiply (`WhatfixClient.fetch`): urllib3's Retry re-sends a 429/5xx or a
dropped connection up to `retries` times; the body loop re-asks a cut body up to
max(retries + 1, BODY_ATTEMPTS) times but never re-sends an outage; the stale copy is read from
the cache without a request.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whatfix_data.client import WhatfixClient
from whatfix_data.errors import ApiUnavailableError
from whatfix_data.simulator.control import RETRY_AFTER_S
from whatfix_data.transport import BODY_ATTEMPTS
from whatfix_data.user_sync import put_end_user

FLOWS = "/analytics/flows"
FIRST_DAY = date(2026, 1, 1)


def _day(index: int) -> dict[str, str]:
    """A one-day window of its own: never answered from the cache by an earlier request."""
    day = (FIRST_DAY + timedelta(days=index)).isoformat()
    return {"startDate": day, "endDate": day}


def _counts(server) -> tuple[int, int]:
    stats = server.stats()
    return stats["requests"], sum(stats["faults"].values())


@pytest.fixture(scope="module")
def fault_server():
    """A private server whose fault rate and kinds each test sets (no other test shares it)."""
    from whatfix_data.simulator import SimulatorConfig, start_background

    server = start_background(SimulatorConfig(seed=11, users=50, today=date(2026, 11, 27)))
    yield server
    server.stop()


def _faults(server, kinds: tuple[str, ...], rate: float) -> None:
    server.reset()
    server.state.control.fault_kinds = kinds
    server.state.control.fault_rate = rate


def _client(make_settings, server, retries: int) -> WhatfixClient:
    # verify=False and no periodic check: every request counted below is the fetch's own.
    return WhatfixClient(make_settings(server=server, retries=retries, credential_check_s=0),
                         verify=False)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(retries=st.integers(min_value=0, max_value=4),
       rate=st.sampled_from([0.3, 0.5, 0.7]),
       kind=st.sampled_from(["error_500", "error_502"]))
def test_each_fault_costs_exactly_one_more_request_up_to_the_retries(
        fault_server, make_settings, retries, rate, kind) -> None:
    _faults(fault_server, (kind,), rate)
    with _client(make_settings, fault_server, retries) as client:
        for index in range(8):
            requests_before, faults_before = _counts(fault_server)
            try:
                client.get_json(FLOWS, _day(index))
                succeeded = True
            except ApiUnavailableError:
                succeeded = False
            requests_after, faults_after = _counts(fault_server)
            faults = faults_after - faults_before
            # urllib3's Retry alone re-sends: N faults then a 200 cost N + 1 requests ...
            assert requests_after - requests_before == faults + (1 if succeeded else 0)
            # ... and a fetch gives up after exactly retries + 1 faults, never more.
            assert succeeded == (faults <= retries)
            assert faults <= retries + 1


def test_a_503_then_a_200_costs_two_requests_and_waits_its_retry_after(
        fault_server, make_settings) -> None:
    _faults(fault_server, ("error_503",), 0.5)
    with _client(make_settings, fault_server, retries=3) as client:
        for index in range(30):  # seeded: the first 503-then-200 comes within a few fetches
            requests_before, faults_before = _counts(fault_server)
            started = time.monotonic()
            try:
                client.get_json(FLOWS, _day(100 + index))
                succeeded = True
            except ApiUnavailableError:  # 503 on every attempt: also exactly counted
                succeeded = False
            elapsed = time.monotonic() - started
            requests_after, faults_after = _counts(fault_server)
            requests, faults = requests_after - requests_before, faults_after - faults_before
            assert requests == faults + (1 if succeeded else 0)
            if succeeded and faults == 1:
                break
        else:
            pytest.fail("no fetch met exactly one 503 in 30 tries at a 50% fault rate")
    assert requests == 2
    assert elapsed >= RETRY_AFTER_S  # the 503's Retry-After paused the retry (pacing layer)


@pytest.mark.parametrize("retries", [0, 2])
def test_a_persistent_outage_costs_retries_plus_one_then_serves_the_stale_copy(
        fault_server, make_settings, retries) -> None:
    _faults(fault_server, (), 0.0)
    with _client(make_settings, fault_server, retries) as client:
        fresh = client.get_json(FLOWS, _day(200))
        _faults(fault_server, ("error_502",), 1.0)
        again = client.get_json(FLOWS, _day(200), refresh=True)
        assert again.meta.stale and again.payload == fresh.payload
        # the body loop does not repeat an outage, and the stale copy costs no request
        assert _counts(fault_server) == (retries + 1, retries + 1)
        with pytest.raises(ApiUnavailableError):
            client.get_json(FLOWS, _day(201))  # nothing cached: the outage's own error
    assert _counts(fault_server) == (2 * (retries + 1), 2 * (retries + 1))


@pytest.mark.parametrize("retries", [0, 1, 4])
def test_bodies_cut_every_time_cost_the_body_attempts_then_an_outage(
        fault_server, make_settings, retries) -> None:
    _faults(fault_server, ("dropped",), 1.0)
    with (_client(make_settings, fault_server, retries) as client,
          pytest.raises(ApiUnavailableError, match="kept breaking")):
        client.get_json(FLOWS, _day(300))
    attempts = max(retries + 1, BODY_ATTEMPTS)
    assert _counts(fault_server) == (attempts, attempts)


@pytest.mark.parametrize("retries", [0, 3])
def test_an_upsert_in_an_outage_costs_retries_plus_one(fault_server, make_settings,
                                                       retries) -> None:
    _faults(fault_server, ("error_502",), 1.0)
    with (_client(make_settings, fault_server, retries) as client,
          pytest.raises(ApiUnavailableError)):
        put_end_user(client, "outage-user", {"email": "outage@acme.example"})
    assert _counts(fault_server) == (retries + 1, retries + 1)
