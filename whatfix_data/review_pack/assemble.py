"""From the dashboard's datasets to the pack's content: KPIs, charts with takeaways, key tables.

Every number comes from ``whatfix_data.analytics`` (and ``segments``), every figure from
``whatfix_data.charts`` and every sentence from ``analytics.takeaways``: this module only picks
and orders them, so the pack says exactly what the pages say.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from whatfix_data import analytics, charts, frames, glossary, scope, segments, windows
from whatfix_data.analytics import comparison as aligned
from whatfix_data.analytics import takeaways
from whatfix_data.analytics.kpis import Kpi
from whatfix_data.datasets import DashboardData
from whatfix_data.errors import InvalidRequestError
from whatfix_data.review_pack.model import (
    KEY_NUMBERS,
    ChartItem,
    KpiItem,
    ReviewContent,
    TableItem,
)
from whatfix_data.views import KPI_DATASETS
from whatfix_data.windows import DateRange, WindowPair, split_range

# Bars at each end of a ranked chart on a slide (best and worst: 16 rows stay readable; the
# pages show 15 of each end).
SLIDE_TOP_N = 8
BEST_WORST_N = 5
TREND_WINDOW_COLUMNS = ["window_label", "partial", "views", "completions", "completion_rate_pct",
                        "comparison_window_label", "comparison_partial", "comparison_views",
                        "comparison_completions", "comparison_completion_rate_pct",
                        "comparison_before_data"]

EDIT_COLUMNS = ["flow_name", "edited_on", "views_before", "views_after", "rate_before_pct",
                "rate_after_pct", "change_pts"]
TOP_FLOW_COLUMNS = ["flow_name", "views", "completions", "completion_rate_pct",
                    "avg_time_to_complete_s"]
TASK_COLUMNS = ["task_list_name", "users", "completed_users", "completed_pct",
                "avg_progress_pct", "one_task_left"]
SEGMENT_COLUMNS = ["name", "members", "active_users", "active_pct", "content_viewed_per_member",
                   "flows_completed_per_member", "task_completion_pct"]
SEGMENT_TREND = "engagement-user-trend"
# The dataset behind each slide: it decides whom the slide covers (whatfix_data.scope).
SLIDE_DATASETS: dict[str, str] = {
    "flow-activity-trend": "flow-trend", "completion-rate-trend": "flow-trend",
    "self-help-views-trend": "self-help-trend", "best-worst-flows": "flows",
    "flow-views-completions": "flows", "flow-completion-rate": "flows",
    "flow-comparison": "flows", "top-flows": "flows", "edit-impact": "flow-trend",
    "self-help-by-item": "self-help", "self-help-by-type": "self-help",
    "content-viewed-histogram": "engagement", "top-users": "engagement",
    "task-list-progress": "task-completion", "task-lists-one-task-left": "task-completion",
    "flow-activity-by-window": "flow-trend",
}
SIDE_BY_SIDE = "Every segment side by side"
SIDE_BY_SIDE_SLIDES = frozenset({"completion-by-segment", "segment-breakdown"})
TREND_NOTE = ("With a segment, flow and self-help numbers and trends cover all users (the API "
              "reports them per flow and per item, not per user); the active-users trend is the "
              "segment's own, counted from each period's per-user list.")
ACCOUNT_TREND_NOTE = ("With a segment, flow and self-help numbers and trends cover all users (the "
                      "API reports them per flow and per item, not per user); the active-users "
                      "trend counts all users too (its per-user lists were not loaded).")
FIND_SEGMENT_IDS = ("See the Segments page, or run `python -m whatfix_data export segments "
                    "--start YYYY-MM-DD --end YYYY-MM-DD --out segments.csv`, for the ids.")


class _Data:
    """Frames of the current and comparison period by dataset name (empty when not loaded).

    With a segment, :meth:`now` and :meth:`before` give only the segment's rows of the per-user
    datasets; ``all_users=True`` gives every row (the per-segment breakdown needs them all).
    """

    def __init__(self, data: DashboardData, segment_id: str | None = None,
                 pairs: list[WindowPair] | None = None) -> None:
        self.current, self.previous = data.current, data.comparison
        self.has_comparison = data.comparison_range is not None
        self.pairs = pairs or []
        self.data_start = aligned.data_start(self._get(self.current, "content"))
        self.segments = _frame(self._get(self.current, "segments"), "segments")
        self.members = segments.membership(
            _frame(self._get(self.current, "end-users"), "end-users"), self.segments
        )
        self.segment_id = segment_id
        self.segment_name = None if segment_id is None else segment_name(self.segments, segment_id)
        # The segment's own active-users trend needs every window's per-user list.
        self.segment_trend = segment_id is not None and SEGMENT_TREND in self.current

    @staticmethod
    def _get(period: dict, name: str) -> pd.DataFrame | None:
        dataset = period.get(name)
        return None if dataset is None else dataset.frame

    def _limited(
        self, frame: pd.DataFrame | None, name: str, all_users: bool
    ) -> pd.DataFrame | None:
        if frame is None or all_users or not scope.is_per_user(name):
            return frame
        return segments.filter_to_segment(frame, self.members, self.segment_id)

    def now(self, name: str, *, all_users: bool = False) -> pd.DataFrame | None:
        return self._limited(self._get(self.current, name), name, all_users)

    def before(self, name: str, *, all_users: bool = False) -> pd.DataFrame | None:
        return self._limited(self._get(self.previous, name), name, all_users)

    def active_windows(self, period: str, date_range: DateRange | None,
                       granularity: str) -> pd.DataFrame:
        """Active users per window: the API's count, or with a segment its members counted from
        the per-user trend (``engagement-user-trend``), every window present."""
        get = self.now if period == "now" else self.before
        if not self.segment_trend or date_range is None:
            return analytics.engagement.active_users_by_window(get("engagement-trend"))
        return analytics.engagement.active_users_in_windows(
            get("engagement-user-trend"), split_range(date_range, granularity))


# --------------------------------------------------------------------------- labels


def segment_name(segments_frame: pd.DataFrame, segment_id: str) -> str:
    """The segment's name (its id when unnamed); InvalidRequestError when there is no such id."""
    known = segments_frame[segments_frame["segment_id"].astype("string") == segment_id]
    if known.empty:
        raise InvalidRequestError(f"Unknown segment id {segment_id!r}. {FIND_SEGMENT_IDS}")
    name = known["name"].iloc[0]
    return segment_id if pd.isna(name) else str(name)


