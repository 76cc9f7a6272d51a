"""pages/flows.py through AppTest: per-flow charts, trend with edit markers, comparison, report."""

from __future__ import annotations

import pytest
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
