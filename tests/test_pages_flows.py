"""pages/flows.py through AppTest: per-flow charts, trend with edit markers, comparison, report."""

from __future__ import annotations

import csv
import io

import pytest
import requests
from test_app import assert_clean, figure_titles, figures

pytestmark = pytest.mark.slow


def test_flows_page_has_charts_tables_and_the_report(app_env, open_page):
    at = open_page("pages/flows.py")
    assert_clean(at)
    titles = " | ".join(figure_titles(at)).lower()
    for expected in ("views", "completion rate", "time to complete"):
        assert expected in titles, titles
    assert len(at.dataframe) >= 3, "flows, comparison and popular-flows tables"
    labels = [b.label for b in at.download_button]
    assert "Download the report as the API's CSV" in labels
    bars = [trace for fig in figures(at) for trace in fig["data"] if trace.get("type") == "bar"]
    assert any(trace.get("x") or trace.get("y") for trace in bars), "charts carry data"


def test_choosing_another_flow_redraws_its_trend(app_env, open_page):
    at = open_page("pages/flows.py")
    picker = at.selectbox(key="flow_pick")
    first = [t for t in figure_titles(at) if "trend" in t.lower() or "over time" in t.lower()]
    picker.select_index(1).run()
    assert_clean(at)
    second = [t for t in figure_titles(at) if "trend" in t.lower() or "over time" in t.lower()]
    assert first != second


def test_the_report_table_has_the_rows_of_the_apis_csv(app_env, sim_server, demo_account,
                                                       open_page):
    at = open_page("pages/flows.py")
    report = next(d.value for d in at.dataframe if "rank" in d.value.columns)
    start, end = at.date_input(key="f_start").value, at.date_input(key="f_end").value
    response = requests.get(
        f"{sim_server.base_url}/{demo_account.account_id}/reports/summary/mostPopularFlows",
        params={"format": "csv", "startDate": start.isoformat(), "endDate": end.isoformat()},
        headers={"x-whatfix-integration-key": demo_account.integration_key,
                 "x-whatfix-user": demo_account.user_email},
        timeout=30,
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == len(report)
    id_column = next(c for c in rows[0] if c.lower() in ("flowid", "flow_id"))
    views_column = next(c for c in rows[0] if c.lower() == "views")
    assert [r[id_column] for r in rows] == list(report["flow_id"])
    assert [int(r[views_column]) for r in rows] == [int(v) for v in report["views"]]


def test_comparison_legends_name_the_periods(app_env, open_page):
    at = open_page("pages/flows.py")
    names = {trace.get("name") for fig in figures(at) for trace in fig["data"]}
    assert "Last 30 days (29 Oct – 27 Nov 2026)" in names, names
    # A daily trend: the previous 30 days moved to the same weekdays (5 whole weeks back).
    assert "Previous 30 days, weekday-aligned (24 Sep – 23 Oct 2026)" in names, names
    # The flow trend's raw data holds the comparison window by window, beside the current one.
    raw = next(d.value for d in at.dataframe if "comparison_window_label" in d.value.columns)
    assert len(raw) == 30 and raw["comparison_window_label"].iloc[0] == "2026-09-24"
    assert {"comparison_views", "comparison_partial"} <= set(raw.columns)
    at.selectbox(key="f_compare").select("year").run()
    assert_clean(at)
    names = {trace.get("name") for fig in figures(at) for trace in fig["data"]}
    assert "Same period last year, weekday-aligned (30 Oct – 28 Nov 2025)" in names, names
