"""The ui package's pure helpers: markdown escaping, column formats, labels, cache text, deltas."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

import ui
from whatfix_data import windows
from whatfix_data.config import Settings
from whatfix_data.windows import DateRange


@pytest.mark.parametrize(
    "hostile",
    ["[click](javascript:alert(1))", "**bold** _it_", "<img src=x onerror=alert(1)>", "# Title",
     "`code`", "$x$", "a|b"],
)
def test_md_escape_leaves_no_markdown_active(hostile):
    escaped = ui.md_escape(hostile)
    for char in "[]()*_<>#`$|":
        # every special character is preceded by a backslash, so markdown shows it literally
        for position, found in enumerate(escaped):
            if found == char:
                assert escaped[position - 1] == "\\", (hostile, escaped)


@pytest.mark.parametrize(
    ("name", "label"),
    [("completion_rate_pct", "Completion rate (%)"),
     ("avg_time_to_complete_s", "Average time to complete (s)"),  # the glossary's name
     ("completed_pct", "Users who finished (%)"),
     ("task_completion_pct", "Members' average task progress (%)"),
     ("completion_rate_change_pts", "Completion rate change (pts)"),
     ("flow_name", "Flow name")],
)
def test_column_labels_carry_the_unit(name, label):
    assert ui._column_label(name) == label


def test_rates_get_progress_bars_and_changes_signed_numbers():
    frame = pd.DataFrame({
        "completion_rate_pct": pd.array([12.5, 99.0], dtype="Float64"),
        "views_change_pct": pd.array([-40.0, 250.0], dtype="Float64"),
        "completion_rate_change_pts": pd.array([-3.0, 2.0], dtype="Float64"),
        "avg_time_to_complete_s": pd.array([30.0, 61.5], dtype="Float64"),
        "last_seen_at": pd.to_datetime(["2026-11-01", "2026-11-02"], utc=True),
        "window_start": [date(2026, 11, 1), date(2026, 11, 2)],
    })
    config = ui.column_config(frame)
    kinds = {name: cfg["type_config"]["type"] for name, cfg in config.items()}
    assert kinds["completion_rate_pct"] == "progress"
    assert config["completion_rate_pct"]["type_config"]["max_value"] == 100
    assert kinds["views_change_pct"] == "number"
    assert config["views_change_pct"]["type_config"]["format"] == "%+.1f%%"
    assert config["completion_rate_change_pts"]["type_config"]["format"] == "%+.1f pts"
    assert config["avg_time_to_complete_s"]["type_config"]["format"] == "%.0f s"
    assert kinds["last_seen_at"] == "datetime"
    assert kinds["window_start"] == "date"


def test_a_percentage_outside_0_100_is_not_drawn_as_a_bar():
    frame = pd.DataFrame({"share_pct": pd.array([5.0, 130.0], dtype="Float64")})
    assert ui.column_config(frame)["share_pct"]["type_config"]["type"] == "number"


def _settings(cache: str) -> Settings:
    base = Settings(base_url="https://whatfix.com/api/v1", account_id="a", integration_key="k",
                    user="u@example.com", cache="memory")
    return replace(base, cache=cache)


def test_cache_description_hides_a_redis_password():
    text = ui.cache_description(_settings("redis://admin:s3cret@cache.internal:6379/0"))
    assert "s3cret" not in text and "admin" not in text
    assert text == "redis://***@cache.internal:6379/0"
    assert "memory" in ui.cache_description(_settings("memory"))
    assert ui.cache_description(_settings("/tmp/x.sqlite")) == "SQLite file /tmp/x.sqlite"


@pytest.mark.parametrize(
    ("delta", "good", "colour"),
    [("+3.0 %", True, "normal"), ("-2.0 pts", False, "normal"), ("+5 %", False, "inverse"),
     ("-1 %", True, "inverse"), ("+0.0 pts", None, "off"), (None, None, "off")],
)
def test_delta_colour_follows_good_news(delta, good, colour):
    assert ui._delta_colour(delta, good) == colour


def test_filters_describe_their_periods():
    october = DateRange(date(2026, 10, 1), date(2026, 10, 31))
    current = ui.Filters(
        preset="last_month", date_range=october, comparison="previous",
        comparison_range=windows.comparison_range(october, "previous", preset="last_month",
                                                  granularity="month"),
        granularity="month", segment_id=None, segment_name=None,
    )
    assert current.range_label == "1 Oct – 31 Oct 2026"
    assert current.comparison_label == "vs previous month (1 Sep – 30 Sep 2026)"
    assert current.caption == (
        "Last month (1 Oct – 31 Oct 2026) vs previous month (1 Sep – 30 Sep 2026)")
    assert current.comparison_legend == "Previous month (1 Sep – 30 Sep 2026)"
    assert [(p.current.label, p.comparison.label) for p in current.window_pairs] == [
        ("2026-10", "2026-09")]
    weekly = ui.Filters(
        preset="custom", date_range=october, comparison="year",
        comparison_range=windows.comparison_range(october, "year", granularity="week"),
        granularity="week", segment_id=None, segment_name=None,
    )
    assert weekly.caption == ("Custom range (1 Oct – 31 Oct 2026) vs same period last year, "
                              "weekday-aligned (2 Oct – 1 Nov 2025)")
    none = ui.Filters(preset="last_7_days", date_range=october, comparison="none",
                      comparison_range=None, granularity="day", segment_id=None,
                      segment_name=None)
    assert none.comparison_label == "" and none.comparison_legend is None


def test_names_come_before_internal_ids_but_user_ids_stay():
    frame = pd.DataFrame(columns=["flow_id", "flow_name", "views", "user_id"])
    assert list(ui.names_first(frame).columns) == ["flow_name", "views", "user_id", "flow_id"]
    segments = pd.DataFrame(columns=["segment_id", "name", "user_count"])
    assert list(ui.names_first(segments).columns) == ["name", "user_count", "segment_id"]
    alone = pd.DataFrame(columns=["flow_id", "views"])  # no name to show instead: keep the id
    assert list(ui.names_first(alone).columns) == ["flow_id", "views"]


def test_stem_file_names_are_safe():
    assert ui.stem_file_name("CRM export (2) outcomes", "csv") == "crm-export-2-outcomes.csv"


def test_counts_show_thousands_separators():
    frame = pd.DataFrame({"members": [1962, 12706], "rows": pd.array([1, None], dtype="Int64"),
                          "matches": [True, False]})
    config = ui.column_config(frame)
    assert config["members"]["type_config"]["format"] == "localized"
    assert config["rows"]["type_config"]["format"] == "localized"
    assert "format" not in config["matches"].get("type_config", {}), "booleans stay checkboxes"
