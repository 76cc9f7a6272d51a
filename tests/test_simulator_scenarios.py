"""Response scenarios and faults of the built-in server: what a misbehaving API looks like."""

from __future__ import annotations

import json
import time

import pytest
import requests
from support import sim_headers

TIMEOUT = 15


def _get(server, path: str, account=None, **params) -> requests.Response:
    account = account or server.accounts[0]
    return requests.get(f"{server.base_url}/{account.account_id}/{path}", params=params,
                        headers=sim_headers(account), timeout=TIMEOUT)


def _set(server, scenario, operation=None, account=None) -> None:
    body = {"scenario": scenario, "operation": operation, "account": account}
    response = requests.post(f"{server.root_url}/__sim__/scenario", json=body, timeout=TIMEOUT)
    assert response.status_code == 200


@pytest.fixture
def server(make_sim_server):
    """A private server per test: scenarios are global state."""
    return make_sim_server(users=250)


def test_non_json(server):
    _set(server, "non_json")
    response = _get(server, "content")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.lstrip().startswith("<!DOCTYPE html>")


def test_truncated_json(server):
    full = _get(server, "segments").content
    _set(server, "truncated_json", "listSegments")
    response = _get(server, "segments")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert full.startswith(response.content) and len(response.content) < len(full)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_missing_fields(server):
    _set(server, "missing_fields", "listEndUsers")
    rows = _get(server, "end-users").json()["data"]
    full_fields = {"userId", "email", "name", "attributes", "createdAt", "lastSeenAt"}
    assert any(set(r) < full_fields for r in rows)
    assert all("userId" in r for r in rows)


def test_extra_fields(server):
    _set(server, "extra_fields")
    rows = _get(server, "analytics/flows").json()["data"]
    assert rows and all("internalScore" in r and "_links" in r for r in rows)


def test_wrong_types(server):
    _set(server, "wrong_types", "getFlowAnalytics")
    rows = _get(server, "analytics/flows").json()["data"]
    values = [r["views"] for r in rows]
    assert all(isinstance(v, str) for v in values)
    assert "n/a" in values or any(r.get("completions") == "n/a" for r in rows)
    assert any(v.isdigit() for v in values)


def test_impossible_values(server):
    _set(server, "impossible_values")
    flows = _get(server, "analytics/flows").json()["data"]
    assert any(r["completionRate"] > 100 for r in flows)
    assert any(r["completions"] > r["views"] for r in flows)
    assert any(r["views"] < 0 for r in flows)
    tasks = _get(server, "analytics/task-completion").json()["data"]
    assert any(r["completedTasks"] > r["totalTasks"] for r in tasks)


def test_total_drift_shifts_records_after_page_one(server):
    _set(server, "total_drift", "listEndUsers")
    first = _get(server, "end-users", page=1, pageSize=10).json()
    second = _get(server, "end-users", page=2, pageSize=10).json()
    assert second["pagination"]["totalCount"] == first["pagination"]["totalCount"] + 1
    assert second["data"][0] == first["data"][-1]  # every record moved back by one
    again = _get(server, "end-users", page=1, pageSize=10).json()
    assert again["data"][0]["userId"].startswith("sim-drift-")


def test_scenario_scope_by_operation_and_account(server):
    acme, globex, _ = server.accounts
    _set(server, "non_json", operation="listContent", account=globex.account_id)
    assert _get(server, "content", account=acme).headers["Content-Type"] == "application/json"
    assert _get(server, "segments", account=globex).headers["Content-Type"] == "application/json"
    assert _get(server, "content", account=globex).headers["Content-Type"].startswith("text/html")


def test_scenarios_never_change_data_and_clear(server):
    before = _get(server, "analytics/end-users", pageSize=50).json()
    for name in ("missing_fields", "extra_fields", "wrong_types", "impossible_values",
                 "total_drift"):
        server.set_scenario(name)
        _get(server, "analytics/end-users", pageSize=50)
        _get(server, "analytics/end-users", page=2, pageSize=50)
        _set(server, None)
        assert _get(server, "analytics/end-users", pageSize=50).json() == before, name
    server.set_scenario("wrong_types")
    server.reset()
    assert _get(server, "analytics/end-users", pageSize=50).json() == before


def test_scenarios_apply_to_the_csv_report(server):
    _set(server, "impossible_values", "getMostPopularFlows")
    text = _get(server, "reports/summary/mostPopularFlows", format="csv").text
    assert ",130.0," in text


