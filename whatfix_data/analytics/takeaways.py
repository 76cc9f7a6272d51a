"""One-line takeaways computed from the data, for the review deck and the pages.

Each function returns a plain-text sentence (names in single quotes, never markup) and always
returns something readable, also when there is no data.
"""

from __future__ import annotations

import pandas as pd

from whatfix_data.analytics.content import NOT_MODIFIED_DAYS, STALE_DRAFT_DAYS, ContentHygiene
from whatfix_data.analytics.kpis import Kpi
from whatfix_data.windows import format_day

# Changes smaller than these read as "held steady".
STEADY_PCT = 1.0
STEADY_PTS = 0.5
NAME_MAX_CHARS = 60
NO_DATA = "No data for this period."


def quoted(name: object) -> str:
    """A name in single quotes, cut to a readable length."""
    text = str(name).strip() if name is not None and not pd.isna(name) else "(unnamed)"
    if len(text) > NAME_MAX_CHARS:
        text = text[: NAME_MAX_CHARS - 1].rstrip() + "…"
    return f"'{text}'"


def _name(row: pd.Series, name_column: str, id_column: str) -> object:
    """A row's display name, its id when the name is missing."""
    name = row.get(name_column)
    return row.get(id_column) if name is None or pd.isna(name) else name


def _direction(delta: float, steady: float) -> str:
    if abs(delta) < steady:
        return "held steady"
    return "rose" if delta > 0 else "fell"


def kpi_sentence(kpi: Kpi, comparison_label: str = "the previous period") -> str:
    """E.g. "Self-help views rose 8% vs the previous period (4,512)"."""
    if kpi.value is None:
        return f"{kpi.name}: no data for this period."
    value = kpi.value_label
    if kpi.is_rate and kpi.delta is not None:
        verb = _direction(kpi.delta, STEADY_PTS)
        amount = "" if verb == "held steady" else f" {abs(kpi.delta):.1f} points"
        return f"{kpi.name} {verb}{amount} vs {comparison_label} ({value}){_verdict(kpi)}."
    if kpi.delta_pct is not None:
        verb = _direction(kpi.delta_pct, STEADY_PCT)
        amount = "" if verb == "held steady" else f" {abs(kpi.delta_pct):.0f}%"
        return f"{kpi.name} {verb}{amount} vs {comparison_label} ({value}){_verdict(kpi)}."
    return f"{kpi.name}: {value}."


def _verdict(kpi: Kpi) -> str:
    """", a real change (p < 0.05)" / ", within noise (p = 0.40)" / ", 22 views: too few to
    judge" after a KPI's change, so a deck never presents noise as news."""
    verdict = getattr(kpi, "significance", None)
    if verdict is None:
        return ""
    return f", {'a ' if verdict.significant else ''}{verdict.label}"


def headline(kpis: list[Kpi], comparison_label: str = "the previous period") -> str:
    """The KPI with the largest relative move, as one sentence (the first KPI when flat)."""
    known = [k for k in kpis if k.value is not None]
    if not known:
        return NO_DATA

    def weight(k: Kpi) -> float:
        if k.is_rate:
            return abs(k.delta or 0.0) * 2  # a point of rate weighs like 2% of a count
        return abs(k.delta_pct or 0.0)

    return kpi_sentence(max(known, key=weight), comparison_label)


def edit_sentence(impacts: pd.DataFrame) -> str | None:
    """E.g. "Completion of 'Create invoice' fell 12 points after its edit on 3 Oct 2026"
    for the largest change in ``flows.edit_impacts``; None when no edit had an effect."""
    rows = impacts[impacts["change_pts"].notna()] if len(impacts) else impacts
    if rows is None or rows.empty:
        return None
    row = rows.iloc[0]
    verb = _direction(float(row["change_pts"]), STEADY_PTS)
    amount = "" if verb == "held steady" else f" {abs(float(row['change_pts'])):.0f} points"
    return (
        f"Completion of {quoted(row['flow_name'])} {verb}{amount} after its edit on "
        f"{format_day(row['edited_on'])} ({row['rate_before_pct']:.0f}% to "
        f"{row['rate_after_pct']:.0f}%)."
    )


