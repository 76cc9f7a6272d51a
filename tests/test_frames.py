"""Tests for whatfix_data.frames: fixed columns and dtypes, coercion, quality findings, trends."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whatfix_data import frames, registry
from whatfix_data.frames import Finding, empty_frame, findings_frame, to_frame, trend_frame
from whatfix_data.windows import DateRange, split_range

EXPECTED = {
    "end-users": "user_id:string email:string name:string created_at:ts last_seen_at:ts "
    "attributes:object",
    "content": "content_id:string name:string type:category status:category target_url:string "
    "created_at:ts modified_at:ts view_count:Int64",
    "flows": "flow_id:string flow_name:string views:Int64 completions:Int64 "
    "completion_rate_pct:Float64 avg_time_to_complete_s:Float64",
    "popular-flows": "rank:Int64 flow_id:string flow_name:string views:Int64 completions:Int64 "
    "completion_rate_pct:Float64 avg_time_to_complete_s:Float64",
    "self-help": "content_id:string content_name:string content_type:category views:Int64",
    "engagement": "user_id:string email:string content_viewed:Int64 flows_completed:Int64 "
    "last_active:ts",
    "task-completion": "user_id:string user_email:string task_list_id:string "
    "task_list_name:string completed_tasks:Int64 total_tasks:Int64 completion_rate_pct:Float64 "
    "last_activity_at:ts",
    "segments": "segment_id:string name:string description:string user_count:Int64 rules:object",
}


def signature(frame: pd.DataFrame) -> str:
    names = {"datetime64[ns, UTC]": "ts"}
    return " ".join(f"{c}:{names.get(str(t), str(t))}" for c, t in frame.dtypes.items())


@pytest.mark.parametrize("dataset", list(EXPECTED))
def test_empty_frames_have_the_contract_columns_and_dtypes(dataset):
    assert signature(empty_frame(dataset)) == EXPECTED[dataset]
    result = to_frame(dataset, [])
    assert signature(result.frame) == EXPECTED[dataset] and result.findings == []
    assert frames.columns(dataset) == [p.split(":")[0] for p in EXPECTED[dataset].split()]


def test_categories_are_the_spec_enums():
    frame = empty_frame("content")
    assert list(frame["type"].cat.categories) == list(frames.CONTENT_TYPES)
    assert list(frame["status"].cat.categories) == ["Draft", "Published", "Archived"]


def test_clean_records_convert_exactly():
    result = to_frame(
        "task-completion",
        [
            {
                "userId": "u1",
                "userEmail": "a@x.com",
                "taskListId": "t1",
                "taskListName": "Onboarding",
                "completedTasks": 3,
                "totalTasks": 4,
                "completionRate": 75.0,
                "lastActivityAt": "2026-11-20T10:00:00Z",
                "unexpected": {"ignored": True},
            }
        ],
    )
    row = result.frame.iloc[0]
    assert result.findings == []
    assert row["completed_tasks"] == 3 and row["completion_rate_pct"] == 75.0
    assert row["last_activity_at"] == pd.Timestamp("2026-11-20T10:00:00Z")
    assert "unexpected" not in result.frame


def test_missing_fields_are_na_without_findings():
    result = to_frame("flows", [{"flowId": "f1"}])
    assert result.findings == []
    assert result.frame.iloc[0].drop(["flow_id", "flow_name"]).isna().all()
    assert result.frame.iloc[0]["flow_name"] == "f1"  # a missing name is shown as the id


def test_wrong_types_are_coerced_or_reported():
    result = to_frame(
        "content",
        [
            {"contentId": 7, "type": "smarttip", "status": " published ", "viewCount": "12"},
            {"contentId": "c2", "type": "Widget", "viewCount": "many", "createdAt": 5},
            {"contentId": "c3", "viewCount": 2.0, "modifiedAt": "2026-02-30T00:00:00Z"},
            {"contentId": "c4", "viewCount": 2.5, "name": {"en": "x"}},
        ],
    )
    frame = result.frame
    assert frame["content_id"].tolist() == ["7", "c2", "c3", "c4"]
    assert frame["type"].tolist()[0] == "SmartTip" and frame["status"].tolist()[0] == "Published"
    assert frame["view_count"].tolist()[:3] == [12, pd.NA, 2]
    assert pd.isna(frame["view_count"].iloc[3])
    problems = {(f.row_key, f.field) for f in result.findings}
    assert problems == {
        ("c2", "type"),
        ("c2", "view_count"),
        ("c2", "created_at"),
        ("c3", "modified_at"),
        ("c4", "view_count"),
        ("c4", "name"),
    }


def test_impossible_values_become_na_and_findings():
    result = to_frame(
        "flows",
        [
            {"flowId": "ok", "views": 10, "completions": 4, "completionRate": 40.0},
            {"flowId": "rate", "views": 10, "completions": 4, "completionRate": 140},
            {"flowId": "over", "views": 5, "completions": 9, "completionRate": 100},
            {"flowId": "neg", "views": -3, "completions": 0, "avgTimeToComplete": -2},
            {"flowId": "mismatch", "views": 10, "completions": 2, "completionRate": 50},
            {"flowId": "rounded", "views": 3, "completions": 1, "completionRate": 33.3},
            {"flowId": "zero", "views": 0, "completions": 0, "completionRate": 0},
        ],
    )
    frame = result.frame.set_index("flow_id")
    assert frame.loc["ok", "completion_rate_pct"] == 40.0
    assert pd.isna(frame.loc["rate", "completion_rate_pct"])
    assert pd.isna(frame.loc["over", "completions"]) and frame.loc["over", "views"] == 5
    assert pd.isna(frame.loc["neg", "views"]) and pd.isna(
        frame.loc["neg", "avg_time_to_complete_s"]
    )
    assert pd.isna(frame.loc["mismatch", "completion_rate_pct"])
    assert frame.loc["rounded", "completion_rate_pct"] == 33.3
    assert frame.loc["zero", "completion_rate_pct"] == 0
    flagged = {(f.row_key, f.field) for f in result.findings}
    assert flagged == {
        ("rate", "completion_rate_pct"),
        ("over", "completions"),
        ("neg", "views"),
        ("neg", "avg_time_to_complete_s"),
        ("mismatch", "completion_rate_pct"),
    }
    # Totals never include an impossible value.
    assert result.frame["completions"].sum() == 4 + 4 + 0 + 2 + 1 + 0


def test_task_completion_checks():
    result = to_frame(
        "task-completion",
        [
            {
                "userId": "u1",
                "taskListId": "t",
                "completedTasks": 6,
                "totalTasks": 5,
                "completionRate": 120,
            },
            {
                "userId": "u2",
                "taskListId": "t",
                "completedTasks": 1,
                "totalTasks": 4,
                "completionRate": 25,
            },
            {
                "userId": "u2",
                "taskListId": "t",
                "completedTasks": 1,
                "totalTasks": 4,
                "completionRate": 25,
            },
        ],
    )
    frame = result.frame
    assert pd.isna(frame["completed_tasks"].iloc[0]) and pd.isna(
        frame["completion_rate_pct"].iloc[0]
    )
    keys = [(f.row_key, f.problem) for f in result.findings]
    assert ("u1/t", "completed_tasks > total_tasks (5)") in keys
    assert ("u2/t", "duplicate id") in keys


def test_segments_rules_problems_and_non_objects():
    result = to_frame(
        "segments",
        [
            {"segmentId": "s1", "rules": [{"attribute": "role", "operator": "like", "value": 1}]},
            {"segmentId": "s2", "rules": "role=admin", "userCount": -1},
            None,
            "junk",
        ],
    )
    assert len(result.frame) == 2
    assert result.frame["rules"].iloc[1] is None and pd.isna(result.frame["user_count"].iloc[1])
    problems = [f.problem for f in result.findings]
    assert "rule 1 uses unknown operator 'like'" in problems
    assert problems.count("record is not an object") == 2


def test_popular_flows_rank_follows_report_order():
    result = to_frame("popular-flows", [{"flowId": "b", "views": 9}, {"flowId": "a", "views": 3}])
    assert result.frame["rank"].tolist() == [1, 2]
    assert result.frame.columns[0] == "rank"


def test_findings_frame():
    frame = findings_frame([Finding("flows", "f1", "views", "-1", "negative value")])
    assert list(frame.columns) == list(frames.FINDING_COLUMNS)
    assert frame.iloc[0].tolist() == ["flows", "f1", "views", "-1", "negative value"]
    assert findings_frame([]).empty and list(findings_frame([]).columns) == list(
        frames.FINDING_COLUMNS
    )


def test_trend_frame_prepends_window_columns():
    windows = split_range(DateRange(date(2026, 11, 1), date(2026, 11, 10)), "week")
    parts = [
        (windows[0], to_frame("flows", [{"flowId": "f1", "views": 1}])),
        (windows[1], to_frame("flows", [])),
        (windows[2], to_frame("flows", [{"flowId": "f1", "views": 2}, {"flowId": "f2"}]).frame),
    ]
    trend = trend_frame(parts, "flows")
    assert list(trend.columns[:4]) == ["window_start", "window_end", "window_label", "partial"]
    assert signature(trend).endswith(EXPECTED["flows"])
    assert trend["window_start"].tolist() == [
        date(2026, 11, 1),
        date(2026, 11, 9),
        date(2026, 11, 9),
    ]
    assert trend["partial"].tolist() == [True, True, True]
    assert trend["window_label"].tolist()[0] == "2026-W44 (partial)"
    empty = trend_frame([], "flow-trend")
    assert list(empty.columns) == frames.columns("flow-trend") and empty.empty


def test_content_trend_keeps_categoricals():
    windows = split_range(DateRange(date(2026, 11, 1), date(2026, 11, 2)), "day")
    parts = [
        (windows[0], to_frame("self-help", [{"contentId": "a", "contentType": "Article"}])),
        (windows[1], to_frame("self-help", [{"contentId": "b", "contentType": "Video"}])),
    ]
    trend = trend_frame(parts, "self-help-trend")
    assert list(trend["content_type"].cat.categories) == list(frames.CONTENT_TYPES)


def test_unknown_dataset_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown dataset"):
        to_frame("nope", [])


def test_two_hundred_thousand_records_are_fast():
    records = [
        {
            "userId": f"u{i}",
            "userEmail": f"u{i}@x.example",
            "taskListId": f"t{i % 4}",
            "taskListName": "Onboarding",
            "completedTasks": i % 5,
            "totalTasks": 4 + (i % 5 == 4),
            "completionRate": round(100 * (i % 5) / (4 + (i % 5 == 4)), 1),
            "lastActivityAt": "2026-11-20T10:00:00Z",
        }
        for i in range(200_000)
    ]
    result = to_frame("task-completion", records)  # speed: bench/bench_frames.py
    assert len(result.frame) == 200_000 and result.findings == []


# ----------------------------------------------------------------------------- property

JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=12)
    | st.sampled_from(["12", "2026-11-27T10:00:00Z", "Flow", "-1", "1e400"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def records(draw, dataset: str):
    sources = [c.source for c in registry.get(dataset).columns]
    keys = st.sampled_from([*sources, "extra"])
    record = st.dictionaries(keys, JSONISH, max_size=len(sources) + 1)
    return draw(st.lists(st.one_of(record, JSONISH), max_size=8))


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), dataset=st.sampled_from(list(EXPECTED)))
def test_any_jsonish_records_give_the_fixed_columns_and_never_raise(data, dataset):
    items = data.draw(records(dataset))
    result = to_frame(dataset, items)
    assert signature(result.frame) == EXPECTED[dataset]
    assert len(result.frame) == sum(isinstance(r, dict) for r in items)
    frame = result.frame
    for column in frames.NON_NEGATIVE:
        if column in frame:
            assert not (frame[column] < 0).fillna(False).any()
    if "completion_rate_pct" in frame:
        rate = frame["completion_rate_pct"]
        assert not ((rate < 0) | (rate > 100)).fillna(False).any()
    assert all(isinstance(f.value, str) for f in result.findings)


def test_out_of_range_and_infinite_numbers_are_reported():
    result = to_frame(
        "flows",
        [{"flowId": "a", "views": 10**30, "avgTimeToComplete": float("inf")}],
    )
    assert pd.isna(result.frame["views"].iloc[0])
    assert pd.isna(result.frame["avg_time_to_complete_s"].iloc[0])
    assert {f.field for f in result.findings} == {"views", "avg_time_to_complete_s"}


def test_findings_are_capped_per_field_with_a_summary():
    records = [
        {"flowId": f"f{i}", "views": "lots"} for i in range(frames.MAX_FINDINGS_PER_FIELD + 30)
    ]
    result = to_frame("flows", records)
    assert len(result.findings) == frames.MAX_FINDINGS_PER_FIELD + 1
    summary = result.findings[-1]
    assert summary.field == "views" and summary.value == "30"
    assert summary.problem == "30 more rows with problems in this field (not listed)"
    assert result.frame["views"].isna().all()


def test_out_of_range_timestamps_are_reported_not_raised():
    result = to_frame(
        "end-users",
        [
            {"userId": "a", "createdAt": "-1"},
            {"userId": "b", "createdAt": "0001-01-01T00:00:00Z"},
            {"userId": "c", "createdAt": "2026-11-27T10:00:00+02:00"},
        ],
    )
    assert result.frame["created_at"].isna().tolist() == [True, True, False]
    assert result.frame["created_at"].iloc[2] == pd.Timestamp("2026-11-27T08:00:00Z")
    assert [f.row_key for f in result.findings] == ["a", "b"]


# ------------------------------------------------------------------------------- hostile API text

_INVISIBLE_CHARS = [chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))] + [
    "\u061c", "\u200e", "\u200f", *(chr(c) for c in range(0x202A, 0x202F)),
    *(chr(c) for c in range(0x2066, 0x206A)), "\u2028", "\u2029"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(), st.text(
    alphabet=st.one_of(st.sampled_from(_INVISIBLE_CHARS), st.characters()), max_size=30)),
    min_size=1, max_size=20))
def test_names_from_the_api_are_cleaned_and_never_missing(names: list) -> None:
    records = [{"flowId": f"f-{i}", "flowName": name, "views": 1}
               for i, name in enumerate(names)]
    frame = frames.to_frame("flows", records).frame
    for flow_id, shown, sent in zip(frame["flow_id"], frame["flow_name"], names, strict=True):
        assert isinstance(shown, str) and shown.strip()  # never NA, never blank
        assert not any(char in shown for char in _INVISIBLE_CHARS)
        if sent is None or (isinstance(sent, str) and not frames.clean_text(sent).strip()):
            assert shown == flow_id  # a missing or blank name is shown as the id
        elif isinstance(sent, int):
            assert shown == str(sent)


def test_hostile_names_from_a_hostile_server_render_as_plain_text() -> None:
    from hostile_api import FLOW_NAMES, NUL_NAME, RTL_NAME, start_hostile_api

    from whatfix_data.client import WhatfixClient
    from whatfix_data.config import load_settings
    from whatfix_data.datasets import load_flows
    from whatfix_data.windows import DateRange

    api = start_hostile_api()
    try:
        with WhatfixClient(load_settings(env=api.env())) as client:
            flows = load_flows(client, DateRange(date(2026, 11, 1), date(2026, 11, 20))).frame
    finally:
        api.stop()
    shown = dict(zip(flows["flow_id"], flows["flow_name"], strict=True))
    assert set(shown) == set(FLOW_NAMES)
    assert shown["flow-nul"] == NUL_NAME.replace("\x00", "")
    assert shown["flow-rtl"] == RTL_NAME.replace("\u202e", "")
    assert shown["flow-null"] == "flow-null" and shown["flow-number"] == "42"


TREND_BASES = sorted({spec.trend_base for spec in registry.SPECS if spec.is_trend})


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), dataset=st.sampled_from(TREND_BASES),
       days=st.integers(min_value=1, max_value=5))
def test_a_trend_typed_in_one_pass_equals_one_frame_per_window(data, dataset, days):
    """`window_records_frame` (how trends are built) is `to_frame` per window + `trend_frame`:
    the same rows, dtypes and findings, ids checked for duplicates within a window only."""
    windows = split_range(DateRange(date(2026, 11, 1), date(2026, 11, days)), "day")
    # Window records often repeat ids across windows (the same flow every day) and within one.
    per_window = [data.draw(records(dataset)) for _ in windows]
    combined = frames.window_records_frame(dataset, list(zip(windows, per_window, strict=True)))
    separate = [to_frame(dataset, items) for items in per_window]
    expected = trend_frame(list(zip(windows, separate, strict=True)), dataset)
    pd.testing.assert_frame_equal(combined.frame, expected)

    def problems(findings):
        return sorted((f.dataset, f.field, f.value, f.problem) for f in findings)

    assert problems(combined.findings) == problems(
        [finding for result in separate for finding in result.findings])


def test_a_lone_surrogate_escaped_in_json_becomes_the_replacement_character():
    """JSON allows "\\ud800" (half a UTF-16 pair): such text is stored, not a crash."""
    import json

    records = json.loads('[{"flowId": "f\\ud800", "flowName": "\\udfff Onboarding", "views": 1}]')
    frame = to_frame("flows", records).frame
    assert frame["flow_id"].tolist() == ["f\ufffd"]
    assert frame["flow_name"].tolist() == ["\ufffd Onboarding"]
