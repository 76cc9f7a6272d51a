"""One-line takeaways computed from the data, for the review deck and the pages.

Each function returns a plain-text sentence (names in single quotes, never markup) and always
returns something readable, also when there is no data. A slide's headline is computed from the
very frame its chart or table draws (the ``*_sentence`` taking that frame), so every number and
name it quotes is on the slide; a test checks this for every slide of several packs.
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
        # Rounded from the card's one-decimal figure, so the sentence never disagrees with it.
        shown = float(f"{abs(kpi.delta_pct):.1f}")
        amount = "" if verb == "held steady" else f" {shown:.0f}%"
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
    """The largest task list: the share of its users who finished it and, of the same list, how
    many have exactly one task left (one list's numbers, never a sum over lists)."""
    if summary is None or summary.empty:
        return "No task-list activity in this period."
    top = summary.iloc[0]
    one_left = int(top["one_task_left"]) if not pd.isna(top["one_task_left"]) else 0
    return (
        f"{quoted(top['task_list_name'])} was finished by {top['completed_pct']:.0f}% of its "
        f"{int(top['users']):,} users; {one_left:,} of them "
        f"{'has' if one_left == 1 else 'have'} exactly one task left."
    )


def segments_sentence(breakdown: pd.DataFrame) -> str:
    """The segment with the highest task completion or activity share."""
    if breakdown is None or breakdown.empty:
        return "No segments defined."
    for column, noun in (("task_completion_pct", "members' average task progress"),
                         ("active_pct", "active members")):
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


# --------------------------------------------------------------------------- one per slide


def _label(row: pd.Series) -> str:
    return str(row["window_label"]).replace(" (partial)", "")


def _shown(value: float, column: str) -> str:
    return f"{value:.1f}%" if column.endswith("_pct") else f"{value:,.0f}"


def range_sentence(windows: pd.DataFrame, column: str, noun: str) -> str:
    """Lowest and highest window of a series, e.g. "The flow completion rate ranged from 41.2%
    in 2026-07 to 58.0% in 2026-09" (full windows preferred over partial ones)."""
    if windows is None or windows.empty or windows[column].dropna().empty:
        return f"No data for {noun} in this period."
    full = windows[~windows["partial"].astype(bool)] if "partial" in windows else windows
    rows = full if not full[column].dropna().empty else windows
    values = rows[column].astype("Float64")
    low, high = rows.loc[values.idxmin()], rows.loc[values.idxmax()]
    subject = f"{noun[:1].upper()}{noun[1:]}"
    lowest = f"{_shown(float(low[column]), column)} in {_label(low)}"
    if _label(low) == _label(high):
        return f"{subject} was {lowest}."
    highest = f"{_shown(float(high[column]), column)} in {_label(high)}"
    return f"{subject} ranged from {lowest} to {highest}."


def best_worst_sentence(best: pd.DataFrame, worst: pd.DataFrame) -> str:
    """The best and the worst ranked flow with their rate and views (the best/worst chart)."""
    parts = []
    for rows, word in ((best, "completes best"), (worst, "worst")):
        if rows is not None and len(rows):  # both lists come first-ranked first
            row = rows.iloc[0]
            parts.append(f"{quoted(_name(row, 'flow_name', 'flow_id'))} {word} "
                         f"({row['completion_rate_pct']:.1f}% of {int(row['views']):,} views)")
    if not parts:
        return "No flow had enough views to rank its completion rate."
    return "; ".join(parts) + "."


def most_viewed_flow_sentence(flows: pd.DataFrame) -> str:
    """The most viewed flow with its views and completions (the views-and-completions chart)."""
    if flows is None or flows.empty or flows["views"].fillna(0).sum() == 0:
        return "No flow was viewed in this period."
    top = flows.sort_values("views", ascending=False, na_position="last").iloc[0]
    completions = top["completions"]
    done = "" if pd.isna(completions) else f", {int(completions):,} completions"
    return (f"{quoted(_name(top, 'flow_name', 'flow_id'))} was the most viewed flow "
            f"({int(top['views']):,} views{done}).")


def rate_spread_sentence(ranked: pd.DataFrame) -> str:
    """Highest and lowest completion rate among the flows of the completion-rate chart."""
    if ranked is None or ranked.empty:
        return "No flow had enough views to compare completion rates."
    ordered = ranked.sort_values("completion_rate_pct", ascending=False, kind="stable")
    high, low = ordered.iloc[0], ordered.iloc[-1]
    if len(ordered) == 1:
        return (f"Only {quoted(_name(high, 'flow_name', 'flow_id'))} had enough views to rank "
                f"({high['completion_rate_pct']:.1f}%).")
    return (f"Completion rates run from {high['completion_rate_pct']:.1f}% "
            f"({quoted(_name(high, 'flow_name', 'flow_id'))}) down to "
            f"{low['completion_rate_pct']:.1f}% ({quoted(_name(low, 'flow_name', 'flow_id'))}).")


def flow_change_sentence(compared: pd.DataFrame, comparison_label: str) -> str:
    """The flow whose views changed most against the comparison period (flow-comparison chart)."""
    rows = compared[compared["views_change"].notna()] if len(compared) else compared
    if rows is None or rows.empty:
        return f"No flow was viewed in both this period and {comparison_label}."
    change_abs = rows["views_change"].astype("Float64").abs()
    row = rows.loc[change_abs.idxmax()]
    delta = int(row["views_change"])
    verb = "gained" if delta > 0 else "lost" if delta < 0 else "kept"
    # With the comparison's verdict column (analytics.flows.with_change_verdicts): real or noise.
    verdict = row.get("views_verdict")
    said = f", {verdict}" if isinstance(verdict, str) and verdict else ""
    return (f"{quoted(_name(row, 'flow_name', 'flow_id'))} {verb} the most views vs "
            f"{comparison_label} ({delta:+,}: {int(row['views']):,} against "
            f"{int(row['views_previous']):,}){said}.")


def top_flows_sentence(table: pd.DataFrame) -> str:
    """The two most viewed flows of the top-flows table."""
    if table is None or table.empty:
        return "No flow has views to rank in this period."
    first = table.iloc[0]
    name = quoted(_name(first, "flow_name", "flow_id"))
    text = f"{name} leads with {int(first['views']):,} views"
    if len(table) > 1:
        second = table.iloc[1]
        text += (f", ahead of {quoted(_name(second, 'flow_name', 'flow_id'))} with "
                 f"{int(second['views']):,}")
    return text + "."


def self_help_item_sentence(by_item: pd.DataFrame) -> str:
    """The most viewed self-help item with its views and share (the views-per-item chart)."""
    return self_help_sentence(by_item, None)


def content_type_sentence(by_type: pd.DataFrame) -> str:
    """The content type with the most self-help views and its share (views-per-type chart)."""
    if by_type is None or by_type.empty or by_type["views"].fillna(0).sum() == 0:
        return "No content type drew self-help views in this period."
    top = by_type.iloc[0]
    return (f"{quoted(top['content_type'])} items drew {top['share_pct']:.0f}% of self-help "
            f"views ({int(top['views']):,} views).")


def histogram_sentence(dist: pd.DataFrame, what: str) -> str:
    """The most common bin of a per-user histogram, e.g. "The most common amount of content
    viewed per user was 3 (120 users)"."""
    if dist is None or dist.empty or int(dist["users"].fillna(0).sum()) == 0:
        return f"No user had any {what} in this period."
    top = dist.loc[dist["users"].astype("Int64").idxmax()]
    return (f"The most common amount of {what} per user was {top['label']} "
            f"({int(top['users']):,} users).")


def top_user_sentence(top: pd.DataFrame) -> str:
    """The most engaged user with both counts (the most-engaged-users chart)."""
    if top is None or top.empty:
        return "Nobody was active in this period."
    row = top.iloc[0]
    name = row.get("email")
    name = row["user_id"] if name is None or pd.isna(name) else name
    viewed = 0 if pd.isna(row["content_viewed"]) else int(row["content_viewed"])
    done = 0 if pd.isna(row["flows_completed"]) else int(row["flows_completed"])
    return (f"{quoted(name)} was the most engaged user ({viewed:,} content views, "
            f"{done:,} flows completed).")


def list_progress_sentence(distribution: pd.DataFrame) -> str:
    """For the task list with the most users: the share who finished it and who did not start
    (the progress-per-list chart)."""
    if distribution is None or distribution.empty:
        return "No user made progress on a task list in this period."
    users = distribution.groupby("task_list_id")["users"].sum()
    top_id = users.sort_values(ascending=False, kind="stable").index[0]
    rows = distribution[distribution["task_list_id"] == top_id].set_index("bucket",
                                                                          drop=False)
    name = rows["task_list_name"].iloc[0]

    def share(bucket: str) -> float:
        value = rows["share_pct"].get(bucket)
        return 0.0 if value is None or pd.isna(value) else float(value)

    return (f"On {quoted(name)}, {share('100%'):.1f}% of its users finished every task and "
            f"{share('0%'):.1f}% have not started.")


def segment_activity_sentence(breakdown: pd.DataFrame) -> str:
    """The segment with the largest share of active members (the segment-breakdown table)."""
    if breakdown is None or breakdown.empty:
        return "No segments defined, so no segment activity to compare."
    rows = breakdown[breakdown["active_pct"].notna() & (breakdown["members"] > 0)]
    if rows.empty:
        return "No segment has active members in this period."
    top = rows.loc[rows["active_pct"].astype("Float64").idxmax()]
    return (f"{quoted(top['name'])} has the largest share of active members "
            f"({float(top['active_pct']):.1f}% of {int(top['members']):,} members).")
