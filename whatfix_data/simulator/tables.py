"""Tables of generated data shared by the generators and the queries (columnar, numpy)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class UserTable:
    """Generated end users, columnar; attributes are (categories, codes) per attribute."""

    count: int
    id_prefix: str
    domain: str
    first_idx: np.ndarray
    last_idx: np.ndarray
    created_day: np.ndarray
    created_sec: np.ndarray
    active_sec: np.ndarray
    last_active_day: np.ndarray  # -1 when the user was never active
    columns: dict[str, tuple[list, np.ndarray]] = field(default_factory=dict)


@dataclass
class ContentTable:
    """Generated content items, in listing order."""

    ids: list[str]
    names: list[str]
    types: list[str]
    statuses: list[str]
    urls: list[str]
    created_day: np.ndarray
    created_sec: np.ndarray
    modified_day: np.ndarray
    modified_sec: np.ndarray
    live_from: np.ndarray
    live_to: np.ndarray
    popularity: np.ndarray
    p_before: np.ndarray
    p_after: np.ndarray
    change_day: np.ndarray
    mean_time: np.ndarray
    task_lists: list[int]  # content index of each task list
    task_totals: list[int]
    changed_flow: int | None = None  # content index of the flow redesigned at its modifiedAt

    @property
    def count(self) -> int:
        """Number of content items."""
        return len(self.ids)


@dataclass
class ActivityArrays:
    """Activity reduced for range queries.

    Per content item: cumulative sums over days (column d+1 = total of days 0..d).
    Per user and day: arrays sorted by day (then user). Task events: sorted by day.
    """

    cum_views: np.ndarray
    cum_completions: np.ndarray
    cum_time: np.ndarray
    ud_day: np.ndarray
    ud_user: np.ndarray
    ud_views: np.ndarray
    ud_completions: np.ndarray
    te_day: np.ndarray
    te_key: np.ndarray  # user * number_of_task_lists + task list position
    te_done: np.ndarray
