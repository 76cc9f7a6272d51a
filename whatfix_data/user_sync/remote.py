"""The API side of a sync: the current end users and segments (always fresh), the cache refresh.

The diff must be computed against what the API holds *now*: a list served from the one-hour list
cache would make a second run resend rows the first run already applied. So both lists are
fetched bypassing the caches (``load_end_users``/``load_segments`` with ``refresh=True``), which
also stores the fresh copies in them: that is the refresh the dashboard sees after a sync.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import requests

from whatfix_data.client import FetchMeta, WhatfixClient
from whatfix_data.datasets import (
    PATH_END_USERS,
    PATH_SEGMENTS,
    Dataset,
    load_end_users,
    load_segments,
)
from whatfix_data.errors import ApiUnavailableError

BROKEN_CONNECTION = (
    "The connection to the Whatfix API broke while the current end users were being read. "
    "Nothing was sent; try again in a minute."
)


@dataclass(frozen=True)
class CurrentState:
    """The end users and segments the preview is computed against, and when they were fetched."""

    end_users: pd.DataFrame
    segments: pd.DataFrame
    meta: FetchMeta


def _fresh(load: Callable[..., Dataset], path: str, client: WhatfixClient) -> Dataset:
    try:
        return load(client, refresh=True)
    except requests.RequestException as exc:
        # The client maps HTTP failures to WhatfixError; a body cut mid-read can still escape.
        raise ApiUnavailableError(BROKEN_CONNECTION, operation=path) from exc


def load_current(client: WhatfixClient) -> CurrentState:
    """Every end user and segment, fetched from the API now (the cached copies are replaced)."""
    end_users = _fresh(load_end_users, PATH_END_USERS, client)
    segments = _fresh(load_segments, PATH_SEGMENTS, client)
    return CurrentState(end_users.frame, segments.frame,
                        FetchMeta.combine([end_users.meta, segments.meta]))


def refresh_cache(client: WhatfixClient) -> CurrentState:
    """Re-fetch end users and segments after a sync so every page shows the synced data."""
    return load_current(client)
