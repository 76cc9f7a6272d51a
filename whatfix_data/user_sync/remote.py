"""The API side of a sync: the current users and segments (always fresh), the upsert, the refresh.

The diff must be computed against what the API holds *now*: a list served from the one-hour list
cache would make a second run resend rows the first run already applied. So both lists are
fetched bypassing the caches (``load_end_users``/``load_segments`` with ``refresh=True``), which
also stores the fresh copies in them: that is the refresh the dashboard sees after a sync.

``refresh_cache`` is the one place where a user sync invalidates what is cached above the HTTP
cache: it calls every listener registered with ``on_account_change`` (the datasets memo's user
and segment lists, the dashboard's page caches) once, then fetches the lists again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from urllib.parse import quote

import pandas as pd

from whatfix_data import datasets, registry
from whatfix_data.client import WhatfixClient
from whatfix_data.errors import ApiUnavailableError
from whatfix_data.results import FetchMeta

UPSERT_OPERATION = "/end-users/{userId}"
UPSERT_OK = (200, 201)
UPSERT_REJECTED = 400

Put = Callable[[str, dict], tuple[int, dict]]
AccountListener = Callable[[str], None]  # called with the changed account's cache scope

_account_listeners: list[AccountListener] = []


@dataclass(frozen=True)
class CurrentState:
    """The end users and segments the preview is computed against, and when they were fetched."""

    end_users: pd.DataFrame
    segments: pd.DataFrame
    meta: FetchMeta


def put_end_user(client: WhatfixClient, user_id: str, body: dict) -> tuple[int, dict]:
    """Upsert one end user: (200 updated | 201 created | 400 rejected, response body).

    A 400 is returned, not raised, so a batch sync can report it per row; 401/403/404,
    rate limiting and outages raise (after the client's retries).
    """
    path = f"/end-users/{quote(str(user_id), safe='')}"
    status, payload = client.put_json(path, body, operation=UPSERT_OPERATION,
                                      answered=(*UPSERT_OK, UPSERT_REJECTED))
    return status, payload if isinstance(payload, dict) else {}


def end_user_writer(client: WhatfixClient) -> Put:
    """`put(user_id, body)` for `apply_plan`: `put_end_user` bound to this client."""
    return partial(put_end_user, client)


def on_account_change(listener: AccountListener) -> Callable[[], None]:
    """Register `listener(cache_scope)`, called once by `refresh_cache` after a sync.

    Returns a function that unregisters it (registering twice keeps one entry).
    """
    if listener not in _account_listeners:
        _account_listeners.append(listener)

    def unregister() -> None:
        if listener in _account_listeners:
            _account_listeners.remove(listener)

    return unregister


def account_changed(client: WhatfixClient) -> None:
    """Tell every listener that this account's end users changed (their caches are outdated)."""
    scope = client.settings.cache_scope
    for listener in list(_account_listeners):
        listener(scope)


def load_current(client: WhatfixClient) -> CurrentState:
    """Every end user and segment, fetched from the API now (the cached copies are replaced).

    Failures (cut connections included) arrive as `whatfix_data.errors` exceptions. During an
    outage the data layer would serve the last cached copy; a sync is never planned on one (it
    would send again users a first run already changed, or miss who changed since), so that is
    an ApiUnavailableError too.
    """
    end_users = datasets.load_end_users(client, refresh=True)
    segments = datasets.load_segments(client, refresh=True)
    for dataset in (end_users, segments):
        if dataset.meta.stale:
            raise ApiUnavailableError(
                f"The {registry.get(dataset.name).label.lower()} could not be fetched now (the "
                "Whatfix API is unavailable), and a sync is only planned against what the API "
                "holds now, never a cached copy. Try again in a few minutes.")
    return CurrentState(end_users.frame, segments.frame,
                        FetchMeta.combine([end_users.meta, segments.meta]))


def refresh_cache(client: WhatfixClient) -> CurrentState:
    """After a sync: drop what the listeners cached for this account, then fetch the lists again.

    The listeners run first, so even when the fetch fails (raised as a WhatfixError) nothing
    shows the users as they were before the sync for longer than the HTTP list cache allows.
    """
    account_changed(client)
    return load_current(client)


on_account_change(datasets.forget_lists)  # the memoized user and segment lists


__all__ = [
    "CurrentState",
    "account_changed",
    "end_user_writer",
    "load_current",
    "on_account_change",
    "put_end_user",
    "refresh_cache",
]