def comparison_label(mode: str, comparison_range: DateRange | None, date_range: DateRange,
                     preset: str | None = None) -> str:
    """E.g. "vs previous quarter (1 Apr – 30 Jun 2026)", or "No comparison"."""
    words = windows.comparison_name(date_range, mode, comparison_range, preset)
    return f"vs {words}" if words else "No comparison"


def comparison_words(mode: str, comparison_range: DateRange | None, date_range: DateRange,
                     preset: str | None = None) -> str:
    """The comparison for a sentence, without dates: "the previous quarter"."""
    words = windows.comparison_name(date_range, mode, comparison_range, preset)
    return "the " + words.split(" (")[0] if words else "the comparison period"


def _kpi_item(kpi: Kpi, compared: bool, segment_name: str | None) -> KpiItem:
    """A KPI card: value, change (or why a change would mislead), the previous value and whom
    it covers."""
    covers = "all users" if segment_name is None or not scope.is_per_user(kpi.dataset) \
        else f"segment {segment_name}"
    note = covers[:1].upper() + covers[1:]
    if kpi.note is not None:
        note = f"{kpi.note} · {covers}"
    elif compared and kpi.previous is not None:
        verdict = kpi.significance  # real change / within noise / too few to judge
        note = " · ".join([f"was {analytics.kpis.format_value(kpi.previous, kpi.unit)}",
                           *([verdict.label] if verdict is not None else []), covers])
    # A change that is not larger than chance is not drawn as good or bad news (as on the page).
    good = kpi.good if kpi.significance is None or kpi.significance.significant else None
    return KpiItem(kpi.name, kpi.value_label, kpi.delta_label, good, note)


# --------------------------------------------------------------------------- sections


def _audience(d: _Data, slug: str) -> str:
    """Whom one slide covers, for its footer."""
    if slug in SIDE_BY_SIDE_SLIDES:
        return SIDE_BY_SIDE if d.segment_name is None else (
            f"{SIDE_BY_SIDE}, not only {d.segment_name}")
    if slug == "active-users-trend":
        dataset = SEGMENT_TREND if d.segment_trend else "engagement-trend"
    else:
        dataset = SLIDE_DATASETS[slug]
    return scope.short_label(dataset, d.segment_name)


