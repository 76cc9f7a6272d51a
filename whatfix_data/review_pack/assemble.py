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

from whatfix_data import analytics, charts, frames, segments, windows
from whatfix_data.analytics import comparison as aligned
from whatfix_data.analytics import takeaways
from whatfix_data.analytics.kpis import Kpi
from whatfix_data.datasets import DashboardData
from whatfix_data.errors import InvalidRequestError
from whatfix_data.review_pack.model import ChartItem, KpiItem, ReviewContent, TableItem
from whatfix_data.windows import DateRange, WindowPair

# Bars per ranked chart on a slide (the pages show up to 30; a slide stays readable with 12).
SLIDE_TOP_N = 12
BEST_WORST_N = 5
KPI_DATASETS = ("flows", "engagement", "self-help", "task-completion")
TREND_WINDOW_COLUMNS = ["window_label", "partial", "views", "completions", "completion_rate_pct",
                        "comparison_window_label", "comparison_partial", "comparison_views",
                        "comparison_completions", "comparison_completion_rate_pct",
                        "comparison_before_data"]

TOP_FLOW_COLUMNS = ["flow_name", "views", "completions", "completion_rate_pct",
                    "avg_time_to_complete_s"]
TASK_COLUMNS = ["task_list_name", "users", "completed_users", "completed_pct",
                "avg_progress_pct", "one_task_left"]
SEGMENT_COLUMNS = ["name", "members", "active_users", "active_pct", "content_viewed_per_member",
                   "flows_completed_per_member", "task_completion_pct"]
# Per-user datasets: the only ones a segment can limit (as on the dashboard's pages).
PER_USER_DATASETS = ("engagement", "task-completion", "end-users")
TREND_NOTE = ("The active-users trend counts all users: the API gives it as counts per period, "
              "not per user, so the segment cannot be applied to it.")
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

    @staticmethod
    def _get(period: dict, name: str) -> pd.DataFrame | None:
        dataset = period.get(name)
        return None if dataset is None else dataset.frame

    def _limited(
        self, frame: pd.DataFrame | None, name: str, all_users: bool
    ) -> pd.DataFrame | None:
        if frame is None or all_users or name not in PER_USER_DATASETS:
            return frame
        return segments.filter_to_segment(frame, self.members, self.segment_id)

    def now(self, name: str, *, all_users: bool = False) -> pd.DataFrame | None:
        return self._limited(self._get(self.current, name), name, all_users)

    def before(self, name: str, *, all_users: bool = False) -> pd.DataFrame | None:
        return self._limited(self._get(self.previous, name), name, all_users)

    @property
    def trend_noun(self) -> str:
        """How takeaways name the active-users trend, which a segment cannot limit."""
        return "active users" if self.segment_id is None else "active users (all users)"


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


def _kpi_item(kpi: Kpi, compared: bool) -> KpiItem:
    note = kpi.note
    if note is None and compared and kpi.previous is not None:
        note = f"was {analytics.kpis.format_value(kpi.previous, kpi.unit)}"
    return KpiItem(kpi.name, kpi.value_label, kpi.delta_label, kpi.good, note)


def _kpi_or_trend(
    kpi: Kpi, compared: bool, windows: pd.DataFrame, column: str, noun: str, vs: str
) -> str:
    """The KPI's change when there is a comparison, else the series' peak window."""
    if compared and kpi.delta is not None:
        return takeaways.kpi_sentence(kpi, vs)
    return takeaways.trend_sentence(windows, column, noun)


# --------------------------------------------------------------------------- sections


def _windows(
    d: _Data, to_windows: Callable[[pd.DataFrame | None], pd.DataFrame], dataset: str
) -> pd.DataFrame:
    """Per-window totals of a trend, window k of the comparison beside window k (as the
    dashboard's trends: ``analytics.comparison.aligned_comparison``)."""
    before = to_windows(d.before(dataset)) if d.has_comparison else None
    return aligned.aligned_comparison(to_windows(d.now(dataset)), before, d.pairs,
                                      data_start=d.data_start)


