"""The API side of a sync: the current end users and segments (always fresh), the cache refresh.

The diff must be computed against what the API holds *now*: a list served from the one-hour list
cache would make a second run resend rows the first run already applied. So both lists are
fetched bypassing the caches (``load_end_users``/``load_segments`` with ``refresh=True``), which
also stores the fresh copies in them: that is the refresh the dashboard sees after a sync.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from whatfix_data.client import FetchMeta, WhatfixClient
from whatfix_data.datasets import load_end_users, load_segments


@dataclass(frozen=True)
class CurrentState:
    """The end users and segments the preview is computed against, and when they were fetched."""

    end_users: pd.DataFrame
    segments: pd.DataFrame
    meta: FetchMeta


def load_current(client: WhatfixClient) -> CurrentState:
    """Every end user and segment, fetched from the API now (the cached copies are replaced).

    Failures (cut connections included) arrive as `whatfix_data.errors` exceptions.
    """
    end_users = load_end_users(client, refresh=True)
    segments = load_segments(client, refresh=True)
    return CurrentState(end_users.frame, segments.frame,
                        FetchMeta.combine([end_users.meta, segments.meta]))


def refresh_cache(client: WhatfixClient) -> CurrentState:
    """Re-fetch end users and segments after a sync so every page shows the synced data."""
    return load_current(client)