def _kpi_headline(kpis: list[Kpi], compared: bool, vs: str) -> str:
    """The KPI slide's headline: the largest move among its cards (their title without one)."""
    if not compared or all(k.delta is None for k in kpis):
        return KEY_NUMBERS
    return takeaways.headline(kpis, vs)


def _windows(
    d: _Data, to_windows: Callable[[pd.DataFrame | None], pd.DataFrame], dataset: str
) -> pd.DataFrame:
    """Per-window totals of a trend, window k of the comparison beside window k (as the
    dashboard's trends: ``analytics.comparison.aligned_comparison``)."""
    before = to_windows(d.before(dataset)) if d.has_comparison else None
    return aligned.aligned_comparison(to_windows(d.now(dataset)), before, d.pairs,
                                      data_start=d.data_start)


def _overview(d: _Data, common: dict[str, Any], ranges: tuple[DateRange, DateRange | None],
              min_views: int) -> list[ChartItem]:
    """The Overview's trends (window k beside window k of the comparison) and best/worst flows;
    each headline is computed from the frame the slide draws, which the slide carries."""
    flow_now = _windows(d, analytics.flows.totals_by_window, "flow-trend")
    granularity = common["granularity"]
    active_before = (_or_none(d.active_windows("before", ranges[1], granularity))
                     if d.has_comparison else None)
    active_now = aligned.aligned_comparison(
        d.active_windows("now", ranges[0], granularity), active_before, d.pairs,
        data_start=d.data_start)
    help_now = _windows(d, analytics.self_help.totals_by_window, "self-help-trend")
    best, worst = analytics.best_and_worst_flows(d.now("flows"), BEST_WORST_N, min_views)
    note = charts.min_views_note(min_views)
    return [
        ChartItem("Overview", "Flow activity",
                  charts.flow_activity_trend(flow_now, **common),
                  takeaways.trend_sentence(flow_now, "views", "flow views"),
                  "flow-activity-trend", flow_now),
        ChartItem("Overview", "Flow completion rate over time",
                  charts.completion_rate_trend(flow_now, **common),
                  takeaways.range_sentence(flow_now, "completion_rate_pct",
                                           "the flow completion rate"),
                  "completion-rate-trend", flow_now),
        ChartItem("Overview", "Active users",
                  charts.active_users_trend(active_now, **common),
                  takeaways.trend_sentence(active_now, "active_users", "active users"),
                  "active-users-trend", active_now),
        ChartItem("Overview", "Self Help views",
                  charts.self_help_views_trend(help_now, **common),
                  takeaways.range_sentence(help_now, "views", "self-help views per period"),
                  "self-help-views-trend", help_now),
        ChartItem("Overview", "Best and worst flows",
                  charts.best_worst_flows(best, worst, subtitle=f"{common['subtitle']} · {note}",
                                          empty_message=f"No flow had {min_views:,} views"),
                  takeaways.best_worst_sentence(best, worst), "best-worst-flows",
                  pd.concat([best, worst], ignore_index=True)),
    ]


def _flows(d: _Data, subtitle: str, vs: str, min_views: int) -> list[ChartItem]:
    flows = _frame(d.now("flows"), "flows")
    rate_figure = charts.flow_completion_rate(flows, limit=SLIDE_TOP_N, min_views=min_views,
                                              subtitle=subtitle)
    ranked = analytics.flows.ranked_flows(flows, min_views)
    items = [
        ChartItem("Flows", "Views and completions",
                  charts.flow_views_completions(flows, limit=SLIDE_TOP_N, subtitle=subtitle),
                  takeaways.most_viewed_flow_sentence(flows), "flow-views-completions", flows),
        ChartItem("Flows", "Completion rate by flow", rate_figure,
                  takeaways.rate_spread_sentence(ranked), "flow-completion-rate", ranked),
    ]
    if d.has_comparison:
        compared = analytics.flows.with_change_verdicts(
            analytics.flow_comparison(flows, d.before("flows")))
        items.append(ChartItem(
            "Flows", "Flows vs the comparison period",
            charts.flow_comparison(compared, metric="views", current_label="This period",
                                   previous_label=vs[:1].upper() + vs[1:], limit=SLIDE_TOP_N,
                                   subtitle=subtitle),
            takeaways.flow_change_sentence(compared, vs), "flow-comparison", compared))
    return items


