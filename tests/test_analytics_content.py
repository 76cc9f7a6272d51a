"""Tests for whatfix_data.analytics.content and .self_help (inventory, hygiene, views)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from whatfix_data import analytics
from whatfix_data.analytics import content as ct
from whatfix_data.analytics import self_help as sh
from whatfix_data.analytics import takeaways
from whatfix_data.frames import to_frame, trend_frame
from whatfix_data.windows import DateRange, split_range

AS_OF = date(2026, 11, 27)


def content_frame() -> pd.DataFrame:
    return to_frame(
        "content",
        [
            {
                "contentId": "art1",
                "name": "Pricing FAQ",
                "type": "Article",
                "status": "Published",
                "createdAt": "2026-01-01T00:00:00Z",
                "modifiedAt": "2026-11-01T00:00:00Z",
                "viewCount": 500,
            },
            {
                "contentId": "art2",
                "name": "Old guide",
                "type": "Article",
                "status": "Published",
                "createdAt": "2025-01-01T00:00:00Z",
                "modifiedAt": "2025-02-01T00:00:00Z",
                "viewCount": 900,
            },
            {
                "contentId": "vid1",
                "type": "Video",
                "status": "Draft",
                "createdAt": "2026-06-01T00:00:00Z",
            },
            {
                "contentId": "vid2",
                "type": "Video",
                "status": "Draft",
                "createdAt": "2026-11-01T00:00:00Z",
            },
            {
                "contentId": "tip1",
                "type": "Tooltip",
                "status": "Published",
                "createdAt": "2026-01-01T00:00:00Z",
                "modifiedAt": "2026-01-02T00:00:00Z",
            },
            {
                "contentId": "fl1",
                "type": "Flow",
                "status": "Published",
                "createdAt": "2026-01-01T00:00:00Z",
                "modifiedAt": "2026-10-01T00:00:00Z",
            },
            {
                "contentId": "arch",
                "type": "Flow",
                "status": "Archived",
                "createdAt": "2020-01-01T00:00:00Z",
            },
        ],
    ).frame


def self_help_frame() -> pd.DataFrame:
    return to_frame(
        "self-help",
        [
            {
                "contentId": "art1",
                "contentName": "Pricing FAQ",
                "contentType": "Article",
                "views": 30,
            },
            {"contentId": "vid1", "contentName": None, "contentType": "Video", "views": 10},
            {"contentId": "art2", "contentName": "Old guide", "contentType": "Article", "views": 0},
        ],
    ).frame


def test_inventory_by_type_and_status():
    table = analytics.content_inventory(content_frame())
    assert list(table.columns) == ["type", "Draft", "Published", "Archived", "total"]
    rows = table.set_index("type")
    assert rows.loc["Article", "Published"] == 2 and rows.loc["Video", "Draft"] == 2
    assert rows.loc["Flow", "total"] == 2
    assert int(table["total"].sum()) == 7
    long = ct.inventory_long(content_frame())
    assert int(long["items"].sum()) == 7 and (long["items"] > 0).all()
    assert ct.inventory(None).empty


def test_hygiene_lists():
    lists = analytics.content_hygiene(
        content_frame(), self_help_frame(), to_frame("flows", []).frame, as_of=AS_OF
    )
    # Tooltips have no per-range views: not listed. The flow had no flow views in the range.
    assert lists.unviewed["content_id"].tolist() == ["art2", "fl1"]
    assert lists.old_drafts["content_id"].tolist() == ["vid1"]
    assert lists.old_drafts["age_days"].tolist() == [179]
    assert lists.not_modified["content_id"].tolist() == ["art2", "tip1"]  # archived left out
    stricter = ct.hygiene(content_frame(), as_of=AS_OF, draft_age_days=10, stale_days=1000)
    assert stricter.old_drafts["content_id"].tolist() == ["vid1", "vid2"]
    assert stricter.not_modified.empty
    assert takeaways.content_sentence(lists) == (
        "2 published items had no views, 1 drafts are older than 90 days and 2 items were not "
        "modified in 180 days."
    )


def test_published_without_views_counts_flow_views():
    flows = to_frame("flows", [{"flowId": "fl1", "views": 4}]).frame
    silent = sh.published_without_views(content_frame(), self_help_frame(), flows)
    assert silent["content_id"].tolist() == ["art2"]
    only_articles = sh.published_without_views(
        content_frame(), self_help_frame(), types={"Tooltip"}
    )
    assert only_articles["content_id"].tolist() == ["tip1"]


def test_self_help_by_item_and_type():
    items = sh.by_item(self_help_frame())
    assert items["content_id"].tolist() == ["art1", "vid1", "art2"]
    assert items["content_name"].tolist()[1] == "vid1"  # id stands in for a missing name
    assert items["share_pct"].tolist() == [75.0, 25.0, 0.0]
    types = sh.by_type(self_help_frame())
    assert types["content_type"].tolist() == ["Article", "Video"]
    assert types["items"].tolist() == [2, 1] and types["views"].tolist() == [30, 10]
    assert takeaways.self_help_sentence(items, types) == (
        "'Pricing FAQ' was the most viewed self-help item (30 views, 75% of all); Article items "
        "drew 75% of views."
    )


def test_self_help_totals_by_window():
    windows = split_range(DateRange(date(2026, 11, 1), date(2026, 11, 2)), "day")
    trend = trend_frame(
        [(windows[0], self_help_frame()), (windows[1], self_help_frame())], "self-help"
    )
    totals = sh.totals_by_window(trend)
    assert totals["views"].tolist() == [40, 40]
    assert takeaways.trend_sentence(totals, "views", "self-help views") == (
        "Self-help views peaked at 40 in 2026-11-01."
    )
    assert sh.totals_by_window(None).empty


def test_segments_sentence():
    breakdown = pd.DataFrame(
        {
            "segment_id": ["a", "b"],
            "name": ["Admins", "Sales"],
            "members": [3, 5],
            "task_completion_pct": [40.0, 70.0],
            "active_pct": [10.0, 20.0],
        }
    )
    assert (
        takeaways.segments_sentence(breakdown)
        == "'Sales' leads on members' average task progress (70%, 5 members)."
    )
    assert takeaways.quoted("x" * 100).endswith("…'")
    assert takeaways.quoted(None) == "'(unnamed)'"
