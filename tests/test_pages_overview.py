"""pages/overview.py through AppTest: KPI cards with deltas, trends, best and worst flows."""

from __future__ import annotations

import pytest
from test_app import assert_clean, figure_titles, metric_values

pytestmark = pytest.mark.slow

KPIS = {"Flow views", "Flow completions", "Completion rate", "Active users", "Self-help views",
        "Task lists completed"}


def test_overview_shows_kpis_trends_and_best_flows(app_env, open_page):
    at = open_page("pages/overview.py")
    assert_clean(at)
    assert set(metric_values(at)) == KPIS
    assert all(m.delta for m in at.metric), "deltas against the previous period"
    assert "%" in metric_values(at)["Completion rate"]
    titles = " | ".join(figure_titles(at))
    for expected in ("views", "completion rate", "active users", "self-help", "best"):
        assert expected in titles.lower(), titles
    labels = [b.label for b in at.download_button]
    assert "PNG" in labels and "SVG" in labels and "Download XLSX" in labels


def test_no_comparison_means_no_deltas(app_env, open_page):
    at = open_page("pages/overview.py", query={"compare": "none"})
    assert_clean(at)
    assert not any(m.delta for m in at.metric)


def test_the_review_pack_is_built_on_one_click(app_env, open_page):
    at = open_page("pages/overview.py")
    at.radio(key="pack_format").set_value("zip")
    at.button(key="pack_build").click().run()
    assert_clean(at)
    download = [b for b in at.download_button if b.label.startswith("Download the")]
    assert [b.label for b in download] == ["Download the ZIP of charts (PNG, SVG) and tables (CSV)"]


def _pack_caption(at) -> str:
    return next(c.value for c in at.caption if c.value.startswith("A deck for your review"))


def test_the_review_pack_caption_names_the_chosen_segment(app_env, open_page):
    at = open_page()
    assert "It covers all users." in _pack_caption(at)
    segment = at.selectbox(key="f_segment")
    name = segment.options[1]
    segment.select_index(1).run()
    assert_clean(at)
    caption = _pack_caption(at).replace("\\", "")  # names are markdown-escaped
    assert f"limited to the segment **{name}**" in caption
    assert "all users" in caption  # the active-users trend still counts everyone
