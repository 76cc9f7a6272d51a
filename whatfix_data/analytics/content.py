"""Content analytics: inventory by type and status, and the hygiene lists.

Hygiene ages are measured from a reference day, normally the range end (pass today for "now"):
drafts older than 90 days (by created_at), items not modified in 180 days (archived items are
left out), and published items with no views in the range (see self_help.published_without_views).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from whatfix_data.analytics._common import days_between, frame_of
from whatfix_data.analytics.self_help import published_without_views
from whatfix_data.frames import CONTENT_STATUSES, CONTENT_TYPES

STALE_DRAFT_DAYS = 90
NOT_MODIFIED_DAYS = 180
DRAFT = "Draft"
ARCHIVED = "Archived"


def inventory(content: pd.DataFrame | None) -> pd.DataFrame:
    """Items per type and status, wide: type, one column per status, total; largest type first.
    Types with no items are left out; unknown (NA) types or statuses are counted as 'Unknown'."""
    frame = frame_of(content, "content")
    types = frame["type"].astype("string").fillna("Unknown")
    statuses = frame["status"].astype("string").fillna("Unknown")
    table = pd.crosstab(types, statuses)
    columns = [s for s in (*CONTENT_STATUSES, "Unknown") if s in table.columns or s != "Unknown"]
    table = table.reindex(columns=columns, fill_value=0)
    table["total"] = table.sum(axis=1)
    order = {t: i for i, t in enumerate((*CONTENT_TYPES, "Unknown"))}
    table = table.reset_index(names="type")
    table["_order"] = table["type"].map(order)
    table = table.sort_values(["total", "_order"], ascending=[False, True]).drop(columns="_order")
    table["type"] = table["type"].astype("string")
    for column in (*columns, "total"):
        table[column] = table[column].astype("Int64")
    table.columns.name = None
    return table.reset_index(drop=True)


def inventory_long(content: pd.DataFrame | None) -> pd.DataFrame:
    """Items per (type, status), long form: type, status, items (zero combinations left out)."""
    wide = inventory(content)
    statuses = [c for c in wide.columns if c not in ("type", "total")]
    long = wide.melt(id_vars="type", value_vars=statuses, var_name="status", value_name="items")
    long = long[long["items"] > 0]
    long["status"] = long["status"].astype("string")
    return long.reset_index(drop=True)


def _aged(frame: pd.DataFrame, column: str, as_of: date, days: int) -> pd.DataFrame:
    out = frame.copy()
    out["age_days"] = days_between(as_of, out[column])
    out = out[(out["age_days"] > days).fillna(False)]
    return out.sort_values(["age_days", "content_id"], ascending=[False, True]).reset_index(
        drop=True
    )


def stale_drafts(
    content: pd.DataFrame | None, as_of: date, days: int = STALE_DRAFT_DAYS
) -> pd.DataFrame:
    """Drafts created more than ``days`` days before ``as_of``: content columns + age_days."""
    frame = frame_of(content, "content")
    drafts = frame[(frame["status"] == DRAFT).fillna(False)]
    return _aged(drafts, "created_at", as_of, days)


def not_modified(
    content: pd.DataFrame | None, as_of: date, days: int = NOT_MODIFIED_DAYS
) -> pd.DataFrame:
    """Non-archived items last modified more than ``days`` days before ``as_of`` (created_at
    when never modified): content columns + age_days (days since the last change)."""
    frame = frame_of(content, "content").copy()
    live = frame[(frame["status"] != ARCHIVED).fillna(True)].copy()
    live["_changed"] = live["modified_at"].fillna(live["created_at"])
    out = _aged(live, "_changed", as_of, days)
    return out.drop(columns="_changed")


@dataclass(frozen=True)
class ContentHygiene:
    """The three hygiene lists (content columns; the last two with ``age_days``)."""

    unviewed: pd.DataFrame
    old_drafts: pd.DataFrame
    not_modified: pd.DataFrame


def hygiene(
    content: pd.DataFrame | None,
    self_help: pd.DataFrame | None = None,
    flows: pd.DataFrame | None = None,
    *,
    as_of: date,
    draft_age_days: int = STALE_DRAFT_DAYS,
    stale_days: int = NOT_MODIFIED_DAYS,
) -> ContentHygiene:
    """Published items with no views in the range, drafts older than ``draft_age_days`` and
    items not modified in ``stale_days``, measured from ``as_of`` (the range end, or today)."""
    return ContentHygiene(
        unviewed=published_without_views(content, self_help, flows),
        old_drafts=stale_drafts(content, as_of, draft_age_days),
        not_modified=not_modified(content, as_of, stale_days),
    )