def _self_help(d: _Data, subtitle: str) -> list[ChartItem]:
    frame = _frame(d.now("self-help"), "self-help")
    by_item = analytics.self_help.by_item(frame)
    by_type = analytics.self_help.by_type(frame)
    return [
        ChartItem("Self Help", "Views per item",
                  charts.self_help_by_item(frame, limit=SLIDE_TOP_N, subtitle=subtitle),
                  takeaways.self_help_item_sentence(by_item), "self-help-by-item", by_item),
        ChartItem("Self Help", "Views per type",
                  charts.self_help_by_type(frame, subtitle=subtitle),
                  takeaways.content_type_sentence(by_type), "self-help-by-type", by_type),
    ]


def _engagement(d: _Data, subtitle: str) -> list[ChartItem]:
    engagement = _frame(d.now("engagement"), "engagement")
    viewed = analytics.engagement.distribution(engagement, "content_viewed")
    top = analytics.engagement.top_users(engagement)
    return [
        ChartItem("Engagement", "Content viewed per user",
                  charts.content_viewed_histogram(engagement, subtitle=subtitle),
                  takeaways.histogram_sentence(viewed, "content viewed"),
                  "content-viewed-histogram", viewed),
        ChartItem("Engagement", "Most engaged users",
                  charts.top_users(engagement, subtitle=subtitle),
                  takeaways.top_user_sentence(top), "top-users", top),
    ]


def _task_lists(tasks: pd.DataFrame, breakdown: pd.DataFrame,
                subtitle: str) -> list[ChartItem]:
    progress = analytics.tasks.distribution(tasks)
    return [
        ChartItem("Task Lists", "Progress on each task list",
                  charts.task_list_distribution(tasks, subtitle=subtitle),
                  takeaways.list_progress_sentence(progress), "task-list-progress", progress),
        ChartItem("Task Lists", "Members' average task progress by segment",
                  charts.completion_by_segment(breakdown, subtitle=subtitle),
                  takeaways.segments_sentence(breakdown), "completion-by-segment", breakdown),
    ]


def _breakdown(d: _Data) -> pd.DataFrame:
    """Every segment side by side, so from all users' rows whatever segment the pack is for."""
    return segments.segment_breakdown(d.segments, d.members, d.now("engagement", all_users=True),
                                      d.now("task-completion", all_users=True))


def _tables(flows: pd.DataFrame, content: pd.DataFrame | None, summary: pd.DataFrame,
            breakdown: pd.DataFrame, impacts: pd.DataFrame,
            flow_windows: pd.DataFrame) -> list[TableItem]:
    top = _columns(analytics.flows.flow_table(flows, content), TOP_FLOW_COLUMNS)
    tasks = _columns(summary, TASK_COLUMNS)
    by_segment = _columns(breakdown.sort_values("members", ascending=False), SEGMENT_COLUMNS)
    by_window = _columns(flow_windows, TREND_WINDOW_COLUMNS)
    items = [
        TableItem("Overview", "Flow activity window by window", by_window,
                  "flow-activity-by-window",
                  takeaways.trend_sentence(by_window, "completions", "flow completions")),
        TableItem("Flows", "Top flows by views", top, "top-flows",
                  takeaways.top_flows_sentence(top)),
    ]
    edit = takeaways.edit_sentence(impacts)
    if edit is not None:
        items.append(TableItem("Flows", "Completion rate before and after each edit",
                               _columns(impacts, EDIT_COLUMNS), "edit-impact", edit))
    items += [
        TableItem("Task Lists", "Task lists: users who finished and users with one task left",
                  tasks, "task-lists-one-task-left", takeaways.tasks_sentence(summary)),
        TableItem("Segments", "Segment breakdown", by_segment, "segment-breakdown",
                  takeaways.segment_activity_sentence(breakdown)),
    ]
    return items


# --------------------------------------------------------------------------- helpers


def _frame(frame: pd.DataFrame | None, dataset: str) -> pd.DataFrame:
    """The frame, or the dataset's empty frame when it was not loaded."""
    return frames.empty_frame(dataset) if frame is None else frame