def _overview(d: _Data, kpis: dict[str, Kpi], common: dict[str, Any], vs: str,
              subtitle: str) -> list[ChartItem]:
    flow_now = _windows(d, analytics.flows.totals_by_window, "flow-trend")
    active_now = _windows(d, analytics.engagement.active_users_by_window, "engagement-trend")
    help_now = _windows(d, analytics.self_help.totals_by_window, "self-help-trend")
    flows = d.now("flows")
    best, worst = analytics.best_and_worst_flows(flows, BEST_WORST_N)
    compared = d.has_comparison
    # The trend counts all users: with a segment, its takeaway must not quote the segment's KPI.
    active_compared = compared and d.segment_id is None
    return [
        ChartItem("Overview", "Flow activity",
                  charts.flow_activity_trend(flow_now, **common),
                  _kpi_or_trend(kpis["flow_views"], compared, flow_now, "views", "flow views",
                                vs), "flow-activity-trend"),
        ChartItem("Overview", "Completion rate",
                  charts.completion_rate_trend(flow_now, **common),
                  _kpi_or_trend(kpis["completion_rate"], compared, flow_now,
                                "completion_rate_pct", "the completion rate", vs),
                  "completion-rate-trend"),
        ChartItem("Overview", "Active users",
                  charts.active_users_trend(active_now, **common),
                  _kpi_or_trend(kpis["active_users"], active_compared, active_now,
                                "active_users", d.trend_noun, vs), "active-users-trend"),
        ChartItem("Overview", "Self Help views",
                  charts.self_help_views_trend(help_now, **common),
                  _kpi_or_trend(kpis["self_help_views"], compared, help_now, "views",
                                "self-help views", vs), "self-help-views-trend"),
        ChartItem("Overview", "Best and worst flows",
                  charts.best_worst_flows(best, worst, subtitle=subtitle),
                  takeaways.flows_sentence(_frame(flows, "flows"), best, worst),
                  "best-worst-flows"),
    ]


def _flows(d: _Data, kpis: dict[str, Kpi], subtitle: str, vs: str) -> list[ChartItem]:
    flows = _frame(d.now("flows"), "flows")
    impacts = analytics.edit_impacts(d.now("flow-trend"), d.now("content"))
    edit = takeaways.edit_sentence(impacts)
    windows = analytics.flows.totals_by_window(d.now("flow-trend"))
    items = [
        ChartItem("Flows", "Views and completions",
                  charts.flow_views_completions(flows, limit=SLIDE_TOP_N, subtitle=subtitle),
                  _kpi_or_trend(kpis["flow_completions"], d.has_comparison, windows,
                                "completions", "flow completions", vs),
                  "flow-views-completions"),
        ChartItem("Flows", "Completion rate by flow",
                  charts.flow_completion_rate(flows, limit=SLIDE_TOP_N, subtitle=subtitle),
                  edit or takeaways.kpi_sentence(kpis["completion_rate"], vs),
                  "flow-completion-rate"),
    ]
    if d.has_comparison:
        compared = analytics.flow_comparison(flows, d.before("flows"))
        items.append(ChartItem(
            "Flows", "Flows vs the comparison period",
            charts.flow_comparison(compared, metric="views", current_label="This period",
                                   previous_label=vs[:1].upper() + vs[1:], limit=SLIDE_TOP_N,
                                   subtitle=subtitle),
            takeaways.kpi_sentence(kpis["flow_views"], vs), "flow-comparison"))
    return items


def _self_help(d: _Data, subtitle: str) -> list[ChartItem]:
    frame = _frame(d.now("self-help"), "self-help")
    by_item = analytics.self_help.by_item(frame)
    by_type = analytics.self_help.by_type(frame)
    help_trend = analytics.self_help.totals_by_window(d.now("self-help-trend"))
    return [
        ChartItem("Self Help", "Views per item",
                  charts.self_help_by_item(frame, limit=SLIDE_TOP_N, subtitle=subtitle),
                  takeaways.self_help_sentence(by_item, by_type), "self-help-by-item"),
        ChartItem("Self Help", "Views per type",
                  charts.self_help_by_type(frame, subtitle=subtitle),
                  takeaways.trend_sentence(help_trend, "views", "self-help views"),
                  "self-help-by-type"),
    ]


def _engagement(d: _Data, kpis: dict[str, Kpi], date_range: DateRange,
                subtitle: str) -> list[ChartItem]:
    engagement = _frame(d.now("engagement"), "engagement")
    days = analytics.engagement.DORMANT_AFTER_DAYS
    dormant = analytics.engagement.dormant_users(d.now("end-users"), engagement,
                                                 as_of=date_range.end, days=days)
    active = kpis["active_users"].value
    active_trend = analytics.engagement.active_users_by_window(d.now("engagement-trend"))
    return [
        ChartItem("Engagement", "Content viewed per user",
                  charts.content_viewed_histogram(engagement, subtitle=subtitle),
                  takeaways.engagement_sentence(int(active or 0), dormant, days),
                  "content-viewed-histogram"),
        ChartItem("Engagement", "Most engaged users",
                  charts.top_users(engagement, subtitle=subtitle),
                  takeaways.trend_sentence(active_trend, "active_users", d.trend_noun),
                  "top-users"),
    ]


