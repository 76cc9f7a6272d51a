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
    assert "This period (2026-10-29 – 2026-11-27)" in names, names
    assert "Previous period (2026-09-29 – 2026-10-28)" in names, names
    at.selectbox(key="f_compare").select("year").run()
    assert_clean(at)
    names = {trace.get("name") for fig in figures(at) for trace in fig["data"]}
    assert any(str(n).startswith("Same period last year (2025-10-29") for n in names), names


def test_with_a_segment_the_page_says_it_covers_all_users(app_env, open_page):
    from support import captions, pick_segment

    at = open_page("pages/flows.py")
    assert not any("does not apply to this page" in c for c in captions(at))
    name = pick_segment(at)
    assert_clean(at)
    assert any(c.startswith(f"The segment {name} does not apply to this page") and
               "flow views per flow, not per user" in c for c in captions(at)), captions(at)


def test_the_completion_rate_tab_keeps_the_worst_flows_and_states_the_cut(app_env, open_page):
    from support import captions

    at = open_page("pages/flows.py", query={"range": "custom", "start": "2026-07-01",
                                            "end": "2026-09-30"})
    assert_clean(at)
    rate = next(f for f in figures(at) if f["layout"]["title"]["text"] == "Completion rate by flow")
    subtitle = rate["layout"]["title"]["subtitle"]["text"]
    assert "flows with at least 100 views" in subtitle.lower()
    shown = rate["data"][0]["x"]
    assert shown == sorted(shown, reverse=True)
    assert any(c.startswith("Flows with at least 100 views are ranked") for c in captions(at))
