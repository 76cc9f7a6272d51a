"""Cache policy: expiry per request kind, per-account keys, private key-free SQLite file."""

from __future__ import annotations

import os
import stat
import time
from datetime import date, timedelta

import pytest
import requests
from hypothesis import assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from whatfix_data import datasets
from whatfix_data.cache import (
    DO_NOT_CACHE,
    FOREVER,
    NEVER_EXPIRE,
    NOT_KEPT,
    expire_after_for,
    lifetime_s,
    make_key_fn,
)
from whatfix_data.client import WhatfixClient
from whatfix_data.errors import AuthenticationError
from whatfix_data.windows import DateRange

TODAY = date(2026, 11, 27)
PAST = {"startDate": "2026-10-01", "endDate": "2026-10-31"}
WITH_TODAY = {"startDate": "2026-11-01", "endDate": "2026-11-27"}
FLOWS = "/analytics/flows"


def _fixed_today() -> date:
    return TODAY


def test_expiry_per_kind(make_settings) -> None:
    settings = make_settings(ttl_today_s=900, ttl_lists_s=3600)
    assert expire_after_for("window", PAST, settings, TODAY) == NEVER_EXPIRE
    assert expire_after_for("window", WITH_TODAY, settings, TODAY) == 900
    assert expire_after_for("window", {"endDate": "2027-01-01"}, settings, TODAY) == 900
    assert expire_after_for("window", {}, settings, TODAY) == 900  # open end: up to now
    assert expire_after_for("list", {"page": 3}, settings, TODAY) == 3600
    assert expire_after_for("live", None, settings, TODAY) == DO_NOT_CACHE
    with pytest.raises(ValueError, match="unknown request kind"):
        expire_after_for("forever", None, settings, TODAY)


DAYS = st.dates(date(2020, 1, 1), date(2030, 12, 31))
TTLS = st.integers(1, 10 * 24 * 3600)


@st.composite
def windows_around(draw) -> tuple[DateRange, date]:
    """A window of up to 800 days and a today before, inside or after it."""
    start = draw(DAYS)
    window = DateRange(start, start + timedelta(days=draw(st.integers(0, 800))))
    today = window.start + timedelta(days=draw(st.integers(-30, window.days + 30)))
    return window, today


@hypothesis_settings(deadline=None)  # shared 2-core machine: timings vary
@given(case=windows_around(), ttl_today=TTLS, ttl_lists=TTLS)
def test_a_window_is_kept_forever_exactly_when_all_its_days_are_before_today(
        make_settings, case, ttl_today, ttl_lists) -> None:
    window, today = case
    settings = make_settings(ttl_today_s=ttl_today, ttl_lists_s=ttl_lists)
    lifetime = lifetime_s("window", window, settings, today)
    if all(day < today for day in window.dates()):
        assert lifetime is FOREVER
    else:  # today (or a later day) is in it: its data may still change
        assert lifetime == ttl_today
    # The HTTP cache reads the same rule from the request's parameters.
    expected = NEVER_EXPIRE if lifetime is FOREVER else ttl_today
    assert expire_after_for("window", window.params(), settings, today) == expected
    # Lists and live requests do not depend on the window at all.
    assert lifetime_s("list", window, settings, today) == ttl_lists
    assert expire_after_for("list", window.params(), settings, today) == ttl_lists
    assert lifetime_s("live", window, settings, today) == NOT_KEPT
    assert expire_after_for("live", window.params(), settings, today) == DO_NOT_CACHE


@hypothesis_settings(deadline=None)  # shared 2-core machine: timings vary
@given(case=windows_around(), later=st.integers(0, 3000))
def test_a_past_window_never_becomes_fresh_again(make_settings, case, later) -> None:
    window, today = case
    settings = make_settings()
    if lifetime_s("window", window, settings, today) is FOREVER:
        assert lifetime_s("window", window, settings, today + timedelta(days=later)) is FOREVER


@hypothesis_settings(deadline=None)  # shared 2-core machine: timings vary
@given(end=st.one_of(st.none(), st.text(max_size=12), st.integers()), today=DAYS)
def test_a_request_without_a_usable_end_date_counts_as_including_today(make_settings, end,
                                                                       today) -> None:
    settings = make_settings(ttl_today_s=123)
    try:
        usable = bool(date.fromisoformat(str(end)))
    except ValueError:
        usable = False
    assume(not usable)
    params = {} if end is None else {"startDate": "2020-01-01", "endDate": end}
    assert expire_after_for("window", params, settings, today) == 123


@hypothesis_settings(deadline=None, max_examples=40)  # each example builds a client
@given(case=windows_around(), name=st.sampled_from(sorted(datasets.DASHBOARD_DATASETS)),
       ttl_today=TTLS)
def test_the_dataset_memo_and_the_http_cache_keep_a_window_alike(make_settings, case, name,
                                                                 ttl_today) -> None:
    window, today = case
    client = WhatfixClient(make_settings(ttl_today_s=ttl_today), today=lambda: today,
                           verify=False)
    try:
        memo = datasets._memo_lifetime(client, name, window)
    finally:
        client.close()
    kind = "list" if name in datasets.LIST_DATASETS else "window"
    http = expire_after_for(kind, window.params(), client.settings, today)
    assert (memo is FOREVER) == (http == NEVER_EXPIRE)
    assert memo is FOREVER or memo == http


