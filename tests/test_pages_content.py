"""pages/content.py through AppTest: inventory by type and status, the three hygiene lists."""

from __future__ import annotations

import pytest
from test_app import assert_clean, figure_titles

pytestmark = pytest.mark.slow


def test_content_page(app_env, open_page):
    at = open_page("pages/content.py")
    assert_clean(at)
    assert figure_titles(at), "inventory chart"
    tab_labels = [t.label for t in at.tabs]
    assert any("Drafts older than 90 days" in label for label in tab_labels)
    assert any("Not modified in 180 days" in label for label in tab_labels)
    assert any("Published, no views" in label for label in tab_labels)


def test_with_a_segment_the_page_says_it_covers_all_users(app_env, open_page):
    from support import captions, pick_segment

    at = open_page("pages/content.py")
    name = pick_segment(at)
    assert_clean(at)
    assert any(c.startswith(f"The segment {name} does not apply to this page")
               for c in captions(at)), captions(at)