def flows_sentence(flows: pd.DataFrame, best: pd.DataFrame, worst: pd.DataFrame) -> str:
    """Most viewed flow, and the best and worst completion rates."""
    if flows is None or flows.empty or flows["views"].fillna(0).sum() == 0:
        return "No flow was viewed in this period."
    top = flows.sort_values("views", ascending=False, na_position="last").iloc[0]
    parts = [
        f"{quoted(_name(top, 'flow_name', 'flow_id'))} was the most viewed flow "
        f"({int(top['views']):,} views)"
    ]
    if len(best):
        b = best.iloc[0]
        parts.append(f"{quoted(b['flow_name'])} completes best ({b['completion_rate_pct']:.0f}%)")
    if len(worst):
        w = worst.iloc[0]
        parts.append(f"{quoted(w['flow_name'])} worst ({w['completion_rate_pct']:.0f}%)")
    return "; ".join(parts) + "."


def trend_sentence(windows: pd.DataFrame, column: str, noun: str) -> str:
    """Peak window of a per-window series, e.g. "Active users peaked at 1,204 in 2026-W45"."""
    if windows is None or windows.empty or windows[column].dropna().empty:
        return f"No {noun} in this period."
    full = windows[~windows["partial"]] if "partial" in windows else windows
    rows = full if not full[column].dropna().empty else windows
    peak = rows.loc[rows[column].astype("Float64").idxmax()]
    value = float(peak[column])
    shown = f"{value:.1f}%" if column.endswith("_pct") else f"{value:,.0f}"
    label = str(peak["window_label"]).replace(" (partial)", "")
    return f"{noun[:1].upper()}{noun[1:]} peaked at {shown} in {label}."


def self_help_sentence(by_item: pd.DataFrame, by_type: pd.DataFrame) -> str:
    """Top item and top content type by views, with their share."""
    if by_item is None or by_item.empty or by_item["views"].fillna(0).sum() == 0:
        return "No self-help content was viewed in this period."
    top = by_item.iloc[0]
    text = (
        f"{quoted(top['content_name'])} was the most viewed self-help item "
        f"({int(top['views']):,} views, {top['share_pct']:.0f}% of all)"
    )
    if by_type is not None and len(by_type):
        kind = by_type.iloc[0]
        text += f"; {kind['content_type']} items drew {kind['share_pct']:.0f}% of views"
    return text + "."


def engagement_sentence(active: int | None, dormant: pd.DataFrame, days: int) -> str:
    """Active users and dormant users in one line."""
    if not active:
        return "No user was active in this period."
    never = int(dormant["never_active"].sum()) if len(dormant) else 0
    inactive = len(dormant) - never
    return (
        f"{active:,} users were active; {inactive:,} have been inactive for more than "
        f"{days} days and {never:,} were never seen."
    )


def tasks_sentence(summary: pd.DataFrame) -> str:
    """Largest task list's completion and the one-task-left count across lists."""
    if summary is None or summary.empty:
        return "No task-list activity in this period."
    top = summary.iloc[0]
    one_left = int(summary["one_task_left"].sum())
    return (
        f"{quoted(top['task_list_name'])} is completed by {top['completed_pct']:.0f}% of "
        f"its {int(top['users']):,} users; {one_left:,} users have exactly one task left."
    )


def segments_sentence(breakdown: pd.DataFrame) -> str:
    """The segment with the highest task completion or activity share."""
    if breakdown is None or breakdown.empty:
        return "No segments defined."
    for column, noun in (("task_completion_pct", "task completion"), ("active_pct", "activity")):
        rows = breakdown[breakdown[column].notna() & (breakdown["members"] > 0)]
        if len(rows):
            top = rows.loc[rows[column].astype("Float64").idxmax()]
            return (
                f"{quoted(top['name'])} leads on {noun} ({float(top[column]):.0f}%, "
                f"{int(top['members']):,} members)."
            )
    return "No segment has members with activity in this period."


def content_sentence(
    hygiene: ContentHygiene,
    draft_age_days: int = STALE_DRAFT_DAYS,
    stale_days: int = NOT_MODIFIED_DAYS,
) -> str:
    """Counts of the three hygiene lists."""
    return (
        f"{len(hygiene.unviewed):,} published items had no views, "
        f"{len(hygiene.old_drafts):,} drafts are older than {draft_age_days} days and "
        f"{len(hygiene.not_modified):,} items were not modified in {stale_days} days."
    )