# ----- faults ----------------------------------------------------------------------------------
def _fetch_with_retries(url: str, headers: dict, log: list) -> requests.Response:
    for _ in range(40):
        try:
            response = requests.get(url, headers=headers, timeout=10)
        except requests.exceptions.RequestException as exc:
            log.append(type(exc).__name__)
            continue
        if response.status_code == 200:
            try:
                response.json()
            except ValueError:
                log.append("broken body")
                continue
            return response
        log.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["Retry-After"] == "1"
        assert response.json()["code"] == response.status_code
    raise AssertionError("no success after 40 attempts")


def test_fault_mode_fails_a_share_and_never_changes_data(make_sim_server):
    clean = make_sim_server(users=200)
    faulty = make_sim_server(users=200, fault_rate=0.4)
    account = clean.accounts[0]
    log: list = []
    paths = ["analytics/flows", "segments", "end-users", "analytics/self-help"] * 6
    for path in paths:
        expected = _get(clean, path).json()
        url = f"{faulty.base_url}/{account.account_id}/{path}"
        assert _fetch_with_retries(url, sim_headers(account), log).json() == expected
    stats = faulty.stats()
    assert 0.15 < len(log) / stats["requests"] < 0.65
    assert set(stats["faults"]) & {"error_500", "error_502", "error_503", "rate_limited"}
    assert sum(stats["faults"].values()) >= len(log)


def test_dropped_connection_is_a_protocol_error(make_sim_server):
    server = make_sim_server(users=100, fault_rate=1.0)
    server.state.control.fault_kinds = ("dropped",)
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        _get(server, "end-users")
    assert server.stats()["faults"] == {"dropped": 1}


def test_latency_is_the_time_api_responses_take(make_sim_server):
    server = make_sim_server(users=100, latency_ms=1500)
    for _ in range(2):  # the page's own handling is part of the 1.5 s, not added to it
        started = time.monotonic()
        assert _get(server, "end-users", pageSize=100).status_code == 200
        assert 1.5 <= time.monotonic() - started < 2.5
    started = time.monotonic()
    requests.get(f"{server.root_url}/__sim__/stats", timeout=TIMEOUT)
    assert time.monotonic() - started < 1.0  # controls are never delayed


# ----- bounds scenarios and the rate limit (issue 12) ----------------------------------------


@pytest.mark.parametrize(("scenario", "claimed"), [("huge_total", 10_000_000),
                                                   ("negative_total", -42)])
def test_claimed_totals_change_only_the_pagination(server, scenario, claimed):
    honest = _get(server, "end-users", page=2, pageSize=100).json()
    _set(server, scenario, "listEndUsers")
    page = _get(server, "end-users", page=2, pageSize=100).json()
    assert page["pagination"]["totalCount"] == claimed
    assert page["pagination"]["totalPages"] == max(-(-claimed // 100), 0)
    assert page["data"] == honest["data"]
    assert _get(server, "segments").json() == _get(server, "segments").json()  # other ops as is


def test_ends_early_empties_every_page_after_the_first(server):
    _set(server, "ends_early", "listEndUsers")
    first = _get(server, "end-users", page=1, pageSize=100).json()
    assert len(first["data"]) == 100 and first["pagination"]["totalCount"] == 250
    for page in (2, 3):
        later = _get(server, "end-users", page=page, pageSize=100).json()
        assert later["data"] == [] and later["pagination"]["totalCount"] == 250


def test_never_answers_holds_every_request_but_page_one(server):
    _set(server, "never_answers")
    assert _get(server, "end-users", page=1, pageSize=10).status_code == 200
    for path, params in (("end-users", {"page": 2, "pageSize": 10}), ("analytics/flows", {})):
        started = time.monotonic()
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(f"{server.base_url}/{server.accounts[0].account_id}/{path}",
                         params=params, headers=sim_headers(server.accounts[0]), timeout=0.5)
        assert time.monotonic() - started < 3
    assert server.stats()["byStatus"].get("0") == 2  # held, never answered


def test_rate_limit_answers_429_with_retry_after_per_account(make_sim_server):
    limited = make_sim_server(users=50, rate_limit=5)
    primary, other = limited.accounts[0], limited.accounts[1]
    statuses = [_get(limited, "segments").status_code for _ in range(12)]
    assert statuses[:5] == [200] * 5 and 429 in statuses[5:]
    refused = _get(limited, "segments")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["code"] == 429 and "5 requests per second" in refused.json()["message"]
    assert _get(limited, "segments", account=other).status_code == 200  # its own budget
    time.sleep(1.1)
    assert _get(limited, "segments", account=primary).status_code == 200  # refilled
