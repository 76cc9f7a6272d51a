"""pages/engagement.py through AppTest: active users trend, distributions, top and dormant users."""

from __future__ import annotations

import pytest
from test_app import assert_clean, figure_titles

pytestmark = pytest.mark.slow


def dormant_caption(at) -> str:
    return next(c.value for c in at.caption if "were last seen more than" in c.value)


def test_engagement_page(app_env, open_page):
    at = open_page("pages/engagement.py")
    assert_clean(at)
    titles = " | ".join(figure_titles(at)).lower()
    assert "active users" in titles, titles
    assert len(figure_titles(at)) >= 4
    labels = [b.label for b in at.download_button]
    assert labels.count("Download CSV") >= 2, "top users and dormant users download"


def test_the_dormant_threshold_changes_the_list(app_env, open_page):
    at = open_page("pages/engagement.py")
    before = dormant_caption(at)
    at.number_input(key="dormant_days").set_value(7).run()
    assert_clean(at)
    assert dormant_caption(at) != before


def test_with_a_segment_every_number_is_the_segments_own(app_env, open_page):
    from support import captions, pick_segment

    def active_trend(at) -> list[int]:
        from test_app import figures

        fig = next(f for f in figures(at) if "active users" in f["layout"]["title"]["text"].lower())
        return fig["data"][0]["y"]

    at = open_page("pages/engagement.py")
    everyone = active_trend(at)
    # the trend, the per-user distributions and the dormant list each say whom they cover
    assert captions(at).count("All users") == 3
    name = pick_segment(at)
    assert_clean(at)
    shown = captions(at)
    assert f"Every number here is limited to the segment {name}." in shown
    assert shown.count(f"Segment: {name}") == 3 and "All users" not in shown
    limited = active_trend(at)
    assert len(limited) == len(everyone)
    assert all(s <= a for s, a in zip(limited, everyone, strict=True)) and limited != everyone
