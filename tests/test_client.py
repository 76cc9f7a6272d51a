"""HTTP client against the built-in server: auth, pagination, retries, errors, stale fallback."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whatfix_data.client import PAGE_SIZE, WhatfixClient
from whatfix_data.errors import (
    ApiUnavailableError,
    AuthenticationError,
    BadResponseError,
    FetchCancelledError,
    FetchTimeoutError,
    IncompleteDataError,
    NotFoundError,
    PermissionDeniedError,
    TooLargeError,
    WhatfixError,
)
from whatfix_data.simulator import SimulatorConfig, start_background
from whatfix_data.user_sync import put_end_user

# One worker runs this module: its module-scoped fixtures (servers, loaded data, built packs)
# are then made once, not once per xdist worker (tests/run_all.sh: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_client")

TODAY = date(2026, 11, 27)
PAST = {"startDate": "2026-10-01", "endDate": "2026-10-31"}
WITH_TODAY = {"startDate": "2026-11-20", "endDate": "2026-11-27"}
FLOWS = "/analytics/flows"
USERS = 2000
REPO_ROOT = Path(__file__).resolve().parents[1]


def _fixed_today() -> date:
    return TODAY


@pytest.fixture(scope="module")
def state_server():
    """A private server for tests that set scenarios or revoke keys (sim_server stays pristine)."""
    server = start_background(SimulatorConfig(seed=7, users=USERS, today=TODAY))
    yield server
    server.stop()


@pytest.fixture()
def clean_server(state_server):
    """The private server with counters, scenarios and revoked keys reset around the test."""
    state_server.reset()
    yield state_server
    state_server.reset()


@pytest.fixture()
def own_server():
    """A private server (a test may stop it or inject faults)."""
    server = start_background(SimulatorConfig(seed=7, users=300, today=TODAY))
    yield server
    server.stop()


def test_both_auth_headers_are_required_and_sent(make_settings) -> None:
    with WhatfixClient(make_settings()) as client:
        assert client.get_json(FLOWS, PAST).payload["data"]
    with pytest.raises(AuthenticationError):
        WhatfixClient(make_settings(user="someone-else@acme.example"))


def test_all_pages_are_complete_and_fetched_once(clean_server, make_settings) -> None:
    with WhatfixClient(make_settings(server=clean_server)) as client:
        result = client.get_all_pages("/end-users", kind="list", id_field="userId")
    ids = [record["userId"] for record in result.records]
    assert len(ids) == len(set(ids)) == USERS
    assert result.meta.total_count == USERS and result.meta.rows == USERS
    pages = USERS // PAGE_SIZE
    assert result.meta.requests == pages
    stats = clean_server.stats()
    assert stats["byOperation"]["listEndUsers"] == pages
    assert stats["requests"] == pages + 1  # + the live credential check


def test_cached_repeat_makes_no_request(clean_server, make_settings) -> None:
    with WhatfixClient(make_settings(server=clean_server)) as client:
        first = client.get_all_pages("/end-users", kind="list", id_field="userId")
        before = clean_server.stats()["requests"]
        second = client.get_all_pages("/end-users", kind="list", id_field="userId")
    assert clean_server.stats()["requests"] == before
    assert second.meta.from_cache and second.meta.network_requests == 0
    assert second.records == first.records


def test_total_that_moves_between_pages_is_refetched(clean_server, make_settings) -> None:
    with WhatfixClient(make_settings(server=clean_server)) as client:
        clean_server.set_scenario("total_drift", operation="listEndUsers")
        result = client.get_all_pages("/end-users", kind="list", id_field="userId")
    ids = [record["userId"] for record in result.records]
    assert len(ids) == len(set(ids)) == result.meta.total_count
    assert clean_server.stats()["byOperation"]["listEndUsers"] > USERS // PAGE_SIZE


def test_non_json_and_truncated_bodies_are_clear_errors(clean_server, make_settings) -> None:
    for scenario in ("non_json", "truncated_json"):
        clean_server.set_scenario(scenario, operation="getFlowAnalytics")
        settings = make_settings(server=clean_server)
        with WhatfixClient(settings) as client, pytest.raises(BadResponseError) as caught:
            client.get_json(FLOWS, PAST)
        assert "not valid JSON" in caught.value.user_message or "incomplete" in str(caught.value)
        with WhatfixClient(settings) as client:  # nothing garbled was cached
            clean_server.set_scenario(None)
            assert client.get_json(FLOWS, PAST).payload["data"]


def test_other_account_is_forbidden_and_wrong_base_url_not_found(make_settings, sim_server):
    with pytest.raises(PermissionDeniedError, match="403"):
        WhatfixClient(make_settings(account_id="globex-demo"))  # acme's key, globex's data
    wrong_base = sim_server.base_url.replace("/api/v1", "/api/v9")
    with pytest.raises(NotFoundError, match="WHATFIX_BASE_URL"):
        WhatfixClient(make_settings(base_url=wrong_base))


def test_messages_and_logs_never_contain_the_key(clean_server, make_settings, demo_account,
                                                 caplog) -> None:
    caplog.set_level(logging.DEBUG)
    clean_server.revoke_key(demo_account.integration_key)
    with pytest.raises(AuthenticationError) as caught:
        WhatfixClient(make_settings(server=clean_server))
    message = caught.value.user_message
    assert "401" in message and "WHATFIX_INTEGRATION_KEY" in message
    assert demo_account.integration_key not in message
    assert demo_account.integration_key not in caplog.text
    client = WhatfixClient(make_settings(server=clean_server), verify=False)
    assert demo_account.integration_key not in repr(client)
    client.close()


def test_faults_are_retried_to_the_exact_same_data(make_settings, sim_server) -> None:
    faulty = start_background(SimulatorConfig(seed=7, users=USERS, today=TODAY, fault_rate=0.2))
    try:
        with WhatfixClient(make_settings(server=faulty, retries=6)) as client:
            users = client.get_all_pages("/end-users", kind="list", id_field="userId")
            flows = client.get_json(FLOWS, PAST).payload
        faults = faulty.stats()["faults"]
    finally:
        faulty.stop()
    with WhatfixClient(make_settings()) as client:
        clean_users = client.get_all_pages("/end-users", kind="list", id_field="userId")
        clean_flows = client.get_json(FLOWS, PAST).payload
    assert sum(faults.values()) > 0  # faults really happened
    assert users.records == clean_users.records
    assert flows == clean_flows


@pytest.fixture()
def server_process():
    """`python -m whatfix_data simulate` in its own process: killing it is a real outage."""
    process = subprocess.Popen(
        [sys.executable, "-m", "whatfix_data", "simulate", "--port", "0", "--users", "300",
         "--today", TODAY.isoformat()],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO_ROOT,
    )
    base_url = process.stdout.readline().strip()
    yield process, base_url
    process.kill()
    process.wait(timeout=10)


def test_outage_serves_stale_copy_with_its_age(server_process, make_settings) -> None:
    process, base_url = server_process
    settings = make_settings(base_url=base_url, ttl_today_s=1, retries=1)
    with WhatfixClient(settings, today=_fixed_today) as client:
        fresh = client.get_json(FLOWS, WITH_TODAY)
        client.get_json(FLOWS, PAST)
        process.kill()
        process.wait(timeout=10)
        time.sleep(1.1)  # the today-window copy has expired
        stale = client.get_json(FLOWS, WITH_TODAY)
        past = client.get_json(FLOWS, PAST)
        with pytest.raises(ApiUnavailableError):
            client.get_all_pages("/segments", kind="list", id_field="segmentId")
    assert stale.payload == fresh.payload
    assert stale.meta.stale and stale.meta.from_cache and stale.meta.age_s >= 1
    assert past.meta.from_cache and not past.meta.stale  # past windows are simply cached


def test_rejected_key_is_never_answered_from_a_stale_copy(clean_server, make_settings,
                                                           demo_account) -> None:
    settings = make_settings(server=clean_server, ttl_today_s=1, credential_check_s=0)
    with WhatfixClient(settings, today=_fixed_today) as client:
        client.get_json(FLOWS, WITH_TODAY)
        clean_server.revoke_key(demo_account.integration_key)
        time.sleep(1.1)
        with pytest.raises(AuthenticationError):
            client.get_json(FLOWS, WITH_TODAY)


def test_revoked_key_gets_its_401_for_past_windows_and_keeps_getting_it(
        clean_server, make_settings, demo_account) -> None:
    # Past windows never expire, so only the live credential check stands between a revoked
    # key and old data: once it fails, every later call fails too, not just the next one.
    settings = make_settings(server=clean_server, credential_check_s=1)
    with WhatfixClient(settings, today=_fixed_today) as client:
        assert client.get_json(FLOWS, PAST).payload["data"]
        clean_server.revoke_key(demo_account.integration_key)
        time.sleep(1.1)
        for _ in range(3):
            with pytest.raises(AuthenticationError):
                client.get_json(FLOWS, PAST)


def test_upsert_creates_updates_and_reports_rejections(own_server, make_settings) -> None:
    with WhatfixClient(make_settings(server=own_server)) as client:
        created, body = put_end_user(client, "new-user-1", {"email": "n1@acme.example",
                                                           "attributes": {"role": "PM"}})
        updated, _ = put_end_user(client, "new-user-1", {"attributes": {"role": "Admin"}})
        rejected, error = put_end_user(client, "new-user-2", {"attributes": "not an object"})
    assert (created, updated, rejected) == (201, 200, 400)
    assert body["userId"] == "new-user-1"
    assert error.get("message")


def test_every_error_is_a_whatfix_error_with_a_message() -> None:
    error = AuthenticationError()
    assert isinstance(error, WhatfixError)
    assert str(error) == error.user_message and "401" in str(error)


def test_pages_run_concurrently_within_the_bound(make_sim_server, make_settings) -> None:
    # The server counts how many requests it handles at once: the bound is checked there,
    # not with a stopwatch (the machine is shared).
    slow = make_sim_server(users=USERS, latency_ms=100)
    for bound in (4, 16):
        with WhatfixClient(make_settings(server=slow, max_concurrency=bound)) as client:
            slow.reset()
            result = client.get_all_pages("/end-users", kind="list", id_field="userId")
            peak = slow.stats()["maxInFlight"]
        assert len(result.records) == USERS
        # 20 pages: page 1 alone, then the other 19 overlap up to the bound, never beyond it
        assert 1 < peak <= bound


def test_completeness_check_catches_lost_and_doubled_rows() -> None:
    from whatfix_data.pagination import PAGE_SIZE, Page, completeness_problem
    from whatfix_data.results import FetchMeta

    meta = FetchMeta.combine([])
    rows = [{"userId": f"u{i}"} for i in range(PAGE_SIZE + 3)]
    full, rest = rows[:PAGE_SIZE], rows[PAGE_SIZE:]
    total = len(rows)
    assert completeness_problem([Page(full, total, meta, 1), Page(rest, total, meta, 2)],
                                ("userId",)) == ("", True)
    # the data ended early: a short page, not worth fetching again
    problem, retry = completeness_problem([Page(full, total, meta, 1),
                                           Page(rest[:2], total, meta, 2)], ("userId",))
    assert "page 2 held 2 of the 3 rows" in problem and not retry
    doubled = [Page(full, total, meta, 1), Page([full[5], *rest[:2]], total, meta, 2)]
    problem, retry = completeness_problem(doubled, ("userId",))
    assert "duplicate id 'u5'" in problem and retry
    moved = [Page(full, total, meta, 1), Page(rest, total + 1, meta, 2)]
    problem, retry = completeness_problem(moved, ("userId",))
    assert "total count changed" in problem and retry
    pairs = [{"userId": "u1", "taskListId": "t1"}, {"userId": "u1", "taskListId": "t2"}]
    assert completeness_problem([Page(pairs, 2, meta)], ("userId", "taskListId")) == ("", True)


def test_bodies_cut_mid_transfer_are_fetched_again(make_sim_server, make_settings) -> None:
    cutting = make_sim_server(fault_rate=0.5)
    cutting.state.control.fault_kinds = ("dropped",)  # only half-sent bodies
    settings = make_settings(server=cutting, retries=8)
    with WhatfixClient(settings) as client:  # the credential check survives cuts too
        users = client.get_all_pages("/end-users", kind="list", id_field="userId")
        status, _ = put_end_user(client, "cut-user", {"email": "cut@acme.example"})
    assert len(users.records) == users.meta.total_count == 300
    assert status in (200, 201)
    assert cutting.stats()["faults"].get("dropped", 0) > 0


@pytest.fixture()
def cutting_server(make_sim_server):
    """A private server that cuts every response body in half (PUTs fail with 502 instead)."""
    server = make_sim_server()
    server.state.control.fault_kinds = ("dropped",)
    server.state.control.fault_rate = 1.0
    return server


CUT_PATHS = {
    "get_json": lambda c: c.get_json(FLOWS, PAST),
    "get_all_pages": lambda c: c.get_all_pages("/end-users", kind="list", id_field="userId"),
    "get_text": lambda c: c.get_text("/reports/summary/mostPopularFlows",
                                     {**PAST, "format": "csv"}),
    "get_bytes": lambda c: c.get_bytes("/reports/summary/mostPopularFlows",
                                       {**PAST, "format": "csv"}),
    "put_end_user": lambda c: put_end_user(c, "cut-user", {"email": "cut@acme.example"}),
}


@pytest.mark.parametrize("call", sorted(CUT_PATHS))
def test_bodies_always_cut_end_as_api_unavailable(cutting_server, make_settings, call) -> None:
    settings = make_settings(server=cutting_server, retries=2, credential_check_s=0)
    # Creating the client runs the credential check: skipped (outage), not crashed.
    with WhatfixClient(settings) as client, pytest.raises(ApiUnavailableError) as caught:
        CUT_PATHS[call](client)
    assert "Try again" in caught.value.user_message
    faults = cutting_server.stats()["faults"]
    assert faults.get("dropped", 0) + faults.get("error_502", 0) >= 3  # retried, then gave up


def test_the_credential_check_survives_bodies_always_cut(cutting_server, make_settings,
                                                         caplog) -> None:
    caplog.set_level(logging.WARNING)
    settings = make_settings(server=cutting_server, retries=2, credential_check_s=0)
    client = WhatfixClient(settings, verify=False)
    try:
        client.verify_credentials(force=True)  # an outage: skipped, cached data may be served
    finally:
        client.close()
    assert cutting_server.stats()["faults"]["dropped"] == 3  # every attempt was cut
    assert "Credential check skipped" in caplog.text


def test_a_cached_copy_is_served_stale_when_bodies_keep_being_cut(make_sim_server,
                                                                   make_settings) -> None:
    server = make_sim_server()
    with WhatfixClient(make_settings(server=server, retries=2, credential_check_s=0)) as client:
        fresh = client.get_json(FLOWS, PAST)
        server.state.control.fault_kinds = ("dropped",)
        server.state.control.fault_rate = 1.0
        again = client.get_json(FLOWS, PAST, refresh=True)
    assert again.meta.stale and again.payload == fresh.payload


def test_an_impossible_header_is_a_configuration_error(make_settings) -> None:
    with pytest.raises(WhatfixError) as caught:
        WhatfixClient(make_settings(user="pm@acme.example\r\nX-Injected: 1"))
    assert type(caught.value).__name__ == "ConfigurationError"
    assert "WHATFIX_USER" in caught.value.user_message


# ----- every fetch is bounded (issue 12) -------------------------------------------------------
SCENARIO_MESSAGE_S = 5  # "a clear message within seconds" on a loopback server


def _served(server) -> int:
    return server.stats()["requests"]


@pytest.mark.parametrize(("scenario", "error", "words"), [
    ("huge_total", TooLargeError, ("10,000,000", "WHATFIX_MAX_ROWS", "end-users")),
    ("negative_total", BadResponseError, ("-42", "end-users")),
])
def test_an_absurd_total_ends_after_page_one_with_one_clear_message(
        make_sim_server, make_settings, scenario, error, words) -> None:
    server = make_sim_server(users=500)
    server.set_scenario(scenario, operation="listEndUsers")
    started = time.monotonic()
    with WhatfixClient(make_settings(server=server)) as client, pytest.raises(error) as caught:
        client.get_all_pages("/end-users", kind="list", id_field="userId", name="end-users")
    assert time.monotonic() - started < SCENARIO_MESSAGE_S
    assert all(word in str(caught.value) for word in words)
    assert _served(server) == 2  # the credential check and page 1: no page 2 requested


@pytest.mark.parametrize("concurrency", [1, 3, 8])
def test_a_list_that_ends_early_stops_at_the_short_page(make_sim_server, make_settings,
                                                       concurrency) -> None:
    server = make_sim_server(users=2000)  # 20 pages claimed
    server.set_scenario("ends_early", operation="listEndUsers")
    settings_ = make_settings(server=server, max_concurrency=concurrency)
    with WhatfixClient(settings_) as client, pytest.raises(IncompleteDataError) as caught:
        client.get_all_pages("/end-users", kind="list", id_field="userId", name="end-users")
    message = str(caught.value)
    assert "end-users has 2,000 rows" in message and "ended early" in message
    # credential check + page 1 + at most one round of pages already handed out, never 20
    assert _served(server) <= 2 + concurrency


def test_a_page_that_never_answers_ends_at_the_deadline(make_sim_server, make_settings) -> None:
    server = make_sim_server(users=500)
    server.set_scenario("never_answers")
    settings_ = make_settings(server=server, read_timeout_s=5.0, fetch_deadline_s=1.5)
    for fetch in (lambda c: c.get_all_pages("/end-users", kind="list", id_field="userId",
                                            name="end-users"),
                  lambda c: c.get_json(FLOWS, PAST)):
        started = time.monotonic()
        with WhatfixClient(settings_) as client, pytest.raises(FetchTimeoutError) as caught:
            fetch(client)
        assert time.monotonic() - started < 1.5 + 1.0  # the deadline, not 6 x read timeout
        assert "WHATFIX_FETCH_DEADLINE_S" in str(caught.value)


def test_cancel_stops_sending_requests(make_sim_server, make_settings) -> None:
    server = make_sim_server(users=3000, latency_ms=40)  # 30 pages
    cancel = threading.Event()

    def on_rows(rows: int, total: int) -> None:
        if rows >= 3 * PAGE_SIZE:
            cancel.set()  # the user changed the filters

    with WhatfixClient(make_settings(server=server, max_concurrency=2)) as client:
        with client.fetch_scope(cancel=cancel), pytest.raises(FetchCancelledError):
            client.get_all_pages("/end-users", kind="list", id_field="userId",
                                 progress=on_rows)
        sent = _served(server)
        time.sleep(0.3)
        assert _served(server) == sent  # nothing left running in the background
    assert sent <= 1 + 3 + 2 * 2  # credential check, 3 pages, at most 2 rounds of 2 in flight


def test_the_deadline_covers_every_window_of_a_map(make_sim_server, make_settings) -> None:
    server = make_sim_server(users=200, latency_ms=300)
    windows = [{"startDate": f"2026-10-{day:02d}", "endDate": f"2026-10-{day:02d}"}
               for day in range(1, 21)]
    settings_ = make_settings(server=server, max_concurrency=2, fetch_deadline_s=1.0)
    started = time.monotonic()
    with WhatfixClient(settings_) as client, pytest.raises(FetchTimeoutError):
        client.map_concurrently(lambda params: client.get_json(FLOWS, params), windows)
    assert time.monotonic() - started < 1.0 + 1.0
    assert _served(server) < 1 + len(windows)


@pytest.mark.parametrize(("scenario", "error"), [("ends_early", IncompleteDataError),
                                                 ("huge_total", TooLargeError)])
def test_a_bad_answer_kept_in_the_cache_is_asked_for_again_live(
        make_sim_server, make_settings, scenario, error) -> None:
    server = make_sim_server(users=2000)
    with WhatfixClient(make_settings(server=server)) as client:  # an in-memory HTTP cache
        server.set_scenario(scenario, operation="listEndUsers")
        with pytest.raises(error):
            client.get_all_pages("/end-users", kind="list", id_field="userId")
        server.set_scenario(None)  # the API is fixed; the bad pages are still cached
        result = client.get_all_pages("/end-users", kind="list", id_field="userId")
    assert len(result.records) == result.meta.total_count == 2000


_ids = st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(["a", "b", "1"]),
                 st.lists(st.integers(0, 2), max_size=2),
                 st.dictionaries(st.sampled_from(["k"]), st.integers(0, 1), max_size=1))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.fixed_dictionaries({"userId": _ids, "taskListId": _ids}),
                          st.integers()), max_size=12),
       st.sampled_from([("userId",), ("userId", "taskListId")]))
def test_duplicate_ids_are_found_exactly_like_a_plain_walk(records, id_fields) -> None:
    import json

    from whatfix_data.pagination import Page, first_duplicate
    from whatfix_data.results import FetchMeta

    def plain(value):
        return json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else value

    expected, seen = None, set()
    for record in records:  # the reference: every object record, ids compared as JSON
        if not isinstance(record, dict):
            continue
        key = tuple(record.get(name) for name in id_fields)
        if all(part is None for part in key):
            continue
        comparable = tuple(plain(part) for part in key)
        if comparable in seen:
            expected = key
            break
        seen.add(comparable)
    page = Page(records, len(records), FetchMeta.combine([]))
    assert first_duplicate([page], id_fields) == expected
