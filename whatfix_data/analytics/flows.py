"""Flow analytics: best and worst flows, period comparison, per-window totals, edit impact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from whatfix_data.analytics._common import (
    WINDOW_COLUMNS,
    change,
    frame_of,
    name_or_id,
    rate_pct,
    rate_series,
    total,
    utc_day,
)
from whatfix_data.config import DEFAULT_MIN_FLOW_VIEWS

# A flow needs this many views in the range before its completion rate is ranked: a 100 % rate
# on 3 views says little (the `min_flow_views` setting; this is its default).
MIN_VIEWS_FOR_RANKING = DEFAULT_MIN_FLOW_VIEWS
RANKED_FLOWS = 5
# Edit impact: each side of the edit needs this many views to be reported.
MIN_VIEWS_AROUND_EDIT = 20
COMPARED_METRICS: tuple[str, ...] = ("views", "completions", "completion_rate_pct")


def ranked_flows(
    flows: pd.DataFrame | None, min_views: int = MIN_VIEWS_FOR_RANKING
) -> pd.DataFrame:
    """Flows with at least ``min_views`` views and a known rate, best completion rate first
    (ties: more views first, then id): the ranking every best/worst list and chart uses."""
    frame = frame_of(flows, "flows")
    ranked = frame[
        frame["completion_rate_pct"].notna() & (frame["views"] >= min_views).fillna(False)
    ]
    return ranked.sort_values(
        ["completion_rate_pct", "views", "flow_id"], ascending=[False, False, True]
    ).reset_index(drop=True)


def best_and_worst_flows(
    flows: pd.DataFrame | None,
    n: int = RANKED_FLOWS,
    min_views: int = MIN_VIEWS_FOR_RANKING,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``n`` flows with the highest and the lowest completion rate (``flows`` columns).

    Only flows with at least ``min_views`` views and a known rate are ranked; ties go to the flow
    with more views. A flow never appears in both lists (with few flows, best wins).
    """
    ranked = ranked_flows(flows, min_views)
    best = ranked.head(n)
    rest = ranked[~ranked["flow_id"].isin(best["flow_id"])]
    worst = rest.sort_values(
        ["completion_rate_pct", "views", "flow_id"], ascending=[True, False, True]
    ).head(n)
    return best.reset_index(drop=True), worst.reset_index(drop=True)