def _or_none(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    return None if frame is None or frame.empty else frame


def _columns(frame: pd.DataFrame, wanted: list[str]) -> pd.DataFrame:
    """The wanted columns that exist, in order (robust to an analytics column being renamed)."""
    return frame[[c for c in wanted if c in frame.columns]].reset_index(drop=True)


def _notes(d: _Data) -> list[str]:
    """Data-quality remarks: values set aside by frames, answers served from a stale cache, and
    with a segment, what it does not apply to."""
    datasets = [*d.current.values(), *d.previous.values()]
    findings = sum(len(ds.findings) for ds in datasets)
    notes = []
    if d.segment_id is not None:
        notes.append(TREND_NOTE if d.segment_trend else ACCOUNT_TREND_NOTE)
    if findings:
        notes.append(f"{findings:,} values from the API were impossible or malformed (e.g. a "
                     "negative count) and were left out of the numbers.")
    stale = sorted({ds.name for ds in datasets if ds.meta.stale})
    if stale:
        notes.append("The API did not answer for " + ", ".join(stale) + ": these numbers come "
                     "from the last cached answer.")
    return notes


def collect_content(
    data: DashboardData,
    date_range: DateRange,
    *,
    account: str,
    comparison: str = "previous",
    granularity: str | None = None,
    generated_at: datetime | None = None,
    segment_id: str | None = None,
    preset: str | None = None,
    min_views: int = analytics.flows.MIN_VIEWS_FOR_RANKING,
) -> ReviewContent:
    """Everything the pack shows for the loaded ``data`` (``datasets.load_dashboard`` output).

    With ``segment_id``, engagement and task-completion rows (and the KPIs from them) are the
    segment's members only (and the active-users trend is the segment's own when ``data``
    holds ``engagement-user-trend``); an unknown id raises InvalidRequestError. Trends pair window
    k of the range with window k of ``data.comparison_range`` at ``granularity``. ``min_views``
    is the ``min_flow_views`` setting: flows ranked by completion rate need that many views.
    """
    granularity = granularity or windows.default_granularity(date_range)
    pairs = windows.align_windows(date_range, data.comparison_range, granularity)
    d = _Data(data, segment_id, pairs)
    vs = comparison_words(comparison, data.comparison_range, date_range, preset)
    label = comparison_label(comparison, data.comparison_range, date_range, preset)
    kpi_list = analytics.compute_kpis(
        {k: d.now(k) for k in KPI_DATASETS if d.now(k) is not None},
        {k: d.before(k) for k in KPI_DATASETS if d.before(k) is not None}
        if d.has_comparison else None,
        data_start=d.data_start, date_range=date_range, comparison_range=data.comparison_range,
    )
    subtitle = windows.range_name(preset, date_range)
    legend = label.removeprefix("vs ")
    # Trend slides name both periods: "Last quarter (1 Jul – 30 Sep 2026) vs previous quarter…".
    caption = windows.period_caption(date_range, comparison, data.comparison_range, preset)
    common = {"previous_label": legend[:1].upper() + legend[1:] if d.has_comparison else None,
              "granularity": granularity, "subtitle": caption}
    tasks = _frame(d.now("task-completion"), "task-completion")
    summary = analytics.tasks.summary(tasks)
    breakdown = _breakdown(d)
    ranges = (date_range, data.comparison_range)
    chart_items = [
        *_overview(d, common, ranges, min_views),
        *_flows(d, subtitle, vs, min_views),
        *_self_help(d, subtitle),
        *_engagement(d, subtitle),
        *_task_lists(tasks, breakdown, subtitle),
    ]
    impacts = analytics.edit_impacts(d.now("flow-trend"), d.now("content"))
    kpi_items = [_kpi_item(k, d.has_comparison, d.segment_name) for k in kpi_list]
    tables = _tables(_frame(d.now("flows"), "flows"), d.now("content"), summary, breakdown,
                     impacts, _windows(d, analytics.flows.totals_by_window, "flow-trend"))
    for item in [*chart_items, *tables]:
        item.audience = _audience(d, item.slug)
    return ReviewContent(
        account=account,
        period_label=windows.range_name(preset, date_range),
        comparison_label=label,
        generated_at=generated_at or datetime.now(UTC),
        segment_name=d.segment_name,
        kpis=kpi_items,
        kpi_headline=_kpi_headline(kpi_list, d.has_comparison, vs),
        charts=chart_items,
        tables=tables,
        notes=_notes(d),
        glossary=[(t.header, t.definition) for t in glossary.TERMS],
    )

