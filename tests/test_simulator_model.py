"""The generated data of the built-in server: deterministic, realistic, consistent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import numpy as np
import pytest
import requests
from support import FIXED_TODAY, sim_headers

from whatfix_data.simulator import SimulatorConfig, start_background
from whatfix_data.simulator.config import account_profiles
from whatfix_data.simulator.generate import CONTENT_TYPES, HISTORY_DAYS, generate_account

TIMEOUT = 15


def _profile(seed: int = 7, users: int = 400, index: int = 0):
    return account_profiles(SimulatorConfig(seed=seed, users=users, today=FIXED_TODAY))[index]


def _get(server, path: str, **params):
    account = server.accounts[0]
    response = requests.get(f"{server.base_url}/{account.account_id}/{path}", params=params,
                            headers=sim_headers(account), timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def _all(server, path: str, **params) -> list[dict]:
    rows, page = [], 1
    while True:
        payload = _get(server, path, page=page, pageSize=100, **params)
        rows += payload["data"]
        if page >= payload["pagination"]["totalPages"]:
            return rows
        page += 1


# ----- determinism -----------------------------------------------------------------------------
def test_same_seed_same_data_other_seed_other_data():
    first, again = generate_account(_profile(), FIXED_TODAY), generate_account(_profile(),
                                                                                FIXED_TODAY)
    other = generate_account(_profile(seed=8), FIXED_TODAY)
    for name in ("ud_day", "ud_user", "ud_views", "te_key", "cum_views"):
        assert np.array_equal(getattr(first.activity, name), getattr(again.activity, name))
    assert first.content.ids == again.content.ids
    assert not np.array_equal(first.activity.cum_views, other.activity.cum_views)


def test_history_ends_today():
    data = generate_account(_profile(), FIXED_TODAY)
    assert data.start == FIXED_TODAY - timedelta(days=HISTORY_DAYS - 1)
    assert data.activity.ud_day.max() == HISTORY_DAYS - 1  # someone is active today


def test_server_is_ready_when_start_background_returns():
    # Start time is a benchmark figure (bench/bench_simulator.py), not a timed test.
    server = start_background(SimulatorConfig(users=2000, today=FIXED_TODAY))
    try:
        assert _get(server, "segments")["data"]
    finally:
        server.stop()


# ----- realism ---------------------------------------------------------------------------------
def test_weekday_rhythm_and_growth():
    data = generate_account(_profile(users=2000), FIXED_TODAY)
    per_day = np.bincount(data.activity.ud_day, minlength=data.days)
    weekday = (data.start.weekday() + np.arange(data.days)) % 7
    assert per_day[weekday < 5].mean() > 3 * per_day[weekday >= 5].mean()
    assert per_day[-90:].mean() > 1.3 * per_day[:90].mean()


def test_content_types_statuses_and_fields(sim_server):
    content = _all(sim_server, "content")
    assert {c["type"] for c in content} == set(CONTENT_TYPES)
    assert {c["status"] for c in content} == {"Draft", "Published", "Archived"}
    assert 100 <= len(content) <= 200
    assert sum(c["type"] == "Flow" for c in content) == 40
    for item in content:
        assert item["createdAt"] <= item["modifiedAt"] <= f"{FIXED_TODAY}T23:59:59Z"
        assert item["targetUrl"].startswith("https://")
        if item["status"] == "Draft":
            assert item["viewCount"] == 0


def test_archived_content_has_no_views_after_archiving(sim_server):
    content = {c["contentId"]: c for c in _all(sim_server, "content", type="Article")}
    archived = [c for c in content.values() if c["status"] == "Archived"]
    assert archived
    for item in archived:
        after = date.fromisoformat(item["modifiedAt"][:10]) + timedelta(days=1)
        rows = _get(sim_server, "analytics/self-help", startDate=after.isoformat(),
                    endDate=FIXED_TODAY.isoformat())["data"]
        assert all(r["views"] == 0 for r in rows if r["contentId"] == item["contentId"])


def test_flows_behave_differently(sim_server):
    year = {"startDate": (FIXED_TODAY - timedelta(days=364)).isoformat(),
            "endDate": FIXED_TODAY.isoformat()}
    flows = _get(sim_server, "analytics/flows", **year)["data"]
    views = sorted((f["views"] for f in flows), reverse=True)
    assert views[0] > 5 * views[len(views) // 2]
    rates = [f["completionRate"] for f in flows if f["views"] > 50]
    assert min(rates) < 20 and max(rates) > 75


def test_one_flow_changes_completion_rate_at_its_modified_date(sim_server, demo_account):
    data = sim_server.account_data(demo_account.account_id)
    changed = data.data.content.changed_flow
    flow_id = data.data.content.ids[changed]
    item = next(c for c in _all(sim_server, "content", type="Flow") if c["contentId"] == flow_id)
    modified = date.fromisoformat(item["modifiedAt"][:10])

    def rate(start: date, end: date) -> float:
        rows = _get(sim_server, "analytics/flows", startDate=start.isoformat(),
                    endDate=end.isoformat())["data"]
        return next(r["completionRate"] for r in rows if r["flowId"] == flow_id)

    before = rate(modified - timedelta(days=120), modified - timedelta(days=1))
    after = rate(modified, FIXED_TODAY)
    assert after - before > 25


def test_users_have_attributes_and_consistent_dates(sim_server):
    users = _all(sim_server, "end-users")[:300]
    everything = {"startDate": "2020-01-01", "endDate": FIXED_TODAY.isoformat()}
    active = {u["userId"]: u for u in _all(sim_server, "analytics/end-users", **everything)}
    for user in users:
        assert set(user["attributes"]) >= {"role", "department", "region", "plan", "locale",
                                           "seats", "beta", "country"}
        assert isinstance(user["attributes"]["seats"], int)
        assert isinstance(user["attributes"]["beta"], bool)
        assert user["createdAt"] <= user["lastSeenAt"]
        if user["userId"] in active:
            assert active[user["userId"]]["lastActive"] == user["lastSeenAt"]
        else:
            assert user["lastSeenAt"] == user["createdAt"]
    assert len(active) > len(users) / 2


def test_task_lists_have_complete_and_partial_progress(sim_server):
    rows = _all(sim_server, "analytics/task-completion", startDate="2025-01-01",
                endDate=FIXED_TODAY.isoformat())
    lists = {r["taskListName"] for r in rows}
    assert len(lists) >= 4
    assert any(r["completedTasks"] == r["totalTasks"] for r in rows)
    assert any(0 < r["completedTasks"] < r["totalTasks"] for r in rows)
    assert any(r["completedTasks"] == 0 for r in rows)


def test_secondary_account_is_smaller_and_different(sim_server):
    profiles = account_profiles(SimulatorConfig(users=2000, today=FIXED_TODAY))
    assert [p.users for p in profiles] == [2000, 400, 0]
    acme = sim_server.account_data("acme-demo").data
    globex = sim_server.account_data("globex-demo").data
    assert set(acme.content.ids).isdisjoint(globex.content.ids)
    assert len(set(globex.content.types)) == len(CONTENT_TYPES)


# ----- concurrency -----------------------------------------------------------------------------
def test_concurrent_reads_and_upserts(make_sim_server):
    server = make_sim_server(users=300)
    account = server.accounts[0]
    headers = sim_headers(account)

    def put(n: int) -> int:
        url = f"{server.base_url}/{account.account_id}/end-users/crm-{n}"
        body = {"email": f"user{n}@acme.example", "attributes": {"beta": True}}
        return requests.put(url, json=body, headers=headers, timeout=TIMEOUT).status_code

    def read(n: int) -> int:
        path = ("analytics/end-users", "segments", "analytics/flows")[n % 3]
        url = f"{server.base_url}/{account.account_id}/{path}"
        return requests.get(url, headers=headers, timeout=TIMEOUT).status_code

    before = next(s["userCount"] for s in _get(server, "segments", pageSize=100)["data"]
                  if s["name"] == "Beta testers")
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(put, range(40))) + list(pool.map(read, range(40)))
    assert statuses.count(201) == 40 and statuses.count(200) == 40
    assert _get(server, "end-users")["pagination"]["totalCount"] == 340
    after = next(s["userCount"] for s in _get(server, "segments", pageSize=100)["data"]
                 if s["name"] == "Beta testers")
    assert after == before + 40


# ----- segment counts use the one rule implementation ------------------------------------------
def test_user_count_uses_the_segment_rule_semantics(make_sim_server):
    """Case-insensitive text and numeric strings, as docs/SEGMENT_RULES.md says."""
    server = make_sim_server(users=300)
    account = server.accounts[0]
    before = {s["name"]: s["userCount"] for s in _get(server, "segments", pageSize=100)["data"]}
    body = {"email": "case@acme.example", "attributes": {
        "Region": " emea ", "department": "SALES", "seats": "250", "beta": "TRUE"}}
    url = f"{server.base_url}/{account.account_id}/end-users/crm-case"
    assert requests.put(url, json=body, headers=sim_headers(account), timeout=TIMEOUT).ok
    after = {s["name"]: s["userCount"] for s in _get(server, "segments", pageSize=100)["data"]}
    for name in ("EMEA Sales", "Large teams", "Beta testers"):
        assert after[name] == before[name] + 1, name


@pytest.mark.parametrize("settings", [{"users": -1}, {"fault_rate": 1.5}, {"latency_ms": -5},
                                      {"today": date(2, 6, 1)}])
def test_config_rejects_impossible_settings(settings):
    with pytest.raises(ValueError):
        SimulatorConfig(**settings)