def flow_comparison(current: pd.DataFrame | None, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Current vs previous period per flow.

    Columns: flow_id, flow_name, then for views and completions ``x``, ``x_previous``,
    ``x_change`` and ``x_change_pct``; completion_rate_pct, completion_rate_pct_previous and
    completion_rate_change_pts. A flow absent from one period has NA there (not 0: the API did
    not report it). Sorted by current views, highest first.
    """
    now = frame_of(current, "flows")
    before = frame_of(previous, "flows")
    keep = ["flow_id", "flow_name", *COMPARED_METRICS]
    merged = now[keep].merge(before[keep], on="flow_id", how="outer", suffixes=("", "_previous"))
    merged["flow_name"] = merged["flow_name"].fillna(merged["flow_name_previous"])
    for metric in ("views", "completions"):
        merged[f"{metric}_change"] = (merged[metric] - merged[f"{metric}_previous"]).astype("Int64")
        merged[f"{metric}_change_pct"] = (
            rate_series(merged[f"{metric}_change"], merged[f"{metric}_previous"])
        ).round(1)
    merged["completion_rate_change_pts"] = (
        (merged["completion_rate_pct"] - merged["completion_rate_pct_previous"])
        .astype("Float64")
        .round(1)
    )
    columns = [
        "flow_id",
        "flow_name",
        "views",
        "views_previous",
        "views_change",
        "views_change_pct",
        "completions",
        "completions_previous",
        "completions_change",
        "completions_change_pct",
        "completion_rate_pct",
        "completion_rate_pct_previous",
        "completion_rate_change_pts",
    ]
    merged = merged.sort_values(["views", "flow_id"], ascending=[False, True], na_position="last")
    return merged[columns].reset_index(drop=True)


def totals_by_window(trend: pd.DataFrame | None, flow_id: str | None = None) -> pd.DataFrame:
    """Per-window totals of a flow trend (all flows, or one): window columns, views,
    completions, completion_rate_pct (weighted). Windows keep their order."""
    frame = frame_of(trend, "flow-trend")
    if flow_id is not None:
        frame = frame[frame["flow_id"] == flow_id]
    keys = list(WINDOW_COLUMNS)
    if frame.empty:
        out = frame[keys].copy()
        out["views"] = pd.array([], dtype="Int64")
        out["completions"] = pd.array([], dtype="Int64")
        out["completion_rate_pct"] = pd.array([], dtype="Float64")
        return out
    grouped = frame.groupby(keys, sort=False, dropna=False)[["views", "completions"]].sum()
    out = grouped.reset_index()
    out["views"] = out["views"].astype("Int64")
    out["completions"] = out["completions"].astype("Int64")
    out["completion_rate_pct"] = rate_series(out["completions"], out["views"]).round(1)
    return out.sort_values("window_start", kind="stable").reset_index(drop=True)


def modifications(content: pd.DataFrame | None, flow_id: str) -> list[pd.Timestamp]:
    """The known edit timestamps of a flow (its content ``modified_at``), for chart markers."""
    frame = frame_of(content, "content")
    stamps = frame.loc[frame["content_id"] == flow_id, "modified_at"].dropna()
    return [pd.Timestamp(s) for s in stamps]


@dataclass(frozen=True)
class EditImpact:
    """Completion rate of a flow before and after its edit (the edit day itself is left out)."""

    flow_id: str
    flow_name: str
    edited_on: date
    views_before: int
    views_after: int
    rate_before_pct: float | None
    rate_after_pct: float | None

    @property
    def change_pts(self) -> float | None:
        return change(self.rate_after_pct, self.rate_before_pct)


def edit_impact(
    trend: pd.DataFrame | None,
    flow_id: str,
    edited_at: object,
    flow_name: str | None = None,
) -> EditImpact | None:
    """Completion rate before vs after an edit, from a (preferably daily) flow trend.

    Windows that end before the edit day count as "before", windows that start after it as
    "after"; a window containing the edit day is left out. None when the edit is unknown.
    """
    edited_on = utc_day(edited_at)
    if edited_on is None:
        return None
    rows = frame_of(trend, "flow-trend")
    rows = rows[rows["flow_id"] == flow_id]
    before = rows[[end < edited_on for end in rows["window_end"]]]
    after = rows[[start > edited_on for start in rows["window_start"]]]
    name = flow_name or _first_name(rows) or flow_id
    return EditImpact(
        flow_id=flow_id,
        flow_name=name,
        edited_on=edited_on,
        views_before=total(before["views"]),
        views_after=total(after["views"]),
        rate_before_pct=_weighted_rate(before),
        rate_after_pct=_weighted_rate(after),
    )


def _weighted_rate(rows: pd.DataFrame) -> float | None:
    known = rows[rows["views"].notna() & rows["completions"].notna()]
    return rate_pct(total(known["completions"]), total(known["views"]))


def _first_name(rows: pd.DataFrame) -> str | None:
    names = rows["flow_name"].dropna()
    return str(names.iloc[0]) if len(names) else None


def edit_impacts(
    trend: pd.DataFrame | None,
    content: pd.DataFrame | None,
    min_views: int = MIN_VIEWS_AROUND_EDIT,
) -> pd.DataFrame:
    """Edit impact of every flow edited inside the trend's span, largest change first.

    Flows are matched to content by id (``flow_id`` == ``content_id``). Columns: flow_id,
    flow_name, edited_on, views_before, views_after, rate_before_pct, rate_after_pct,
    change_pts. Flows with fewer than ``min_views`` views on either side are left out.
    """
    rows = frame_of(trend, "flow-trend")
    items = frame_of(content, "content")
    impacts: list[EditImpact] = []
    if not rows.empty:
        first, last = min(rows["window_start"]), max(rows["window_end"])
        edited = items[items["content_id"].isin(rows["flow_id"].dropna().unique())]
        for flow_id, stamp in zip(edited["content_id"], edited["modified_at"], strict=True):
            day = utc_day(stamp)
            if day is None or not first < day < last:
                continue
            impact = edit_impact(rows, str(flow_id), stamp)
            if impact and min(impact.views_before, impact.views_after) >= min_views:
                impacts.append(impact)
    return _impact_frame(impacts)


def _impact_frame(impacts: list[EditImpact]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "flow_id": pd.array([i.flow_id for i in impacts], dtype="string"),
            "flow_name": pd.array([i.flow_name for i in impacts], dtype="string"),
            "edited_on": pd.Series([i.edited_on for i in impacts], dtype=object),
            "views_before": pd.array([i.views_before for i in impacts], dtype="Int64"),
            "views_after": pd.array([i.views_after for i in impacts], dtype="Int64"),
            "rate_before_pct": pd.array([i.rate_before_pct for i in impacts], dtype="Float64"),
            "rate_after_pct": pd.array([i.rate_after_pct for i in impacts], dtype="Float64"),
            "change_pts": pd.array([i.change_pts for i in impacts], dtype="Float64"),
        }
    )
    for column in ("rate_before_pct", "rate_after_pct", "change_pts"):
        frame[column] = frame[column].round(1)
    order = frame["change_pts"].abs().sort_values(ascending=False, na_position="last").index
    return frame.loc[order].reset_index(drop=True)


def flow_table(flows: pd.DataFrame | None, content: pd.DataFrame | None = None) -> pd.DataFrame:
    """The flows frame with a display name (id when unnamed) and, when content is given, the
    flow's last edit (``modified_at``). Sorted by views, highest first."""
    frame = frame_of(flows, "flows").copy()
    frame["flow_name"] = name_or_id(frame["flow_name"], frame["flow_id"])
    if content is not None:
        items = frame_of(content, "content")[["content_id", "modified_at"]]
        items = items.drop_duplicates("content_id")
        frame = frame.merge(items, left_on="flow_id", right_on="content_id", how="left")
        frame = frame.drop(columns="content_id")
    return frame.sort_values(
        ["views", "flow_id"], ascending=[False, True], na_position="last"
    ).reset_index(drop=True)


def with_change_verdicts(compared: pd.DataFrame) -> pd.DataFrame:
    """The flow comparison with ``views_verdict`` and ``completion_rate_verdict``: whether each
    change is larger than chance (``whatfix_data.significance``: "real change (p < 0.05)",
    "within noise (p = 0.40)", "22 views: too few to judge"; empty when a period has no row)."""
    from whatfix_data.significance import count_change, rate_change

    def text(verdict: object) -> str | None:
        return getattr(verdict, "label", None)

    def cell(row: pd.Series, column: str) -> float | None:
        value = row.get(column)
        return None if value is None or pd.isna(value) else float(value)

    views, rates = [], []
    for _, row in compared.iterrows():
        views.append(text(count_change(cell(row, "views"), cell(row, "views_previous"),
                                       noun="views")))
        rates.append(text(rate_change(cell(row, "completions"), cell(row, "views"),
                                      cell(row, "completions_previous"),
                                      cell(row, "views_previous"), noun="views")))
    out = compared.copy()
    out.insert(out.columns.get_loc("views_change_pct") + 1, "views_verdict",
               pd.array(views, dtype="string"))
    out["completion_rate_verdict"] = pd.array(rates, dtype="string")
    return out
