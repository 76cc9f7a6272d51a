"""pages/self_help.py through AppTest: views by item and type, trend, unviewed published items."""

from __future__ import annotations

import pytest
from test_app import assert_clean, figure_titles

pytestmark = pytest.mark.slow


def test_self_help_page(app_env, open_page):
    at = open_page("pages/self_help.py")
    assert_clean(at)
    titles = " | ".join(figure_titles(at)).lower()
    assert "type" in titles and "self-help" in titles, titles
    assert len(at.dataframe) >= 2
    assert any("published items had no" in c.value for c in at.caption)


def test_with_a_segment_the_page_says_it_covers_all_users(app_env, open_page):
    from support import captions, pick_segment

    at = open_page("pages/self_help.py")
    name = pick_segment(at)
    assert_clean(at)
    assert any(c.startswith(f"The segment {name} does not apply to this page") and
               "self-help views per item, not per user" in c for c in captions(at)), captions(at)
