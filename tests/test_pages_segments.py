"""pages/segments.py through AppTest: rules as sentences, userCount beside local membership."""

from __future__ import annotations

import json
import re

import pytest
from test_app import assert_clean, figure_titles

pytestmark = pytest.mark.slow


def test_segments_page(app_env, open_page):
    at = open_page("pages/segments.py")
    assert_clean(at)
    table = at.dataframe[0].value
    assert {"rules", "description", "user_count", "local_count"} <= set(table.columns)
    assert table["rules"].str.len().gt(0).all()
    assert not table["rules"].str.contains(r"\{", regex=True).any(), "sentences, not JSON"
    titles = " | ".join(figure_titles(at)).lower()
    assert "usercount" in titles and "segment" in titles, titles
    from test_app import figures

    sizes = next(f for f in figures(at) if "userCount" in f["layout"]["title"]["text"])
    # today's members whatever the range, and how old the user list is: an exported PNG says so
    title = json.dumps(sizes["layout"]["title"])
    assert "(when the user list was fetched), not limited to the date range" in title
    assert re.search(r"Members as of \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d UTC", title), title


def test_with_a_segment_the_breakdown_says_it_shows_every_segment(app_env, open_page):
    from support import captions, pick_segment

    at = open_page("pages/segments.py")
    assert not any(c.startswith("Every segment side by side") for c in captions(at))
    pick_segment(at)
    assert_clean(at)
    assert any(c.startswith("Every segment side by side") for c in captions(at))
