"""Property tests: every endpoint derives from one per-day, per-user truth (issue 2, point 5).

Several seeds, small user counts, random date ranges; everything over real HTTP.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import sim_headers

from whatfix_data import segments as segment_rules
from whatfix_data.simulator import SimServer, SimulatorConfig, start_background

# One worker runs this module: its module-scoped fixtures (servers, loaded data, built packs)
# are then made once, not once per xdist worker (tests/run_all.sh: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_simulator_invariants")

TODAY = date(2026, 11, 27)
SEEDS = (3, 7, 19)
USERS = 180
HISTORY_START = TODAY - timedelta(days=729)
TIMEOUT = 15
EXAMPLES = 25
RATE_TOLERANCE = 0.006  # rates are rounded to 2 decimals
PROPERTY_SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def servers() -> Iterator[list[SimServer]]:
    """One server per seed (module scope: the properties only read)."""
    started = [start_background(SimulatorConfig(seed=s, users=USERS, today=TODAY)) for s in SEEDS]
    try:
        yield started
    finally:
        for server in started:
            server.stop()


def _get(server: SimServer, path: str, account_index: int = 0, **params) -> requests.Response:
    account = server.accounts[account_index]
    response = requests.get(f"{server.base_url}/{account.account_id}/{path}", params=params,
                            headers=sim_headers(account), timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response


def _all(server: SimServer, path: str, **params) -> list[dict]:
    rows, page = [], 1
    while True:
        payload = _get(server, path, page=page, pageSize=100, **params).json()
        rows += payload["data"]
        if page >= payload["pagination"]["totalPages"]:
            assert len(rows) == payload["pagination"]["totalCount"]
            return rows
        page += 1


def _span(start: date, end: date) -> dict[str, str]:
    return {"startDate": start.isoformat(), "endDate": end.isoformat()}


@st.composite
def date_ranges(draw) -> tuple[date, date]:
    """Ranges mostly inside the history, sometimes overlapping its edges."""
    start = draw(st.dates(HISTORY_START - timedelta(days=20), TODAY + timedelta(days=3)))
    length = draw(st.integers(0, 400))
    return start, min(start + timedelta(days=length), TODAY + timedelta(days=10))


@st.composite
def split_ranges(draw) -> tuple[date, date, date]:
    """A range and a split day: [start, split] and [split + 1, end]."""
    start, end = draw(date_ranges())
    if start == end:
        end = start + timedelta(days=1)
    split = start + timedelta(days=draw(st.integers(0, (end - start).days - 1)))
    return start, split, end


seed_index = st.integers(0, len(SEEDS) - 1)


def _by(rows: list[dict], key: str) -> dict[str, dict]:
    return {r[key]: r for r in rows}


@PROPERTY_SETTINGS
@given(seed_index, split_ranges())
def test_flow_and_self_help_counts_add_up_over_any_split(servers, index, ranges):
    server = servers[index]
    start, split, end = ranges
    for path, key, fields in (("analytics/flows", "flowId", ("views", "completions")),
                              ("analytics/self-help", "contentId", ("views",))):
        whole = _by(_get(server, path, **_span(start, end)).json()["data"], key)
        left = _by(_get(server, path, **_span(start, split)).json()["data"], key)
        right = _by(_get(server, path, **_span(split + timedelta(days=1), end)).json()["data"],
                    key)
        for item, row in whole.items():
            for field in fields:
                parts = left.get(item, {}).get(field, 0) + right.get(item, {}).get(field, 0)
                assert row[field] == parts, (path, item, field)


@PROPERTY_SETTINGS
@given(seed_index, split_ranges())
def test_engagement_adds_up_over_any_split(servers, index, ranges):
    server = servers[index]
    start, split, end = ranges
    whole = _by(_all(server, "analytics/end-users", **_span(start, end)), "userId")
    left = _by(_all(server, "analytics/end-users", **_span(start, split)), "userId")
    right = _by(_all(server, "analytics/end-users",
                     **_span(split + timedelta(days=1), end)), "userId")
    assert set(whole) == set(left) | set(right)
    for user, row in whole.items():
        for field in ("contentViewed", "flowsCompleted"):
            assert row[field] == left.get(user, {}).get(field, 0) + right.get(user, {}).get(
                field, 0)
        last = max(r[user]["lastActive"] for r in (left, right) if user in r)
        assert row["lastActive"] == last


@PROPERTY_SETTINGS
@given(seed_index, date_ranges())
def test_completion_rates(servers, index, dates):
    server = servers[index]
    for row in _get(server, "analytics/flows", **_span(*dates)).json()["data"]:
        assert 0 <= row["completions"] <= row["views"]
        expected = row["completions"] / row["views"] * 100 if row["views"] else 0.0
        assert abs(row["completionRate"] - expected) <= RATE_TOLERANCE
        assert 0 <= row["completionRate"] <= 100
        assert row["avgTimeToComplete"] >= 0
        assert (row["avgTimeToComplete"] > 0) == (row["completions"] > 0)


@PROPERTY_SETTINGS
@given(seed_index, date_ranges())
def test_popular_flows_rank_the_flows_of_the_range(servers, index, dates):
    server = servers[index]
    flows = _get(server, "analytics/flows", **_span(*dates)).json()["data"]
    popular = _get(server, "reports/summary/mostPopularFlows", **_span(*dates)).json()["data"]
    assert sorted(popular, key=lambda r: r["flowId"]) == sorted(flows, key=lambda r: r["flowId"])
    views = [r["views"] for r in popular]
    assert views == sorted(views, reverse=True)
    text = _get(server, "reports/summary/mostPopularFlows", format="csv", **_span(*dates)).text
    table = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["rank"]) for r in table] == list(range(1, len(popular) + 1))
    for line, row in zip(table, popular, strict=True):
        assert line["flowId"] == row["flowId"] and line["flowName"] == row["flowName"]
        assert int(line["views"]) == row["views"]
        assert int(line["completions"]) == row["completions"]
        assert float(line["completionRate"]) == row["completionRate"]
        assert float(line["avgTimeToComplete"]) == row["avgTimeToComplete"]


@PROPERTY_SETTINGS
@given(seed_index, date_ranges())
def test_engagement_agrees_with_flows_and_content(servers, index, dates):
    server = servers[index]
    start, end = dates
    users = _all(server, "analytics/end-users", **_span(start, end))
    flows = _get(server, "analytics/flows", **_span(start, end)).json()["data"]
    help_rows = _get(server, "analytics/self-help", **_span(start, end)).json()["data"]
    assert sum(u["flowsCompleted"] for u in users) == sum(f["completions"] for f in flows)
    # contentViewed counts every content view: flows and self-help are a part of it
    viewed = sum(u["contentViewed"] for u in users)
    assert viewed >= sum(f["views"] for f in flows) + sum(h["views"] for h in help_rows)
    for user in users:
        assert user["contentViewed"] > 0  # only users active in the range are listed
        assert start.isoformat() <= user["lastActive"][:10] <= end.isoformat()


@PROPERTY_SETTINGS
@given(seed_index, date_ranges(), st.integers(0, 10_000))
def test_last_active_is_the_last_active_day(servers, index, dates, pick):
    server = servers[index]
    start, end = dates
    users = _all(server, "analytics/end-users", **_span(start, end))
    if not users:
        return
    user = users[pick % len(users)]
    last = date.fromisoformat(user["lastActive"][:10])
    on_day = _by(_all(server, "analytics/end-users", **_span(last, last)), "userId")
    assert on_day[user["userId"]]["lastActive"] == user["lastActive"]
    if last < end:
        after = _by(_all(server, "analytics/end-users", **_span(last + timedelta(days=1), end)),
                    "userId")
        assert user["userId"] not in after


@PROPERTY_SETTINGS
@given(seed_index, date_ranges())
def test_task_completion(servers, index, dates):
    server = servers[index]
    start, end = dates
    rows = _all(server, "analytics/task-completion", **_span(start, end))
    later = _by_pair(_all(server, "analytics/task-completion", **_span(start, max(start, TODAY))))
    for row in rows:
        assert 0 <= row["completedTasks"] <= row["totalTasks"]
        expected = row["completedTasks"] / row["totalTasks"] * 100
        assert abs(row["completionRate"] - expected) <= RATE_TOLERANCE
        assert start.isoformat() <= row["lastActivityAt"][:10] <= end.isoformat()
        if end <= TODAY:  # progress as of a later end can only grow
            assert later[(row["userId"], row["taskListId"])]["completedTasks"] >= row[
                "completedTasks"]


def _by_pair(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {(r["userId"], r["taskListId"]): r for r in rows}


@pytest.mark.parametrize("index", range(len(SEEDS)))
@pytest.mark.parametrize("account_index", [0, 1])
def test_segment_user_count_is_the_number_of_matching_users(servers, index, account_index):
    server = servers[index]
    account = server.accounts[account_index]
    users, page = [], 1
    while True:
        payload = _get(server, "end-users", account_index, page=page, pageSize=100).json()
        users += payload["data"]
        if page >= payload["pagination"]["totalPages"]:
            break
        page += 1
    segments = _get(server, "segments", account_index, pageSize=100).json()["data"]
    operators = {r["operator"] for s in segments for r in s["rules"]}
    assert operators == {"equals", "notEquals", "contains", "startsWith", "endsWith", "in",
                         "notIn"}, account.account_id
    for segment in segments:
        expected = sum(segment_rules.matches(u["attributes"], segment["rules"]) for u in users)
        assert segment["userCount"] == expected, segment["name"]
        assert 0 < segment["userCount"] < len(users)


@PROPERTY_SETTINGS
@given(seed_index, date_ranges())
def test_view_count_is_at_least_the_views_of_any_range(servers, index, dates):
    server = servers[index]
    content = _by(_all(server, "content"), "contentId")
    for row in _get(server, "analytics/flows", **_span(*dates)).json()["data"]:
        assert content[row["flowId"]]["viewCount"] >= row["views"]
    for row in _get(server, "analytics/self-help", **_span(*dates)).json()["data"]:
        assert content[row["contentId"]]["viewCount"] >= row["views"]


@pytest.mark.parametrize("index", range(len(SEEDS)))
def test_view_count_is_all_time_views(servers, index):
    server = servers[index]
    content = _by(_all(server, "content"), "contentId")
    everything = _span(HISTORY_START - timedelta(days=400), TODAY)
    for row in _get(server, "analytics/flows", **everything).json()["data"]:
        assert content[row["flowId"]]["viewCount"] == row["views"]
    users = _all(server, "analytics/end-users", **everything)
    assert sum(u["contentViewed"] for u in users) == sum(c["viewCount"] for c in content.values())
