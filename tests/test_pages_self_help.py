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