def _task_lists(tasks: pd.DataFrame, summary: pd.DataFrame, breakdown: pd.DataFrame,
                subtitle: str) -> list[ChartItem]:
    return [
        ChartItem("Task Lists", "Progress on each task list",
                  charts.task_list_distribution(tasks, subtitle=subtitle),
                  takeaways.tasks_sentence(summary), "task-list-progress"),
        ChartItem("Task Lists", "Completion by segment",
                  charts.completion_by_segment(breakdown, subtitle=subtitle),
                  takeaways.segments_sentence(breakdown), "completion-by-segment"),
    ]


def _breakdown(d: _Data) -> pd.DataFrame:
    """Every segment side by side, so from all users' rows whatever segment the pack is for."""
    return segments.segment_breakdown(d.segments, d.members, d.now("engagement", all_users=True),
                                      d.now("task-completion", all_users=True))


def _tables(flows: pd.DataFrame, content: pd.DataFrame | None, summary: pd.DataFrame,
            breakdown: pd.DataFrame, flow_windows: pd.DataFrame) -> list[TableItem]:
    top = analytics.flows.flow_table(flows, content)
    return [
        TableItem("Overview", "Flow activity window by window",
                  _columns(flow_windows, TREND_WINDOW_COLUMNS), "flow-activity-by-window"),
        TableItem("Flows", "Top flows by views", _columns(top, TOP_FLOW_COLUMNS), "top-flows"),
        TableItem("Task Lists", "Task lists: completion and users with one task left",
                  _columns(summary, TASK_COLUMNS), "task-lists-one-task-left",
                  takeaways.tasks_sentence(summary)),
        TableItem("Segments", "Segment breakdown",
                  _columns(breakdown.sort_values("members", ascending=False), SEGMENT_COLUMNS),
                  "segment-breakdown", takeaways.segments_sentence(breakdown)),
    ]


# --------------------------------------------------------------------------- helpers


def _frame(frame: pd.DataFrame | None, dataset: str) -> pd.DataFrame:
    """The frame, or the dataset's empty frame when it was not loaded."""
    return frames.empty_frame(dataset) if frame is None else frame


def _columns(frame: pd.DataFrame, wanted: list[str]) -> pd.DataFrame:
    """The wanted columns that exist, in order (robust to an analytics column being renamed)."""
    return frame[[c for c in wanted if c in frame.columns]].reset_index(drop=True)


def _notes(d: _Data) -> list[str]:
    """Data-quality remarks: values set aside by frames, answers served from a stale cache, and
    with a segment, what it does not apply to."""
    datasets = [*d.current.values(), *d.previous.values()]
    findings = sum(len(ds.findings) for ds in datasets)
    notes = [TREND_NOTE] if d.segment_id is not None else []
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
) -> ReviewContent:
    """Everything the pack shows for the loaded ``data`` (``datasets.load_dashboard`` output).

    With ``segment_id``, engagement and task-completion rows (and the KPIs from them) are the
    segment's members only; an unknown id raises InvalidRequestError. Trends pair window k of
    the range with window k of ``data.comparison_range`` at ``granularity``.
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
    kpis = {k.key: k for k in kpi_list}
    subtitle = windows.range_name(preset, date_range)
    legend = label.removeprefix("vs ")
    # Trend slides name both periods: "Last quarter (1 Jul – 30 Sep 2026) vs previous quarter…".
    caption = windows.period_caption(date_range, comparison, data.comparison_range, preset)
    common = {"previous_label": legend[:1].upper() + legend[1:] if d.has_comparison else None,
              "granularity": granularity, "subtitle": caption}
    tasks = _frame(d.now("task-completion"), "task-completion")
    summary = analytics.tasks.summary(tasks)
    breakdown = _breakdown(d)
    chart_items = [
        *_overview(d, kpis, common, vs, subtitle),
        *_flows(d, kpis, subtitle, vs),
        *_self_help(d, subtitle),
        *_engagement(d, kpis, date_range, subtitle),
        *_task_lists(tasks, summary, breakdown, subtitle),
    ]
    return ReviewContent(
        account=account,
        period_label=windows.range_name(preset, date_range),
        comparison_label=label,
        generated_at=generated_at or datetime.now(UTC),
        segment_name=d.segment_name,
        kpis=[_kpi_item(k, d.has_comparison) for k in kpi_list],
        charts=chart_items,
        tables=_tables(_frame(d.now("flows"), "flows"), d.now("content"), summary, breakdown,
                       _windows(d, analytics.flows.totals_by_window, "flow-trend")),
        notes=_notes(d),
    )

