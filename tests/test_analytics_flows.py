"""Tests for whatfix_data.analytics.flows and the flow takeaways."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from whatfix_data.analytics import flows as fl
from whatfix_data.analytics import takeaways
from whatfix_data.frames import to_frame, trend_frame
from whatfix_data.windows import DateRange, split_range


def flows_frame(rows: list[tuple[str, int, int]]) -> pd.DataFrame:
    return to_frame(
        "flows",
        [
            {
                "flowId": fid,
                "flowName": fid.upper(),
                "views": v,
                "completions": c,
                "completionRate": round(100 * c / v, 2) if v else 0,
            }
            for fid, v, c in rows
        ],
    ).frame


def test_best_and_worst_respect_min_views_and_do_not_overlap():
    frame = flows_frame([("a", 100, 90), ("b", 100, 10), ("c", 5, 5), ("d", 50, 45), ("e", 40, 20)])
    best, worst = fl.best_and_worst_flows(frame, n=2, min_views=20)
    assert best["flow_id"].tolist() == ["a", "d"]  # 90 % tie broken by views
    assert worst["flow_id"].tolist() == ["b", "e"]
    assert "c" not in set(best["flow_id"]) | set(worst["flow_id"])  # 5 views: not ranked
    best, worst = fl.best_and_worst_flows(frame, n=5, min_views=20)
    assert set(best["flow_id"]).isdisjoint(worst["flow_id"])
    assert list(best.columns) == list(frame.columns)
    empty_best, empty_worst = fl.best_and_worst_flows(None)
    assert empty_best.empty and empty_worst.empty


def test_flow_comparison():
    now = flows_frame([("a", 120, 60), ("new", 10, 5)])
    before = flows_frame([("a", 100, 40), ("gone", 7, 7)])
    table = fl.flow_comparison(now, before).set_index("flow_id")
    assert table.loc["a", "views_previous"] == 100 and table.loc["a", "views_change"] == 20
    assert table.loc["a", "views_change_pct"] == pytest.approx(20.0)
    assert table.loc["a", "completions_change_pct"] == pytest.approx(50.0)
    assert table.loc["a", "completion_rate_change_pts"] == pytest.approx(10.0)
    assert pd.isna(table.loc["new", "views_previous"]) and pd.isna(table.loc["gone", "views"])
    assert table.loc["gone", "flow_name"] == "GONE"
    assert list(table.index)[:2] == ["a", "new"]  # by current views


def daily_trend(per_day: dict[date, list[tuple[str, int, int]]]) -> pd.DataFrame:
    days = sorted(per_day)
    windows = split_range(DateRange(days[0], days[-1]), "day")
    return trend_frame([(w, flows_frame(per_day.get(w.start, []))) for w in windows], "flows")


def test_totals_by_window_are_weighted():
    trend = daily_trend(
        {
            date(2026, 10, 1): [("a", 100, 50), ("b", 100, 0)],
            date(2026, 10, 2): [("a", 10, 10)],
        }
    )
    totals = fl.totals_by_window(trend)
    assert totals["views"].tolist() == [200, 10]
    assert totals["completion_rate_pct"].tolist() == [25.0, 100.0]
    assert list(totals.columns[:4]) == ["window_start", "window_end", "window_label", "partial"]
    one = fl.totals_by_window(trend, "b")
    assert one["views"].tolist() == [100]
    assert fl.totals_by_window(None).empty


def test_edit_impact_leaves_out_the_edit_day():
    trend = daily_trend(
        {
            date(2026, 10, 1): [("inv", 100, 80)],
            date(2026, 10, 2): [("inv", 100, 80)],
            date(2026, 10, 3): [("inv", 100, 0)],  # the edit day: excluded
            date(2026, 10, 4): [("inv", 100, 68)],
            date(2026, 10, 5): [("inv", 100, 68)],
        }
    )
    impact = fl.edit_impact(trend, "inv", pd.Timestamp("2026-10-03T14:00:00Z"), "Create invoice")
    assert impact.rate_before_pct == pytest.approx(80.0)
    assert impact.rate_after_pct == pytest.approx(68.0)
    assert impact.change_pts == pytest.approx(-12.0)
    assert impact.views_before == 200 and impact.views_after == 200
    assert fl.edit_impact(trend, "inv", None) is None


def test_edit_impacts_and_takeaway():
    trend = daily_trend(
        {
            date(2026, 10, 1): [("inv", 100, 80), ("quiet", 5, 1)],
            date(2026, 10, 2): [("inv", 100, 80), ("quiet", 5, 1)],
            date(2026, 10, 3): [("inv", 100, 70)],
            date(2026, 10, 4): [("inv", 100, 68), ("quiet", 5, 1)],
            date(2026, 10, 5): [("inv", 100, 68)],
        }
    )
    content = to_frame(
        "content",
        [
            {
                "contentId": "inv",
                "name": "Create invoice",
                "type": "Flow",
                "modifiedAt": "2026-10-03T14:00:00Z",
            },
            {"contentId": "quiet", "type": "Flow", "modifiedAt": "2026-10-03T09:00:00Z"},
            {"contentId": "old", "type": "Flow", "modifiedAt": "2025-01-01T00:00:00Z"},
        ],
    ).frame
    impacts = fl.edit_impacts(trend, content, min_views=20)
    assert impacts["flow_id"].tolist() == ["inv"]  # "quiet" has too few views around its edit
    assert impacts["change_pts"].tolist() == [-12.0]
    assert takeaways.edit_sentence(impacts) == (
        "Completion of 'INV' fell 12 points after its edit on 3 Oct 2026 (80% to 68%)."
    )
    assert takeaways.edit_sentence(fl.edit_impacts(None, content)) is None
    assert fl.modifications(content, "inv") == [pd.Timestamp("2026-10-03T14:00:00Z")]


def test_flow_table_adds_last_edit_and_names():
    frame = to_frame("flows", [{"flowId": "x", "views": 1}, {"flowId": "y", "views": 9}]).frame
    content = to_frame("content", [{"contentId": "y", "modifiedAt": "2026-10-03T14:00:00Z"}]).frame
    table = fl.flow_table(frame, content)
    assert table["flow_id"].tolist() == ["y", "x"]
    assert table["flow_name"].tolist() == ["y", "x"]  # ids stand in for missing names
    assert table["modified_at"].notna().tolist() == [True, False]


def test_flows_sentence():
    frame = flows_frame([("a", 100, 90), ("b", 300, 30)])
    best, worst = fl.best_and_worst_flows(frame, n=1)
    assert takeaways.flows_sentence(frame, best, worst) == (
        "'B' was the most viewed flow (300 views); 'A' completes best (90%); 'B' worst (10%)."
    )
    assert takeaways.flows_sentence(flows_frame([]), best, worst) == (
        "No flow was viewed in this period."
    )
