"""pages/task_lists.py through AppTest: distribution, one task left, per-user, by segment."""

from __future__ import annotations

import pytest
from test_app import assert_clean, figure_titles

pytestmark = pytest.mark.slow


def test_task_lists_page(app_env, open_page):
    at = open_page("pages/task_lists.py")
    assert_clean(at)
    titles = " | ".join(figure_titles(at)).lower()
    assert "task" in titles and "segment" in titles, titles
    assert len(at.dataframe) >= 3
    one_left = next(t.value for t in at.dataframe
                    if {"user_id", "task_list_id", "completed_tasks"} <= set(t.value.columns)
                    and "progress_pct" not in t.value.columns)  # not the per-user table
    caption = next(c.value for c in at.caption if "exactly one task left" in c.value)
    assert caption.startswith(f"{one_left['user_id'].nunique():,} ")  # distinct users, not rows


def test_with_a_segment_every_number_is_the_segments_own(app_env, open_page):
    from support import captions, pick_segment

    at = open_page("pages/task_lists.py")
    name = pick_segment(at)
    assert_clean(at)
    shown = captions(at)
    assert f"Every number here is limited to the segment {name}." in shown
    assert any(c.startswith("Every segment side by side") for c in shown)  # by-segment section
    summary = next(t.value for t in at.dataframe if "completed_pct" in t.value.columns)
    from ui.render import column_config
    from whatfix_data import glossary

    config = column_config(summary)  # the headers the page draws the table with
    assert config["completed_pct"]["label"] == "Users who finished (%)"
    assert config["completed_pct"]["help"] == glossary.definition("completed_pct")
    assert config["avg_progress_pct"]["label"] == "Average progress (%)"
