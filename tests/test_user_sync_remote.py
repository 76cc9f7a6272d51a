"""The API side of a sync: the upsert, and the one place a sync invalidates caches."""

from __future__ import annotations

import pytest

from whatfix_data import user_sync
from whatfix_data.client import WhatfixClient
from whatfix_data.datasets import load_dataset, load_end_users
from whatfix_data.errors import ApiUnavailableError, AuthenticationError


@pytest.fixture()
def scopes_told():
    """The cache scopes an account-change listener is called with during the test."""
    told: list[str] = []
    unregister = user_sync.on_account_change(told.append)
    yield told
    unregister()


def test_a_sync_tells_the_listeners_once_after_all_its_upserts(
        make_sim_server, make_settings, scopes_told) -> None:
    server = make_sim_server(users=20)
    with WhatfixClient(make_settings(server=server)) as client:
        put = user_sync.end_user_writer(client)
        statuses = [put(f"remote-{n}", {"email": f"remote{n}@acme.example"})[0] for n in range(3)]
        assert statuses == [201, 201, 201]
        assert scopes_told == []  # the upserts themselves invalidate nothing
        current = user_sync.refresh_cache(client)
        assert scopes_told == [client.settings.cache_scope]
    assert {"remote-0", "remote-1", "remote-2"} <= set(current.end_users["user_id"])


def test_the_listeners_run_even_when_the_lists_cannot_be_read_again(
        make_sim_server, make_settings, scopes_told) -> None:
    server = make_sim_server(users=20)
    settings = make_settings(server=server, credential_check_s=0)
    with WhatfixClient(settings) as client:
        load_dataset(client, "end-users", None)
        server.revoke_key(settings.integration_key)
        with pytest.raises(AuthenticationError):
            user_sync.refresh_cache(client)
    assert scopes_told == [settings.cache_scope]


def test_a_sync_is_never_planned_on_a_cached_copy_during_an_outage(
        make_sim_server, make_settings) -> None:
    """A dashboard may show the last copy when the API is down; a sync plan may not (it would
    send again the users a first run already changed: found under faults in test_outreach)."""
    server = make_sim_server(users=20)
    with WhatfixClient(make_settings(server=server, retries=0)) as client:
        before = user_sync.load_current(client)
        server.state.control.fault_kinds = ("error_503",)  # the API now fails every request
        server.state.control.fault_rate = 1.0
        assert load_end_users(client, refresh=True).meta.stale  # what a page would be shown
        with pytest.raises(ApiUnavailableError, match="never a cached copy"):
            user_sync.load_current(client)
    assert len(before.end_users) == 20


def test_an_upsert_returns_a_rejection_and_raises_the_rest(make_sim_server,
                                                           make_settings) -> None:
    server = make_sim_server(users=20)
    settings = make_settings(server=server, credential_check_s=0)
    with WhatfixClient(settings) as client:
        status, body = user_sync.put_end_user(client, "bad", {"attributes": "not an object"})
        assert status == 400 and body  # reported per row, with the API's message
        server.revoke_key(settings.integration_key)
        with pytest.raises(AuthenticationError):
            user_sync.put_end_user(client, "bad", {"email": "x@acme.example"})


def test_registering_twice_keeps_one_listener(scopes_told, make_sim_server,
                                              make_settings) -> None:
    unregister = user_sync.on_account_change(scopes_told.append)  # the fixture's, again
    with WhatfixClient(make_settings(server=make_sim_server(users=20))) as client:
        user_sync.account_changed(client)
    assert scopes_told == [client.settings.cache_scope]
    unregister()
