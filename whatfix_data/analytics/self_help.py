"""Self Help analytics: views by item and by content type, per-window totals, unviewed items."""

from __future__ import annotations

import pandas as pd

from whatfix_data.analytics._common import WINDOW_COLUMNS, frame_of, name_or_id, rate_series

PUBLISHED = "Published"


def by_item(self_help: pd.DataFrame | None) -> pd.DataFrame:
    """Views per item, most viewed first: content_id, content_name, content_type, views,
    share_pct (of all self-help views in the range)."""
    frame = frame_of(self_help, "self-help").copy()
    frame["content_name"] = name_or_id(frame["content_name"], frame["content_id"])
    frame["share_pct"] = rate_series(frame["views"], _total_series(frame)).round(1)
    return frame.sort_values(
        ["views", "content_id"], ascending=[False, True], na_position="last"
    ).reset_index(drop=True)


def _total_series(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(frame["views"].sum(skipna=True), index=frame.index, dtype="Int64")


def by_type(self_help: pd.DataFrame | None) -> pd.DataFrame:
    """Views per content type: content_type, items, views, share_pct; most viewed first."""
    frame = frame_of(self_help, "self-help")
    grouped = frame.groupby("content_type", observed=True, dropna=False).agg(
        items=("content_id", "nunique"), views=("views", "sum")
    )
    out = grouped.reset_index()
    out["content_type"] = out["content_type"].astype("string").fillna("Unknown")
    out["items"] = out["items"].astype("Int64")
    out["views"] = out["views"].astype("Int64")
    out["share_pct"] = rate_series(out["views"], _total_series(out)).round(1)
    return out.sort_values(["views", "content_type"], ascending=[False, True]).reset_index(
        drop=True
    )


def totals_by_window(trend: pd.DataFrame | None) -> pd.DataFrame:
    """Self-help views per window: the window columns and ``views``."""
    frame = frame_of(trend, "self-help-trend")
    keys = list(WINDOW_COLUMNS)
    if frame.empty:
        out = frame[keys].copy()
        out["views"] = pd.array([], dtype="Int64")
        return out
    out = frame.groupby(keys, sort=False, dropna=False)["views"].sum().reset_index()
    out["views"] = out["views"].astype("Int64")
    return out.sort_values("window_start", kind="stable").reset_index(drop=True)


def views_in_range(self_help: pd.DataFrame | None, flows: pd.DataFrame | None = None) -> pd.Series:
    """Views per content id in the range: self-help views plus flow views (flow_id = content id)."""
    sh = frame_of(self_help, "self-help")
    fl = frame_of(flows, "flows")
    parts = [
        sh[["content_id", "views"]],
        fl[["flow_id", "views"]].rename(columns={"flow_id": "content_id"}),
    ]
    combined = pd.concat([p for p in parts if not p.empty] or [parts[0]], ignore_index=True)
    return combined.groupby("content_id")["views"].sum().astype("Int64")


def reported_types(self_help: pd.DataFrame | None, flows: pd.DataFrame | None = None) -> set[str]:
    """Content types the range analytics report views for (others have no per-range views)."""
    sh = frame_of(self_help, "self-help")
    types = {str(t) for t in sh["content_type"].dropna().unique()}
    if flows is not None:
        types.add("Flow")
    return types


def published_without_views(
    content: pd.DataFrame | None,
    self_help: pd.DataFrame | None,
    flows: pd.DataFrame | None = None,
    types: set[str] | None = None,
) -> pd.DataFrame:
    """Published items with no view in the range.

    Only items of ``types`` are considered (default: the types the range analytics report on:
    the self-help content types seen, plus Flow when ``flows`` is given), because other types
    have no per-range view counts at all. Columns: the ``content`` columns; sorted by all-time
    view_count, highest first (the most surprising silence first).
    """
    items = frame_of(content, "content")
    wanted = reported_types(self_help, flows) if types is None else types
    views = views_in_range(self_help, flows)
    published = items[(items["status"] == PUBLISHED).fillna(False)]
    published = published[published["type"].astype("string").isin(wanted).fillna(False)]
    seen = set(views[views.fillna(0) > 0].index)
    silent = published[~published["content_id"].isin(seen).fillna(False)]
    return silent.sort_values(
        ["view_count", "content_id"], ascending=[False, True], na_position="last"
    ).reset_index(drop=True)
