"""Tests for whatfix_data.charts: each builder on small synthetic frames, asserted on figure JSON.

A few figures are also rendered to PNG with kaleido (under pytest's tmp dir) to prove they export.
"""

from __future__ import annotations

import html
from datetime import date, timedelta

import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whatfix_data import charts
from whatfix_data.charts import style

# One worker runs this module: its module-scoped fixtures (servers, loaded data, built packs)
# are then made once, not once per xdist worker (tests/run_all.sh: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_charts")

HOSTILE = "<b>x</b> & <script>alert(1)</script>"
LONG_NAME = "Create a purchase order and route it for two-level approval in the ERP"


# ---------------------------------------------------------------------------------------------
# Synthetic frames shaped like docs/ARCHITECTURE.md "Frames"


def flows_frame(n: int = 4) -> pd.DataFrame:
    """A `flows` frame: flow i has 100*(i+1) views; names include a hostile and a long one."""
    names = [HOSTILE, LONG_NAME, *[f"Flow {i}" for i in range(2, n)]][:n]
    views = [100 * (i + 1) for i in range(n)]
    completions = [v // (i + 2) for i, v in enumerate(views)]
    rates = [100 * c / v for c, v in zip(completions, views, strict=True)]
    return pd.DataFrame({
        "flow_id": pd.array([f"f{i}" for i in range(n)], dtype="string"),
        "flow_name": pd.array(names, dtype="string"),
        "views": pd.array(views, dtype="Int64"),
        "completions": pd.array(completions, dtype="Int64"),
        "completion_rate_pct": pd.array(rates, dtype="Float64"),
        "avg_time_to_complete_s": pd.array([30.0 * (i + 1) for i in range(n)], dtype="Float64"),
    })


def windows_frame(start: date, n: int, *, days: int = 7, partial_last: bool = True) -> pd.DataFrame:
    """Per-window totals: n windows of `days` days from `start`."""
    starts = [start + timedelta(days=days * i) for i in range(n)]
    return pd.DataFrame({
        "window_start": starts,
        "window_end": [s + timedelta(days=days - 1) for s in starts],
        "window_label": pd.array([f"Week of {s:%d %b}" for s in starts], dtype="string"),
        "partial": [partial_last and i == n - 1 for i in range(n)],
        "views": pd.array([50 + 10 * i for i in range(n)], dtype="Int64"),
        "completions": pd.array([20 + 5 * i for i in range(n)], dtype="Int64"),
        "completion_rate_pct": pd.array([40.0 + i for i in range(n)], dtype="Float64"),
        "active_users": pd.array([30 + i for i in range(n)], dtype="Int64"),
    })


def with_comparison(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """An aligned frame (as analytics.comparison.aligned_comparison makes): row k of
    `previous` as the comparison_* columns of row k of `current`."""
    before = previous.head(len(current)).reset_index(drop=True).add_prefix("comparison_")
    return pd.concat([current.reset_index(drop=True), before], axis=1)


def flow_trend_frame(start: date = date(2026, 9, 7), n: int = 6) -> pd.DataFrame:
    """A `flow-trend` frame for two flows over n weekly windows."""
    parts = []
    for flow_id, name in (("f0", "Create invoice"), ("f1", "Approve PO")):
        part = windows_frame(start, n).drop(columns=["active_users"])
        parts.append(part.assign(flow_id=flow_id, flow_name=name))
    return pd.concat(parts, ignore_index=True)


def engagement_frame() -> pd.DataFrame:
    """An `engagement` frame of 6 users."""
    return pd.DataFrame({
        "user_id": pd.array([f"u{i}" for i in range(6)], dtype="string"),
        "email": pd.array(["a@x.io", "b@x.io", None, "d@x.io", "e@x.io", HOSTILE],
                          dtype="string"),
        "content_viewed": pd.array([0, 1, 1, 3, 5, 9], dtype="Int64"),
        "flows_completed": pd.array([0, 0, 1, 1, 2, 4], dtype="Int64"),
        "last_active": pd.to_datetime(["2026-09-01"] * 6, utc=True),
    })


def tasks_frame() -> pd.DataFrame:
    """A `task-completion` frame: list A has one user per bucket, list B all completed."""
    rows = [("u1", "tl-a", "Onboarding A", 0, 4), ("u2", "tl-a", "Onboarding A", 2, 4),
            ("u3", "tl-a", "Onboarding A", 3, 4), ("u4", "tl-a", "Onboarding A", 4, 4),
            ("u1", "tl-b", "Setup B", 3, 3), ("u2", "tl-b", "Setup B", 3, 3)]
    frame = pd.DataFrame(rows, columns=["user_id", "task_list_id", "task_list_name",
                                        "completed_tasks", "total_tasks"])
    return frame.assign(completion_rate_pct=100.0 * frame.completed_tasks / frame.total_tasks)


def content_frame() -> pd.DataFrame:
    """A `content` frame: 3 Flows (2 published, 1 draft), 1 archived Article."""
    return pd.DataFrame({
        "content_id": ["c1", "c2", "c3", "c4"],
        "name": ["a", "b", "c", "d"],
        "type": pd.Categorical(["Flow", "Flow", "Flow", "Article"]),
        "status": pd.Categorical(["Published", "Published", "Draft", "Archived"]),
    })


def layout_json(fig: go.Figure) -> dict:
    """The figure as plain JSON-like dict (what the browser receives)."""
    return fig.to_plotly_json()


def annotation_texts(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


def series(fig: go.Figure) -> list:
    """The data series of a figure, without the partial-window rings."""
    return [t for t in fig.data if not (t.meta and t.meta.get("partial_windows"))]


def assert_standard(fig: go.Figure, *units: str) -> None:
    """Title present, palette from Okabe-Ito, every unit mentioned in the axis titles."""
    assert fig.layout.title.text
    axis_titles = f"{fig.layout.xaxis.title.text} | {fig.layout.yaxis.title.text}"
    for unit in units:
        assert unit in axis_titles, (unit, axis_titles)
    assert list(fig.layout.template.layout.colorway) == list(style.PALETTE)
    assert fig.layout.template.layout.plot_bgcolor == "white"  # plotly_white's, kept


# ---------------------------------------------------------------------------------------------
# Style helpers


def test_escape_text_neutralises_markup_and_handles_missing():
    assert style.escape_text(HOSTILE) == (
        "&lt;b&gt;x&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;")
    assert style.escape_text(None) == style.UNNAMED
    assert style.escape_text(pd.NA) == style.UNNAMED
    assert style.escape_text("   ") == style.UNNAMED


def test_short_label_truncates_before_escaping():
    label = style.short_label("&" * 60, max_chars=10)
    assert label == "&amp;" * 9 + "…"   # nine whole entities, never half of one


def test_lighten_mixes_with_white():
    assert style.lighten("#000000", 0.5) == "#808080"
    assert style.lighten("#0072B2", 0.0) == "#0072B2"
    assert style.lighten("#0072B2", 1.0) == "#FFFFFF"


def test_palette_is_okabe_ito():
    assert set(style.PALETTE) == set(style.OKABE_ITO.values())
    assert len(set(style.PALETTE)) == 8


def test_figure_filename_is_a_safe_slug():
    name = charts.figure_filename("Completion rate by flow", "2026-09-01 – 2026-09-30",
                                  account="acme-demo")
    assert name == "acme-demo_completion-rate-by-flow_2026-09-01-2026-09-30"
    hostile = charts.figure_filename("Trend of &lt;b&gt;../../etc/passwd", "x/y", None)
    assert "/" not in hostile and ".." not in hostile and "<" not in hostile
    assert charts.figure_filename("", "") == "chart"
    assert len(charts.figure_filename("a" * 500, "b")) <= style.FILENAME_MAX_CHARS


def test_config_for_sets_download_filename():
    config = charts.config_for("Views by flow", "2026-09-01 – 2026-09-30")
    assert config["toImageButtonOptions"]["filename"] == "views-by-flow_2026-09-01-2026-09-30"
    assert config["toImageButtonOptions"]["format"] == "png"
    assert config["displaylogo"] is False


def test_period_label_names_the_dates():
    label = charts.period_label("Previous period", date(2026, 8, 1), date(2026, 8, 30))
    assert label == "Previous period (1 Aug – 30 Aug 2026)"


def test_bar_height_grows_with_bars_and_is_clamped():
    assert style.bar_height(1) == style.MIN_HEIGHT_PX
    assert style.bar_height(30) > style.bar_height(20)
    assert style.bar_height(10_000) == style.MAX_HEIGHT_PX


def test_count_axis_uses_integer_ticks():
    small = style.count_axis("Users (count)", 3)
    assert small["dtick"] == 1 and small["tickformat"] == ",d"
    assert "dtick" not in style.count_axis("Users (count)", 5000)


def test_figure_title_round_trips_escaped_names():
    fig = charts.flow_trend(flow_trend_frame().assign(flow_name=HOSTILE), "f0")
    assert charts.figure_title(fig) == f"Trend of {style.truncate(HOSTILE)}"


# ---------------------------------------------------------------------------------------------
# Flows


def test_flow_views_completions_sorted_grouped_and_escaped():
    flows = flows_frame(4)
    fig = charts.flow_views_completions(flows)
    assert_standard(fig, "(count)")
    views, completions = fig.data
    assert views.type == "bar" and views.orientation == "h"
    assert [views.name, completions.name] == ["Views", "Completions"]
    assert list(views.x) == [400, 300, 200, 100]  # sorted, largest first
    assert list(views.y) == ["f3", "f2", "f1", "f0"]
    assert list(completions.x) == [80, 75, 66, 50]
    assert fig.layout.yaxis.autorange == "reversed"  # first row drawn at the top
    ticktext = list(fig.layout.yaxis.ticktext)
    assert ticktext[-1] == style.escape_text(HOSTILE)
    assert "<b>" not in " ".join(ticktext)
    assert ticktext[2].endswith("…") and len(ticktext[2]) == style.NAME_MAX_CHARS
    assert views.customdata[2][0] == LONG_NAME  # full name in the hover
    assert fig.layout.xaxis.tickformat == ",d"


def test_flow_views_completions_limits_rows_and_grows_height():
    small = charts.flow_views_completions(flows_frame(4))
    big = charts.flow_views_completions(flows_frame(40), limit=12)
    shown = list(big.data[0].y)
    assert len(shown) == 24  # the 12 most and the 12 least viewed
    assert shown[:12] == [f"f{i}" for i in range(39, 27, -1)]
    assert shown[12:] == [f"f{i}" for i in range(11, -1, -1)]
    assert "Top 12 and bottom 12 of 40 flows" in big.layout.title.subtitle.text
    assert charts.flow_views_completions(flows_frame(24), limit=12).layout.title.subtitle.text \
        is None  # 24 flows fit: all shown, no cut to state
    assert big.layout.height > small.layout.height


def test_flow_completion_rate_percent_axis():
    flows = flows_frame(3)
    fig = charts.flow_completion_rate(flows)
    assert_standard(fig, "Completion rate (%)")
    assert tuple(fig.layout.xaxis.range) == (0, 100)
    assert fig.layout.xaxis.ticksuffix == "%"
    expected = sorted(flows["completion_rate_pct"].astype(float), reverse=True)
    assert list(fig.data[0].x) == pytest.approx(expected)


def test_flow_time_to_complete_always_in_seconds():
    flows = flows_frame(3)
    fig = charts.flow_time_to_complete(flows)
    assert fig.layout.xaxis.title.text == "Average time to complete (s)"
    assert list(fig.data[0].x) == [90.0, 60.0, 30.0]
    # Long flows too: one unit per measure, as in the tables and the pack.
    slow = flows.assign(avg_time_to_complete_s=flows["avg_time_to_complete_s"] * 20)
    fig = charts.flow_time_to_complete(slow)
    assert fig.layout.xaxis.title.text == "Average time to complete (s)"
    assert list(fig.data[0].x) == [1800.0, 1200.0, 600.0]
    assert fig.data[0].texttemplate == "%{x:,.0f} s"


def test_flow_time_to_complete_skips_flows_without_time():
    flows = flows_frame(3)
    flows.loc[0, "avg_time_to_complete_s"] = pd.NA
    fig = charts.flow_time_to_complete(flows)
    assert list(fig.data[0].y) == ["f2", "f1"]


def test_flow_trend_marks_modifications_inside_the_range():
    trend = flow_trend_frame(date(2026, 9, 7), 6)  # 2026-09-07 .. 2026-10-18
    edits = [pd.Timestamp("2026-09-23T10:00:00Z"), pd.Timestamp("2026-01-01T00:00:00Z")]
    fig = charts.flow_trend(trend, "f0", modifications=edits)
    assert fig.layout.title.text == "Trend of Create invoice"
    assert [t.name for t in series(fig)] == ["Views", "Completions"]
    assert list(fig.data[0].y) == [50, 60, 70, 80, 90, 100]
    lines = [s for s in fig.layout.shapes if s.name == "content-modified"]
    assert [s.x0 for s in lines] == ["2026-09-23"]  # the January edit is outside the range
    assert any("Edited 23 Sep" in t for t in annotation_texts(fig))
    late = charts.flow_trend(trend, "f0", modifications=[date(2026, 10, 17)])
    label = next(a for a in late.layout.annotations if a.name == "content-modified")
    assert label.xanchor == "right"  # near the right edge: drawn leftwards, never clipped
    assert fig.layout.xaxis.title.text == "Week starting"


def test_flow_trend_notes_an_edit_before_the_range():
    trend = flow_trend_frame(date(2026, 9, 7), 3)
    fig = charts.flow_trend(trend, "f0", modifications=[date(2026, 5, 2)])
    assert not fig.layout.shapes
    assert "Last edited 2026-05-02" in fig.layout.title.subtitle.text


def test_flow_trend_partial_window_has_hollow_marker_and_note():
    fig = charts.flow_trend(flow_trend_frame(n=4), "f1", metric="completion_rate_pct")
    trace = fig.data[0]
    assert trace.customdata[-1][0].endswith("(partial window)")
    rings = [t for t in fig.data if t.meta and t.meta.get("partial_windows")]
    assert len(rings) == 1 and rings[0].marker.symbol == "circle-open"
    assert list(rings[0].x) == [trace.x[-1]] and list(rings[0].y) == [trace.y[-1]]
    assert rings[0].name.startswith("Partial window")
    assert fig.layout.yaxis.title.text == "Completion rate (%)"


def test_flow_trend_unknown_flow_is_empty_state():
    fig = charts.flow_trend(flow_trend_frame(), "nope")
    assert charts.is_empty_figure(fig)
    assert "No views of nope" in annotation_texts(fig)[0]
    hostile = charts.flow_trend(flow_trend_frame(), "<b>id</b>")
    assert annotation_texts(hostile)[0] == "No views of &lt;b&gt;id&lt;/b&gt; in this date range"


def test_flow_comparison_previous_is_lighter_and_labelled():
    flows = flows_frame(3)
    comparison = flows.assign(views_previous=flows["views"] + 5)
    previous = charts.period_label("Previous period", date(2026, 8, 1), date(2026, 8, 30))
    fig = charts.flow_comparison(comparison, metric="views", current_label="Current period",
                                 previous_label=previous)
    current, prev = fig.data
    assert prev.name == "Previous period (1 Aug – 30 Aug 2026)"
    assert prev.marker.color == style.lighten(current.marker.color)  # same hue, lighter
    assert prev.marker.color != current.marker.color
    assert list(prev.x) == [305, 205, 105]
    assert fig.layout.xaxis.title.text == "Views (count)"


def test_best_worst_flows_groups_and_dedupes():
    flows = flows_frame(4)
    best = flows.nlargest(2, "completion_rate_pct")
    worst = flows.nsmallest(3, "completion_rate_pct")  # overlaps best by one flow
    fig = charts.best_worst_flows(best, worst)
    assert [t.name for t in fig.data] == ["Best flows", "Worst flows"]
    assert len(fig.data[0].y) + len(fig.data[1].y) == 4
    assert fig.data[0].marker.color == style.GOOD_COLOUR
    assert fig.data[1].marker.color == style.BAD_COLOUR
    assert fig.layout.xaxis.ticksuffix == "%"


# ---------------------------------------------------------------------------------------------
# Trends


def test_flow_activity_trend_with_dashed_comparison():
    current = windows_frame(date(2026, 9, 7), 4)
    previous = windows_frame(date(2026, 8, 10), 4, partial_last=False)
    label = charts.period_label("Previous period", date(2026, 8, 10), date(2026, 9, 6))
    fig = charts.flow_activity_trend(with_comparison(current, previous), previous_label=label,
                                     granularity="week")
    assert_standard(fig, "(count)", "Week starting")
    names = [t.name for t in series(fig)]
    assert names[:2] == ["Flow views", "Flow completions"]
    assert names[2] == f"Flow views · {label}"
    dashed = [t for t in fig.data if t.line.dash == style.PREVIOUS_DASH]
    assert len(dashed) == 2 and all(t.opacity == style.PREVIOUS_OPACITY for t in dashed)
    assert list(dashed[0].x) == list(fig.data[0].x)  # previous drawn under the current windows
    assert list(fig.data[0].x) == ["2026-09-07", "2026-09-14", "2026-09-21", "2026-09-28"]
    assert dashed[0].customdata[0][0] == "Week of 10 Aug"
    assert list(fig.layout.xaxis.tickvals) == list(fig.data[0].x)  # one tick per window
    assert list(fig.layout.xaxis.ticktext) == ["7 Sep 2026", "14 Sep", "21 Sep", "28 Sep"]


def test_comparison_hover_names_its_window_and_flags_partial_and_early_windows():
    current = windows_frame(date(2026, 9, 7), 3)
    previous = windows_frame(date(2026, 6, 8), 3).assign(
        window_label=pd.array(["2026-W24", "2026-W25", "2026-W26 (partial)"], dtype="string"))
    frame = with_comparison(current, previous)
    frame["comparison_before_data"] = pd.array([True, False, False], dtype="boolean")
    fig = charts.self_help_views_trend(frame, previous_label="Previous quarter",
                                       granularity="week")
    dashed = [t for t in fig.data if (t.meta or {}).get("comparison")]
    assert [d[0] for d in dashed[0].customdata] == [
        "2026-W24 (starts before the account's data)", "2026-W25", "2026-W26 (partial)"]
    assert list(dashed[0].x) == list(fig.data[0].x)
    rings = next(t for t in fig.data if (t.meta or {}).get("partial_windows"))
    # The last window is partial on both sides: ringed on the current and the dashed line.
    assert sorted(rings.y) == sorted([current["views"].iloc[-1], previous["views"].iloc[-1]])


def test_completion_rate_and_active_users_trends():
    windows = windows_frame(date(2026, 9, 1), 5, days=1)
    rate = charts.completion_rate_trend(windows)
    assert_standard(rate, "Completion rate (%)", "Day")
    assert list(rate.data[0].y) == [40.0, 41.0, 42.0, 43.0, 44.0]
    users = charts.active_users_trend(windows)
    assert_standard(users, "Active users (count)")
    assert list(users.data[0].y) == [30, 31, 32, 33, 34]
    assert users.layout.yaxis.tickformat == ",d"


def test_many_weeks_label_every_other_window():
    fig = charts.flow_activity_trend(windows_frame(date(2026, 9, 7), 13), granularity="week")
    assert len(fig.layout.xaxis.tickvals) == 7
    assert list(fig.layout.xaxis.tickvals) == list(fig.data[0].x)[::2]


def test_long_trend_keeps_automatic_ticks():
    fig = charts.active_users_trend(windows_frame(date(2026, 9, 1), 60, days=1))
    assert fig.layout.xaxis.tickvals is None
    assert fig.data[0].marker.size < 8  # small markers on a dense line


def test_trend_infers_month_axis_and_sorts_windows():
    months = windows_frame(date(2026, 6, 1), 3, days=30)
    months["window_start"] = [date(2026, 6, 1), date(2026, 7, 1), date(2026, 8, 1)]
    months = months.iloc[::-1]
    fig = charts.self_help_views_trend(months)
    assert fig.layout.xaxis.title.text == "Month starting"
    assert list(fig.layout.xaxis.ticktext) == ["Jun 2026", "Jul 2026", "Aug 2026"]
    assert fig.layout.yaxis.title.text == "Views (count)"
    assert list(fig.data[0].x) == sorted(fig.data[0].x)


@pytest.mark.parametrize("builder, message", [
    (charts.flow_activity_trend, "No flow views in this date range"),
    (charts.completion_rate_trend, "No flow views in this date range"),
    (charts.active_users_trend, "No active users in this date range"),
    (charts.self_help_views_trend, "No self-help views in this date range"),
])
def test_trends_empty_state(builder, message):
    fig = builder(windows_frame(date(2026, 9, 1), 1).iloc[0:0])
    assert charts.is_empty_figure(fig)
    assert annotation_texts(fig) == [message]
    assert fig.layout.title.text


# ---------------------------------------------------------------------------------------------
# Self Help, Engagement


def self_help_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "content_id": ["s1", "s2", "s3", "s4"],
        "content_name": ["Reset password", "VPN setup", HOSTILE, "Expenses"],
        "content_type": pd.Categorical(["Article", "Video", "Article", "Video"],
                                       categories=["Article", "Video", "Flow"]),
        "views": pd.array([10, 40, 5, 2], dtype="Int64"),
    })


def test_self_help_by_item_and_type():
    fig = charts.self_help_by_item(self_help_frame())
    assert_standard(fig, "Views (count)")
    assert list(fig.data[0].x) == [40, 10, 5, 2]
    by_type = charts.self_help_by_type(self_help_frame())
    assert list(by_type.data[0].x) == [42, 15]
    assert list(by_type.layout.yaxis.ticktext) == ["Video", "Article"]  # unused "Flow" dropped


def test_engagement_histograms_count_users_per_value():
    fig = charts.content_viewed_histogram(engagement_frame())
    assert_standard(fig, "Content items viewed (count)", "Users (count)")
    # values 0,1,1,3,5,9 -> one bin per integer 0..9
    assert list(fig.data[0].y) == [1, 2, 0, 1, 0, 1, 0, 0, 0, 1]
    assert sum(fig.data[0].y) == len(engagement_frame())
    flows_fig = charts.flows_completed_histogram(engagement_frame())
    assert list(flows_fig.data[0].y) == [2, 2, 1, 0, 1]


def test_histogram_bins_wide_ranges():
    values = pd.Series(range(0, 300), dtype="Int64")
    frame = engagement_frame().iloc[0:0].reindex(range(300))
    frame["content_viewed"] = values
    fig = charts.content_viewed_histogram(frame)
    assert len(fig.data[0].y) <= 30
    assert sum(fig.data[0].y) == 300
    assert fig.data[0].customdata[0][0] == "0–9"
    assert fig.layout.xaxis.dtick % 10 == 0  # ticks on bin edges


def test_top_users_labels_by_email_then_id():
    fig = charts.top_users(engagement_frame(), limit=4)
    assert list(fig.data[0].x) == [9, 5, 3, 1]
    # the tie at 1 viewed goes to u2 (more flows completed); u2 has no email: shown by id
    assert list(fig.layout.yaxis.ticktext) == [style.escape_text(HOSTILE), "e@x.io", "d@x.io",
                                               "u2"]
    assert "Top 4 of 6 users" in fig.layout.title.subtitle.text
    assert fig.layout.xaxis.title.text == "Items (count)"


# ---------------------------------------------------------------------------------------------
# Task lists, Segments, Content


def test_task_list_distribution_stacks_buckets():
    fig = charts.task_list_distribution(tasks_frame())
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == ["Completed (100%)", "50–99%", "1–49%",
                                          "Not started (0%)"]
    assert list(fig.layout.yaxis.ticktext) == ["Setup B", "Onboarding A"]
    # Onboarding A: 0/4, 2/4, 3/4, 4/4 -> one user in 0%, two in 50–99%, one in 100%
    assert list(fig.data[0].x) == [100.0, 25.0]
    assert list(fig.data[1].x) == [0.0, 50.0]
    assert fig.layout.xaxis.title.text == "Users (%)"
    assert fig.layout.xaxis.ticksuffix == "%"
    counts = charts.task_list_distribution(tasks_frame(), normalise=False)
    assert list(counts.data[0].x) == [2, 1]
    assert counts.layout.xaxis.title.text == "Users (count)"


def test_completion_by_segment():
    frame = pd.DataFrame({"segment_id": ["s1", "s2", "s3"], "name": ["Admins", HOSTILE, "Idle"],
                          "task_completion_pct": pd.array([40.0, 75.5, None], dtype="Float64")})
    fig = charts.completion_by_segment(frame)
    assert list(fig.data[0].x) == [75.5, 40.0]  # the segment without task rows is left out
    assert fig.layout.xaxis.title.text == "Members' average task progress (%)"
    assert "<script>" not in str(layout_json(fig))


def test_segment_charts_accept_renamed_columns():
    renamed = pd.DataFrame({"segment_id": ["s1", "s2"], "segment_name": ["Admins", "EMEA"],
                            "completion_rate_pct": [10.0, 20.0]})
    fig = charts.completion_by_segment(renamed)
    assert list(fig.data[0].x) == [20.0, 10.0]
    assert list(fig.layout.yaxis.ticktext) == ["EMEA", "Admins"]


def test_segment_membership_and_engagement():
    frame = pd.DataFrame({"segment_id": ["s1", "s2"], "name": ["Admins", "EMEA"],
                          "user_count": [10, 200], "local_count": [12, 199]})
    fig = charts.segment_membership(frame)
    assert [t.name for t in fig.data] == ["userCount (API)", "Computed from user attributes"]
    assert list(fig.data[0].x) == [200, 10] and list(fig.data[1].x) == [199, 12]
    assert fig.layout.xaxis.title.text == "Users (count)"
    engagement = pd.DataFrame({"segment_id": ["s1", "s2"], "name": ["Admins", "EMEA"],
                               "content_viewed_per_member": [3.5, 1.2],
                               "flows_completed_per_member": [1.0, 0.4]})
    fig = charts.segment_engagement(engagement)
    assert list(fig.data[0].x) == [3.5, 1.2]
    assert "(count)" in fig.layout.xaxis.title.text
    metric = charts.segment_metric(engagement, "flows_completed_per_member",
                                   title="Flows per member",
                                   value_title="Flows completed per user (count)",
                                   label="Flows")
    assert list(metric.data[0].x) == [1.0, 0.4]


def test_content_inventory_stacks_statuses():
    fig = charts.content_inventory(content_frame())
    assert [t.name for t in fig.data] == ["Published", "Draft", "Archived"]
    assert list(fig.layout.yaxis.ticktext) == ["Flow", "Article"]
    published = fig.data[0]
    assert list(published.x) == [2, 0]
    assert fig.layout.xaxis.title.text == "Content items (count)"
    assert fig.layout.xaxis.dtick == 1


# ---------------------------------------------------------------------------------------------
# Empty states and escaping everywhere


EMPTY_CASES = [
    (charts.flow_views_completions, flows_frame(0), "No flow views in this date range"),
    (charts.flow_completion_rate, flows_frame(0), "No flow views in this date range"),
    (charts.flow_time_to_complete, flows_frame(0), "No flow views in this date range"),
    (charts.self_help_by_item, self_help_frame().iloc[0:0], "No self-help views"),
    (charts.self_help_by_type, self_help_frame().iloc[0:0], "No self-help views"),
    (charts.content_viewed_histogram, engagement_frame().iloc[0:0], "No user activity"),
    (charts.flows_completed_histogram, engagement_frame().iloc[0:0], "No user activity"),
    (charts.top_users, engagement_frame().iloc[0:0], "No user activity"),
    (charts.task_list_distribution, tasks_frame().iloc[0:0], "No task-list activity"),
    (charts.content_inventory, content_frame().iloc[0:0], "No content items"),
]


@pytest.mark.parametrize("builder, frame, message", EMPTY_CASES)
def test_empty_frames_give_annotated_figure(builder, frame, message):
    fig = builder(frame)
    assert charts.is_empty_figure(fig)
    assert message in annotation_texts(fig)[0]
    assert not fig.data
    assert fig.layout.title.text


def test_best_worst_empty_and_none():
    fig = charts.best_worst_flows(flows_frame(0), None)
    assert annotation_texts(fig) == ["No flow views in this date range"]


def test_no_raw_markup_from_names_reaches_the_figure():
    flows = flows_frame(3)
    figures = [charts.flow_views_completions(flows), charts.flow_completion_rate(flows),
               charts.flow_trend(flow_trend_frame().assign(flow_name=HOSTILE), "f0"),
               charts.top_users(engagement_frame())]
    for fig in figures:
        text = fig.to_json()
        assert "<script>" not in text and "<b>x</b>" not in text


# ---------------------------------------------------------------------------------------------
# Static export (kaleido, through whatfix_data.images which owns the renderer)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EXPORT_WIDTH = 900


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    assert data[:8] == PNG_SIGNATURE
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.mark.slow
def test_figures_render_to_png(tmp_path):
    images = pytest.importorskip("whatfix_data.images")
    try:
        images.find_chromium()
    except Exception as exc:  # no browser on this machine: the export module's own error
        pytest.skip(str(exc))
    flows = flows_frame(12)
    previous = windows_frame(date(2026, 8, 10), 6, partial_last=False)
    label = charts.period_label("Previous period", date(2026, 8, 10), date(2026, 9, 20))
    figures = {
        "views": charts.flow_views_completions(flows, subtitle="1 Sep 2026 – 30 Nov 2026"),
        "trend": charts.flow_activity_trend(
            with_comparison(windows_frame(date(2026, 9, 21), 6), previous), previous_label=label),
        "empty": charts.flow_completion_rate(flows_frame(0)),
        "tasks": charts.task_list_distribution(tasks_frame()),
    }
    for name, fig in figures.items():
        data = images.figure_to_png(fig, scale=2, width=EXPORT_WIDTH)
        (tmp_path / f"{name}.png").write_bytes(data)
        width, height = png_size(data)
        assert width == 2 * EXPORT_WIDTH
        assert height == 2 * fig.layout.height, name
        assert len(data) > 10_000, name  # a blank image compresses to a few hundred bytes


# ---------------------------------------------------------------------------------------------
# Real frames from the built-in server (real HTTP): every chart builds from the data layer's
# typed frames and shows the numbers the frames hold.


REAL_RANGE = (date(2026, 9, 1), date(2026, 11, 26))


@pytest.fixture(scope="module")
def real(make_settings):
    """The dashboard datasets of REAL_RANGE and its previous period, as plain frames."""
    from whatfix_data.client import WhatfixClient
    from whatfix_data.datasets import load_dashboard, load_trend
    from whatfix_data.windows import DateRange

    with WhatfixClient(make_settings()) as client:
        data = load_dashboard(client, DateRange(*REAL_RANGE), "week", comparison="previous")
        frames_before = {name: d.frame for name, d in data.comparison.items()}
        frames_before["flow-trend"] = load_trend(client, "flows", data.comparison_range,
                                                 "week").frame
    frames_now = {name: d.frame for name, d in data.current.items()}
    return frames_now, frames_before, data.comparison_range


def test_real_flow_charts_show_the_frames_numbers(real):
    from whatfix_data import analytics

    now, before, previous_range = real
    flows = now["flows"]
    fig = charts.flow_views_completions(flows)
    shown = dict(zip(fig.data[0].y, fig.data[0].x, strict=True))
    expected = flows.set_index("flow_id")["views"]
    assert shown and all(expected[k] == v for k, v in shown.items())
    assert list(fig.data[0].x) == sorted(fig.data[0].x, reverse=True)
    from whatfix_data.windows import DateRange, align_windows

    pairs = align_windows(DateRange(*REAL_RANGE), previous_range, "week")
    totals = analytics.comparison.aligned_comparison(
        analytics.flows.totals_by_window(now["flow-trend"]),
        analytics.flows.totals_by_window(before["flow-trend"]), pairs)
    trend = charts.flow_activity_trend(
        totals, previous_label=charts.period_label("Previous period", previous_range.start,
                                                   previous_range.end), granularity="week")
    assert sum(trend.data[0].y) == int(flows["views"].sum())
    assert sum(trend.data[2].y) == int(before["flows"]["views"].sum())  # the comparison's
    assert len(series(trend)) == 4  # views, completions and their comparison lines
    flow_id = flows.sort_values("views").iloc[-1]["flow_id"]
    edits = analytics.flows.modifications(now["content"], flow_id)
    one = charts.flow_trend(now["flow-trend"], flow_id, modifications=edits)
    assert sum(one.data[0].y) == int(expected[flow_id])
    compared = analytics.flow_comparison(flows, before["flows"])
    rates = charts.flow_comparison(compared, metric="completion_rate_pct")
    assert not charts.is_empty_figure(rates)
    best, worst = analytics.best_and_worst_flows(flows)
    assert len(charts.best_worst_flows(best, worst).data) == 2


def test_real_other_charts_are_drawn(real):
    from whatfix_data import analytics

    now, _, _ = real
    engagement = now["engagement"]
    hist = charts.content_viewed_histogram(engagement)
    assert sum(hist.data[0].y) == len(engagement)
    assert sum(charts.flows_completed_histogram(engagement).data[0].y) == len(engagement)
    assert len(charts.top_users(engagement).data[0].x) == 15
    assert charts.active_users_trend(now["engagement-trend"]).data[0].y
    by_type = charts.self_help_by_type(now["self-help"])
    assert sum(by_type.data[0].x) == int(now["self-help"]["views"].sum())
    views = analytics.self_help.totals_by_window(now["self-help-trend"])
    views_fig = charts.self_help_views_trend(views)
    assert sum(views_fig.data[0].y) == int(now["self-help"]["views"].sum())
    tasks = charts.task_list_distribution(now["task-completion"], normalise=False)
    assert sum(sum(t.x) for t in tasks.data) == len(now["task-completion"])
    inventory = charts.content_inventory(now["content"])
    assert sum(sum(t.x) for t in inventory.data) == len(now["content"])


# ---------------------------------------------------------------------------------------------
# Property: whatever a name holds, the axis shows it literally (escaped, never markup)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=80), min_size=1, max_size=6))
def test_any_name_is_shown_literally(names):
    flows = flows_frame(len(names)).assign(flow_name=pd.array(names, dtype="string"))
    fig = charts.flow_completion_rate(flows)
    for shown, customdata in zip(fig.layout.yaxis.ticktext, fig.data[0].customdata, strict=True):
        assert "<" not in shown and ">" not in shown
        assert "<" not in customdata[0] and ">" not in customdata[0]
        full = html.unescape(customdata[0])
        assert html.unescape(shown).rstrip("…") in full or full == style.UNNAMED


# --------------------------------------------------------------------------- best and worst kept


def random_flows(draw_views: list[int], rates: list[float]) -> pd.DataFrame:
    """A flows frame from drawn views and completion rates (rates may tie)."""
    n = len(draw_views)
    completions = [int(v * r / 100) for v, r in zip(draw_views, rates, strict=True)]
    return pd.DataFrame({
        "flow_id": pd.array([f"f{i:03d}" for i in range(n)], dtype="string"),
        "flow_name": pd.array([f"Flow {i}" for i in range(n)], dtype="string"),
        "views": pd.array(draw_views, dtype="Int64"),
        "completions": pd.array(completions, dtype="Int64"),
        "completion_rate_pct": pd.array(rates, dtype="Float64"),
        "avg_time_to_complete_s": pd.array([10.0 + 7 * (i % 13) for i in range(n)],
                                           dtype="Float64"),
    })


flow_sets = st.integers(min_value=1, max_value=80).flatmap(lambda n: st.tuples(
    st.lists(st.integers(min_value=0, max_value=3000), min_size=n, max_size=n),
    st.lists(st.sampled_from([0.0, 4.6, 12.5, 50.0, 50.0, 77.7, 96.9, 100.0]), min_size=n,
             max_size=n),
))


@settings(max_examples=30, deadline=None)
@given(flow_sets, st.integers(min_value=1, max_value=20), st.integers(min_value=1, max_value=500))
def test_completion_rate_chart_shows_the_overviews_best_and_worst(drawn, limit, min_views):
    from whatfix_data.analytics import flows as flow_stats

    flows = random_flows(*drawn)
    fig = charts.flow_completion_rate(flows, limit=limit, min_views=min_views)
    shown = [] if style.is_empty_figure(fig) else list(fig.data[0].y)
    eligible = set(flows.loc[flows["views"] >= min_views, "flow_id"])
    assert set(shown) <= eligible  # the min-views setting is respected
    assert f"at least {min_views:,} views" in fig.layout.title.subtitle.text  # and stated
    # The Overview lists 5 of each end; the chart keeps `limit` (15 on the page) of each.
    best, worst = flow_stats.best_and_worst_flows(flows, min(5, limit), min_views)
    assert set(best["flow_id"]) | set(worst["flow_id"]) <= set(shown)
    assert len(shown) == min(len(eligible), 2 * limit)
    rates = dict(zip(flows["flow_id"], flows["completion_rate_pct"], strict=True))
    values = [rates[f] for f in shown]
    assert values == sorted(values, reverse=True)  # best at the top, worst at the bottom
    if len(eligible) > 2 * limit:
        assert f"Top {limit} and bottom {limit} of {len(eligible):,}" in (
            fig.layout.title.subtitle.text)


@settings(max_examples=30, deadline=None)
@given(flow_sets, st.integers(min_value=1, max_value=20))
def test_ranked_flow_charts_keep_both_ends_and_the_most_viewed_flow(drawn, limit):
    flows = random_flows(*drawn)
    views = charts.flow_views_completions(flows, limit=limit)
    shown = list(views.data[0].y)
    ordered = flows.sort_values(["views", "flow_name"], ascending=[False, True])["flow_id"]
    if len(flows) > 2 * limit:
        assert shown == [*ordered.head(limit), *ordered.tail(limit)]
        assert f"Top {limit} and bottom {limit} of {len(flows)} flows" in (
            views.layout.title.subtitle.text)
    else:
        assert shown == list(ordered)
    times = charts.flow_time_to_complete(flows, limit=limit)
    most_viewed = set(flows.loc[flows["views"] == flows["views"].max(), "flow_id"])
    assert most_viewed <= set(times.data[0].y)


def test_best_and_worst_need_the_minimum_views():
    from whatfix_data.analytics import flows as flow_stats

    flows = random_flows([32, 150, 400, 99, 1000], [96.9, 50.0, 12.5, 0.0, 77.7])
    best, worst = flow_stats.best_and_worst_flows(flows, 1, min_views=100)
    assert best["flow_id"].tolist() == ["f004"]  # not f000: 96.9 % on 32 views
    assert worst["flow_id"].tolist() == ["f002"]  # not f003: 99 views
    fig = charts.flow_completion_rate(flows, min_views=100)
    subtitle = fig.layout.title.subtitle.text
    assert "all 3 flows with at least 100 views" in subtitle.lower()
    assert "2 with fewer views or no rate left out" in subtitle
