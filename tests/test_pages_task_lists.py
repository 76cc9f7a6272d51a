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
    assert any("exactly one task left" in c.value for c in at.caption)
    assert len(at.dataframe) >= 3