def test_nothing_is_memoized_when_no_cache_is_configured(make_settings) -> None:
    with WhatfixClient(make_settings(cache="off"), today=_fixed_today, verify=False) as client:
        assert datasets._memo_lifetime(client, "flows", DateRange.from_iso(
            PAST["startDate"], PAST["endDate"])) == NOT_KEPT


def test_cache_key_depends_on_scope_not_on_the_key_header() -> None:
    url = "http://127.0.0.1:1/api/v1/acme/analytics/flows?startDate=2026-10-01"
    one = requests.Request("GET", url, headers={"x-whatfix-integration-key": "a"}).prepare()
    two = requests.Request("GET", url, headers={"x-whatfix-integration-key": "b"}).prepare()
    scoped_a, scoped_b = make_key_fn("base|acme|fp-a"), make_key_fn("base|acme|fp-b")
    assert scoped_a(one) == scoped_a(two)  # the header itself is not what separates entries...
    assert scoped_a(one) != scoped_b(one)  # ...the scope (with the key fingerprint) is


def _entries_by_url(client: WhatfixClient) -> dict[str, object]:
    return {response.url: response for response in client.cache.responses.values()}


def test_past_windows_never_expire_today_and_lists_do(make_settings) -> None:
    with WhatfixClient(make_settings(), today=_fixed_today) as client:
        client.get_json(FLOWS, PAST)
        client.get_json(FLOWS, WITH_TODAY)
        client.get_all_pages("/segments", kind="list", id_field="segmentId")
        entries = _entries_by_url(client)
    past = next(r for u, r in entries.items() if "endDate=2026-10-31" in u)
    today = next(r for u, r in entries.items() if "endDate=2026-11-27" in u)
    listed = next(r for u, r in entries.items() if "/segments" in u)
    assert past.expires is None
    assert 800 < (today.expires - today.created_at).total_seconds() <= 900
    assert 3500 < (listed.expires - listed.created_at).total_seconds() <= 3600


