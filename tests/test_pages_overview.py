"""pages/overview.py through AppTest: KPI cards with deltas, trends, best and worst flows."""

from __future__ import annotations

import pytest
from test_app import assert_clean, figure_titles, figures, metric_values

pytestmark = pytest.mark.slow

KPIS = {"Flow views", "Flow completions", "Flow completion rate", "Active users", "Self-help views",
        "Finished task-list enrolments"}


def test_overview_shows_kpis_trends_and_best_flows(app_env, open_page):
    at = open_page("pages/overview.py")
    assert_clean(at)
    assert set(metric_values(at)) == KPIS
    assert all(m.delta for m in at.metric), "deltas against the previous period"
    assert "%" in metric_values(at)["Flow completion rate"]
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


def test_with_a_segment_every_number_says_whom_it_covers(app_env, open_page):
    from support import SEGMENT_NOT_APPLIED, captions, kpi_scopes, pick_segment

    from whatfix_data import glossary

    at = open_page()
    assert set(kpi_scopes(at).values()) == {"All users"}
    name = pick_segment(at)
    assert_clean(at)
    scopes = kpi_scopes(at)
    assert set(scopes) == KPIS
    for label in ("Active users", "Finished task-list enrolments"):
        assert scopes[label] == f"Segment: {name}"
    for label in ("Flow views", "Flow completions", "Flow completion rate", "Self-help views"):
        assert scopes[label].startswith(SEGMENT_NOT_APPLIED), scopes[label]
    shown = captions(at)
    # Each trend tab says whom it counts: the active-users trend is the segment's own.
    assert shown.count(f"Segment: {name}") == 3, shown
    assert sum(c.startswith(SEGMENT_NOT_APPLIED) for c in shown) >= 7, shown
    assert any("Per-user numbers here are limited to the segment" in c for c in shown)
    # Every card carries its one-sentence definition as help.
    definitions = {t.name: t.definition for t in glossary.TERMS}
    for metric in at.metric:
        assert metric.help.startswith(definitions[metric.label])


def test_the_best_and_worst_flows_state_the_minimum_views(app_env, open_page, monkeypatch):
    from support import captions

    monkeypatch.setenv("WHATFIX_MIN_FLOW_VIEWS", "150")
    at = open_page(query={"range": "custom", "start": "2026-07-01", "end": "2026-09-30"})
    assert_clean(at)
    assert any(c.startswith("Flows with at least 150 views are ranked") for c in captions(at))
    best_worst = next(f for f in figures(at) if f["layout"]["title"]["text"].startswith("Best"))
    assert "Flows with at least 150 views" in best_worst["layout"]["title"]["subtitle"]["text"]
    shown = [views for table in at.dataframe if "flow_name" in table.value
             for views in table.value["views"].tolist()]
    assert shown and min(shown) >= 150
