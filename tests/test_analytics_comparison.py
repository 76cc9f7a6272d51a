"""Tests for whatfix_data.analytics.comparison: trend windows paired window by window, the
account's data start, and the KPI notes when a period lies before the data."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from whatfix_data.analytics import comparison, kpis
from whatfix_data.analytics.flows import totals_by_window
from whatfix_data.frames import to_frame, trend_frame
from whatfix_data.windows import DateRange, align_windows, comparison_range, split_range

DATES = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


def window_totals(date_range: DateRange, granularity: str, views: list[int]) -> pd.DataFrame:
    """Per-window totals as ``flows.totals_by_window`` gives them: windows without views are
    not listed (the API lists no flow for them)."""
    listed = [(w, v) for w, v in zip(split_range(date_range, granularity), views, strict=False)
              if v]
    return pd.DataFrame({
        "window_start": [w.start for w, _ in listed],
        "window_end": [w.end for w, _ in listed],
        "window_label": pd.array([w.label for w, _ in listed], dtype="string"),
        "partial": pd.array([w.partial for w, _ in listed], dtype="boolean"),
        "views": pd.array([v for _, v in listed], dtype="Int64"),
        "completion_rate_pct": pd.array([50.0 for _ in listed], dtype="Float64"),
    })


def flow_trend(date_range: DateRange, granularity: str, views: list[int]) -> pd.DataFrame:
    """A flow-trend frame: one flow per window with the given views (0: no row at all, as the
    API lists no flow for a window nobody viewed)."""
    parts = []
    for window, count in zip(split_range(date_range, granularity), views, strict=False):
        rows = [] if count == 0 else [{"flowId": "f1", "views": count, "completions": count // 2}]
        parts.append((window, to_frame("flows", rows).frame))
    return trend_frame(parts, "flow-trend")


@settings(deadline=None, max_examples=150)  # shared 2-core machine: timings vary
@given(start=DATES, days=st.integers(0, 300), granularity=st.sampled_from(["day", "week", "month"]),
       mode=st.sampled_from(["previous", "year"]), seed=st.integers(0, 10_000))
def test_every_window_is_paired_and_keeps_its_totals(start, days, granularity, mode, seed):
    now_range = DateRange(start, start + timedelta(days=days))
    before_range = comparison_range(now_range, mode, granularity=granularity)
    pairs = align_windows(now_range, before_range, granularity)
    n = len(pairs)
    now_views = [(seed * (k + 3)) % 7 for k in range(n)]  # some windows without any row
    before_views = [(seed * (k + 5)) % 5 for k in range(n)]
    now = window_totals(now_range, granularity, now_views)
    before = window_totals(before_range, granularity, before_views)
    frame = comparison.aligned_comparison(now, before, pairs)
    assert len(frame) == n
    assert frame["views"].tolist() == now_views  # a window with no row counts 0, in place
    assert frame["comparison_views"].tolist() == before_views  # window k beside window k
    assert frame["partial"].tolist() == frame["comparison_partial"].tolist()
    assert frame["comparison_window_start"].tolist() == [p.comparison.start for p in pairs]
    assert frame["comparison_window_label"].tolist() == [p.comparison.label for p in pairs]
    unknown_rate = frame["views"] == 0
    assert frame.loc[unknown_rate, "completion_rate_pct"].isna().all()


def test_last_quarter_monthly_pairs_july_with_april():
    now_range = DateRange(date(2026, 7, 1), date(2026, 9, 30))
    before_range = comparison_range(now_range, "previous", preset="last_quarter",
                                    granularity="month")
    pairs = align_windows(now_range, before_range, "month")
    now = totals_by_window(flow_trend(now_range, "month", [90, 80, 70]))
    before = totals_by_window(flow_trend(before_range, "month", [9, 8, 7]))
    frame = comparison.aligned_comparison(now, before, pairs, data_start=date(2026, 4, 10))
    assert frame["window_label"].tolist() == ["2026-07", "2026-08", "2026-09"]
    assert frame["comparison_window_label"].tolist() == ["2026-04", "2026-05", "2026-06"]
    assert frame["comparison_views"].tolist() == [9, 8, 7]
    # April starts before the account's data (10 Apr): flagged, its value still shown.
    assert frame["comparison_before_data"].tolist() == [True, False, False]


def test_windows_wholly_before_the_data_are_unknown_not_zero():
    now_range = DateRange(date(2026, 7, 1), date(2026, 9, 30))
    before_range = DateRange(date(2026, 4, 1), date(2026, 6, 30))
    pairs = align_windows(now_range, before_range, "month")
    now = totals_by_window(flow_trend(now_range, "month", [5, 5, 5]))
    before = totals_by_window(flow_trend(before_range, "month", [0, 0, 4]))
    frame = comparison.aligned_comparison(now, before, pairs, data_start=date(2026, 6, 1))
    assert frame["comparison_views"].isna().tolist() == [True, True, False]
    without = comparison.aligned_comparison(now, None, pairs)
    assert not any(c.startswith("comparison_") for c in without.columns)


def test_data_start_and_coverage():
    content = to_frame("content", [
        {"contentId": "a", "createdAt": "2025-03-04T10:00:00Z"},
        {"contentId": "b", "createdAt": "2024-12-31T23:30:00-02:00"},  # 1 Jan 2025 in UTC
        {"contentId": "c"},
    ]).frame
    start = comparison.data_start(content)
    assert start == date(2025, 1, 1)
    assert comparison.data_start(None) is None
    assert comparison.coverage(DateRange(date(2025, 1, 1), date(2025, 2, 1)), start) == "full"
    assert comparison.coverage(DateRange(date(2024, 12, 1), date(2025, 2, 1)), start) == (
        "partial")
    assert comparison.coverage(DateRange(date(2024, 1, 1), date(2024, 2, 1)), start) == "none"
    assert comparison.coverage(DateRange(date(2024, 1, 1), date(2024, 2, 1)), None) == "full"


def _period(views: int) -> dict[str, pd.DataFrame]:
    return {"flows": to_frame("flows", [{"flowId": "f", "views": views, "completions": 1}]).frame}


def test_kpis_say_no_data_yet_instead_of_a_change():
    start = date(2026, 5, 1)
    early = kpis.kpis(_period(0), _period(0), data_start=start,
                      date_range=DateRange(date(2026, 3, 1), date(2026, 3, 31)),
                      comparison_range=DateRange(date(2026, 2, 1), date(2026, 2, 28)))
    views = early[0]
    assert views.delta_label is None and views.delta is None
    assert views.note == "No data yet: the account's data begins on 1 May 2026."
    assert views.note_short == "No data yet (from 1 May 2026)"
    partly = kpis.kpis(_period(305), _period(100), data_start=start,
                       date_range=DateRange(date(2026, 6, 1), date(2026, 6, 30)),
                       comparison_range=DateRange(date(2026, 4, 20), date(2026, 5, 31)))
    assert partly[0].delta_pct is None and partly[0].delta_label is None  # no "+205 %"
    assert "starts before the account's data (1 May 2026)" in partly[0].note
    assert partly[0].note_short == "Comparison starts before data"
    assert partly[0].previous == 100  # the old value stays known (card help text)
    covered = kpis.kpis(_period(305), _period(100), data_start=start,
                        date_range=DateRange(date(2026, 6, 1), date(2026, 6, 30)),
                        comparison_range=DateRange(date(2026, 5, 1), date(2026, 5, 31)))
    assert covered[0].note is None and covered[0].delta_label == "+205.0 %"
    assert kpis.kpi_frame(partly)["note"].iloc[0] == partly[0].note