def test_sqlite_file_is_private_and_holds_no_credentials(tmp_path, make_settings, demo_account):
    cache_file = tmp_path / "fresh" / "folder" / "http_cache.sqlite"
    with WhatfixClient(make_settings(cache=str(cache_file)), today=_fixed_today) as client:
        client.get_json(FLOWS, PAST)
        client.get_all_pages("/end-users", kind="list", id_field="userId")
        live_files = {path.name: stat.S_IMODE(os.stat(path).st_mode)
                      for path in cache_file.parent.iterdir()}
    assert live_files == {name: 0o600 for name in live_files}  # WAL and shm files too
    assert len(live_files) >= 2
    assert stat.S_IMODE(os.stat(cache_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(cache_file.parent).st_mode) == 0o700
    for path in cache_file.parent.iterdir():  # the WAL and shared-memory files too
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path.name
    raw = b"".join(path.read_bytes() for path in cache_file.parent.iterdir())
    assert len(raw) > 100_000  # the responses are really in there
    assert demo_account.integration_key.encode() not in raw
    assert b"REDACTED" in raw  # requests-cache replaced the auth headers of stored requests


def test_a_second_client_reads_the_same_file(tmp_path, make_settings) -> None:
    cache_file = tmp_path / "http_cache.sqlite"
    with WhatfixClient(make_settings(cache=str(cache_file))) as first:
        fresh = first.get_json(FLOWS, PAST)
    with WhatfixClient(make_settings(cache=str(cache_file))) as second:
        cached = second.get_json(FLOWS, PAST)
    assert not fresh.meta.from_cache
    assert cached.meta.from_cache and cached.meta.network_requests == 0
    assert cached.payload == fresh.payload


def test_another_key_never_gets_a_response_cached_for_this_one(tmp_path, make_settings):
    cache_file = str(tmp_path / "shared.sqlite")
    with WhatfixClient(make_settings(cache=cache_file)) as owner:
        owner.get_json(FLOWS, PAST)
    intruder = make_settings(cache=cache_file, integration_key="wf-guessed-key")
    with WhatfixClient(intruder, verify=False) as client, pytest.raises(AuthenticationError):
        client.get_json(FLOWS, PAST)  # same URL, same file: still asks the API, gets 401


def test_revoked_key_gets_its_401_not_cached_data(make_sim_server, make_settings, demo_account):
    sim_server = make_sim_server()
    settings = make_settings(server=sim_server, credential_check_s=1)
    client = WhatfixClient(settings)
    try:
        client.get_json(FLOWS, PAST)
        assert client.get_json(FLOWS, PAST).meta.from_cache
        sim_server.revoke_key(demo_account.integration_key)
        with pytest.raises(AuthenticationError):
            WhatfixClient(settings)  # checked live on creation
        time.sleep(1.05)
        with pytest.raises(AuthenticationError) as caught:
            client.get_json(FLOWS, PAST)  # periodic re-check beats the never-expiring copy
        assert demo_account.integration_key not in str(caught.value)
    finally:
        client.close()


def test_memory_and_off_backends(make_settings) -> None:
    with WhatfixClient(make_settings(cache="memory")) as client:
        client.get_json(FLOWS, PAST)
        assert client.get_json(FLOWS, PAST).meta.from_cache
    with WhatfixClient(make_settings(cache="off")) as client:
        client.get_json(FLOWS, PAST)
        again = client.get_json(FLOWS, PAST)
        assert not again.meta.from_cache and again.meta.network_requests == 1


def _cache_both_accounts(server, make_settings, cache: str) -> tuple[WhatfixClient, ...]:
    """Clients of the two demo accounts sharing one cache, each with a window and a list cached.

    credential_check_s=0: only the forced check at creation, so later counts are data requests.
    """
    clients = tuple(
        WhatfixClient(make_settings(server=server, account=account, cache=cache,
                                    credential_check_s=0), today=_fixed_today)
        for account in (0, 1)
    )
    for client in clients:
        client.get_json(FLOWS, PAST)
        client.get_all_pages("/segments", kind="list", id_field="segmentId")
    return clients


def assert_clearing_one_scope_keeps_the_other(server, make_settings, cache: str) -> None:
    """Refresh account 0 only: account 1 is still served from the shared cache, 0 requests."""
    acme, globex = _cache_both_accounts(server, make_settings, cache)
    try:
        deleted = acme.clear_cache()
        assert deleted >= 2  # its window and its segment page(s)
        server.reset()
        kept = globex.get_json(FLOWS, PAST)
        kept_list = globex.get_all_pages("/segments", kind="list", id_field="segmentId")
        assert kept.meta.from_cache and kept_list.meta.from_cache
        assert server.stats()["requests"] == 0  # the other account never reached the API
        assert acme.clear_cache() == 0  # nothing of acme's left to delete
        again = acme.get_json(FLOWS, PAST)
        assert not again.meta.from_cache and server.stats()["requests"] == 1
    finally:
        for client in (acme, globex):
            client.close()


def test_clearing_one_account_keeps_the_other_accounts_entries(tmp_path, make_sim_server,
                                                               make_settings) -> None:
    cache_file = str(tmp_path / "shared.sqlite")
    assert_clearing_one_scope_keeps_the_other(make_sim_server(), make_settings, cache_file)


def test_clearing_one_key_keeps_another_keys_entries_for_the_same_account(
        tmp_path, make_sim_server, make_settings) -> None:
    server = make_sim_server()
    cache_file = str(tmp_path / "shared.sqlite")
    with WhatfixClient(make_settings(server=server, cache=cache_file)) as owner:
        owner.get_json(FLOWS, PAST)
    # Same account and URL, another key: a scope of its own, which has nothing cached.
    other = make_settings(server=server, cache=cache_file, integration_key="wf-another-key")
    with WhatfixClient(other, verify=False) as client:
        assert client.clear_cache() == 0
    with WhatfixClient(make_settings(server=server, cache=cache_file)) as owner:
        assert owner.get_json(FLOWS, PAST).meta.from_cache


def test_expiry_follows_the_today_setting(make_settings) -> None:
    # PAST ends on 31 Oct: "today" for the first client, so 1 s; before today for the second.
    includes_today = make_settings(today=date(2026, 10, 31), ttl_today_s=1)
    with WhatfixClient(includes_today) as client:
        assert client.today() == date(2026, 10, 31)
        client.get_json(FLOWS, PAST)
        assert client.get_json(FLOWS, PAST).meta.from_cache
        time.sleep(1.05)
        assert not client.get_json(FLOWS, PAST).meta.from_cache  # expired after ttl_today_s
    ended = make_settings(today=date(2026, 11, 1), ttl_today_s=1)
    with WhatfixClient(ended) as client:
        client.get_json(FLOWS, PAST)
        time.sleep(1.05)
        assert client.get_json(FLOWS, PAST).meta.from_cache  # a past window never expires
        assert _entries_by_url(client) and all(
            response.expires is None for response in _entries_by_url(client).values()
            if "endDate=2026-10-31" in response.url
        )


def test_requests_cache_reads_each_signature_once_through_the_projects_patch():
    """`cache.memoise_signatures_of_requests_cache` (the one library patch) still takes effect:
    requests-cache parses every request's directives through `_utils.signature`. When this
    fails, requests-cache changed how it does that: drop or redo the patch."""
    import functools
    import inspect

    import requests_cache._utils as internals
    from requests_cache.policy.directives import CacheDirectives

    assert isinstance(internals.signature, functools._lru_cache_wrapper)
    assert internals.signature.__wrapped__ is inspect.signature
    hits = internals.signature.cache_info().hits
    for _ in range(3):
        directives = CacheDirectives.from_headers({"Cache-Control": "max-age=60"})
    assert directives.max_age == 60  # the same answer as without the patch
    assert internals.signature.cache_info().hits >= hits + 2
