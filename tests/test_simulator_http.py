"""The built-in server over real HTTP: auth, paging, errors, upserts, tenants, controls, faults."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
import requests
from support import sim_headers

from whatfix_data.simulator import DEMO_ACCOUNTS

LIST_PATHS = ("end-users", "content", "segments", "analytics/end-users",
              "analytics/task-completion")
ALL_PATHS = (*LIST_PATHS, "analytics/flows", "analytics/self-help",
             "reports/summary/mostPopularFlows")
TIMEOUT = 10


def _get(server, account, path: str, headers=None, **params) -> requests.Response:
    return requests.get(f"{server.base_url}/{account.account_id}/{path}", params=params,
                        headers=sim_headers(account) if headers is None else headers,
                        timeout=TIMEOUT)


def _put(server, account, user_id: str, body, **kwargs) -> requests.Response:
    return requests.put(f"{server.base_url}/{account.account_id}/end-users/{user_id}",
                        json=body, headers=sim_headers(account), timeout=TIMEOUT, **kwargs)


def _assert_error(response: requests.Response, status: int, *words: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    payload = response.json()
    assert payload["code"] == status
    assert isinstance(payload["message"], str) and payload["message"]
    for word in words:
        assert word in payload["message"]
    return payload


# ----- auth ------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ALL_PATHS)
def test_every_operation_answers_the_demo_credentials(sim_server, demo_account, path):
    response = _get(sim_server, demo_account, path)
    assert response.status_code == 200
    assert response.json()["data"]


def test_missing_key_is_401(sim_server, demo_account):
    headers = {"x-whatfix-user": demo_account.user_email}
    _assert_error(_get(sim_server, demo_account, "content", headers=headers), 401,
                  "x-whatfix-integration-key")


def test_wrong_key_is_401_without_echoing_it(sim_server, demo_account):
    headers = {**sim_headers(demo_account), "x-whatfix-integration-key": "wf-wrong-key-123"}
    payload = _assert_error(_get(sim_server, demo_account, "content", headers=headers), 401)
    assert "wf-wrong-key-123" not in str(payload)


def test_missing_user_header_is_401_naming_it(sim_server, demo_account):
    headers = {"x-whatfix-integration-key": demo_account.integration_key}
    _assert_error(_get(sim_server, demo_account, "segments", headers=headers), 401,
                  "x-whatfix-user")


def test_user_header_must_be_the_keys_user(sim_server, demo_account):
    headers = {**sim_headers(demo_account), "x-whatfix-user": "someone@else.example"}
    _assert_error(_get(sim_server, demo_account, "segments", headers=headers), 401,
                  "x-whatfix-user")
    headers["x-whatfix-user"] = demo_account.user_email.upper()  # emails are case-insensitive
    assert _get(sim_server, demo_account, "segments", headers=headers).status_code == 200


def test_key_of_another_account_is_403(sim_server):
    acme, globex = sim_server.accounts[0], sim_server.accounts[1]
    _assert_error(_get(sim_server, globex, "end-users", headers=sim_headers(acme)), 403)


def test_unknown_account_with_valid_key_is_403(sim_server, demo_account):
    response = requests.get(f"{sim_server.base_url}/no-such-account/content",
                            headers=sim_headers(demo_account), timeout=TIMEOUT)
    _assert_error(response, 403)


# ----- paging and parameters -------------------------------------------------------------------
@pytest.mark.parametrize("params", [{"pageSize": "0"}, {"pageSize": "101"}, {"pageSize": "abc"},
                                    {"page": "0"}, {"page": "-1"}, {"page": "1.5"},
                                    {"page": ""}])
@pytest.mark.parametrize("path", LIST_PATHS)
def test_bad_paging_is_400(sim_server, demo_account, path, params):
    name = next(iter(params))
    _assert_error(_get(sim_server, demo_account, path, **params), 400, name)


def test_paging_defaults_and_totals(sim_server, demo_account):
    payload = _get(sim_server, demo_account, "end-users").json()
    pagination = payload["pagination"]
    assert pagination["page"] == 1 and pagination["pageSize"] == 20
    assert len(payload["data"]) == 20
    assert pagination["totalCount"] == 2000
    assert pagination["totalPages"] == 100


def test_pages_cover_the_list_once(sim_server, demo_account):
    seen = []
    for page in (1, 2, 3):
        payload = _get(sim_server, demo_account, "segments", page=page, pageSize=4).json()
        seen += [s["segmentId"] for s in payload["data"]]
    total = payload["pagination"]["totalCount"]
    assert len(seen) == len(set(seen)) == total
    assert payload["pagination"]["totalPages"] == 3


def test_page_past_the_end_is_empty_with_totals(sim_server, demo_account):
    payload = _get(sim_server, demo_account, "content", page=999, pageSize=100).json()
    assert payload["data"] == []
    assert payload["pagination"]["totalCount"] > 0
    assert payload["pagination"]["page"] == 999


@pytest.mark.parametrize("params", [{"startDate": "2026-13-01"}, {"endDate": "yesterday"},
                                    {"startDate": "2026-11-20", "endDate": "2026-11-01"},
                                    {"startDate": "20261101"}])
def test_bad_dates_are_400(sim_server, demo_account, params):
    _assert_error(_get(sim_server, demo_account, "analytics/flows", **params), 400)


def test_default_range_is_the_last_30_days(sim_server, demo_account):
    payload = _get(sim_server, demo_account, "analytics/flows").json()
    assert payload["endDate"] == "2026-11-27"
    assert payload["startDate"] == "2026-10-29"
    explicit = _get(sim_server, demo_account, "analytics/flows", startDate="2026-10-29",
                    endDate="2026-11-27").json()
    assert explicit["data"] == payload["data"]


@pytest.mark.parametrize("params", [{"type": "Banner"}, {"status": "Live"}])
def test_bad_content_filters_are_400(sim_server, demo_account, params):
    _assert_error(_get(sim_server, demo_account, "content", **params), 400, next(iter(params)))


def test_content_filters(sim_server, demo_account):
    payload = _get(sim_server, demo_account, "content", type="Flow", status="Draft",
                   pageSize=100).json()
    assert payload["data"]
    assert {(c["type"], c["status"]) for c in payload["data"]} == {("Flow", "Draft")}


def test_bad_report_format_is_400(sim_server, demo_account):
    _assert_error(_get(sim_server, demo_account, "reports/summary/mostPopularFlows",
                       format="xml"), 400, "format")


def test_csv_report(sim_server, demo_account):
    response = _get(sim_server, demo_account, "reports/summary/mostPopularFlows", format="csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    header = response.text.splitlines()[0]
    assert header == "rank,flowId,flowName,views,completions,completionRate,avgTimeToComplete"


# ----- unknown paths, methods, malformed requests ---------------------------------------------
@pytest.mark.parametrize("path", ["/api/v1/acme-demo/nothing", "/api/v1/", "/api/v2/x",
                                  "/favicon.ico", "/api/v1/acme-demo/content/extra"])
def test_unknown_paths_are_404_json(sim_server, demo_account, path):
    response = requests.get(sim_server.root_url + path, headers=sim_headers(demo_account),
                            timeout=TIMEOUT)
    _assert_error(response, 404)


def test_wrong_method_is_405_json(sim_server, demo_account):
    response = requests.delete(f"{sim_server.base_url}/acme-demo/content",
                               headers=sim_headers(demo_account), timeout=TIMEOUT)
    _assert_error(response, 405)
    assert response.headers["Allow"] == "GET"


def _raw(server, data: bytes) -> bytes:
    url = urlsplit(server.root_url)
    with socket.create_connection((url.hostname, url.port), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("request_bytes", [
    b"GARBAGE\r\n\r\n",
    b"GET /api/v1/acme-demo/content HTTP/9.9\r\n\r\n",
    b"GET /api/v1/acme-demo/content HTTP/1.1\r\nContent-Length: abc\r\nConnection: close\r\n\r\n",
    b"PUT /api/v1/acme-demo/end-users/x HTTP/1.1\r\nContent-Length: 99999999\r\n"
    b"Connection: close\r\n\r\n",
])
def test_malformed_requests_get_json_errors(sim_server, request_bytes):
    reply = _raw(sim_server, request_bytes)
    head, _, body = reply.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    assert 400 <= status < 600
    assert b"application/json" in head
    assert b"Traceback" not in reply
    assert b'"code"' in body


@pytest.mark.parametrize("method", ["TRACE", "FOO", "PATCH", "POST"])
def test_any_other_method_is_405_json(sim_server, demo_account, method):
    response = requests.request(method, f"{sim_server.base_url}/acme-demo/segments",
                                headers=sim_headers(demo_account), timeout=TIMEOUT)
    _assert_error(response, 405)


def test_head_gets_405_headers_only(sim_server, demo_account):
    response = requests.head(f"{sim_server.base_url}/acme-demo/content",
                             headers=sim_headers(demo_account), timeout=TIMEOUT)
    assert response.status_code == 405
    assert response.headers["Content-Type"] == "application/json"
    assert response.content == b""


def test_very_long_url_is_a_json_error(sim_server, demo_account):
    response = requests.get(f"{sim_server.base_url}/acme-demo/content?x={'a' * 70_000}",
                            headers=sim_headers(demo_account), timeout=TIMEOUT)
    _assert_error(response, 414)


def test_server_keeps_serving_after_bad_input(sim_server, demo_account):
    _raw(sim_server, b"\x00\x01\x02\r\n\r\n")
    assert _get(sim_server, demo_account, "segments").status_code == 200


def test_keep_alive_connection_serves_many_requests(sim_server, demo_account):
    with requests.Session() as session:
        session.headers.update(sim_headers(demo_account))
        for _ in range(5):
            url = f"{sim_server.base_url}/{demo_account.account_id}/segments"
            assert session.get(url, timeout=TIMEOUT).status_code == 200


# ----- tenants ---------------------------------------------------------------------------------
def _all_ids(server, account, path: str, id_field: str) -> set[str]:
    ids, page = set(), 1
    while True:
        payload = _get(server, account, path, page=page, pageSize=100).json()
        ids |= {r[id_field] for r in payload["data"]}
        if page >= payload["pagination"]["totalPages"]:
            return ids
        page += 1


def test_accounts_have_separate_data(sim_server):
    acme, globex, _ = sim_server.accounts
    for path, field in (("content", "contentId"), ("segments", "segmentId")):
        acme_ids = _all_ids(sim_server, acme, path, field)
        globex_ids = _all_ids(sim_server, globex, path, field)
        assert acme_ids and globex_ids and not acme_ids & globex_ids
    acme_users = _get(sim_server, acme, "end-users", pageSize=100).json()
    globex_users = _get(sim_server, globex, "end-users", pageSize=100).json()
    assert globex_users["pagination"]["totalCount"] == 400  # max(200, 2000 // 5)
    acme_emails = {u["email"] for u in acme_users["data"]}
    assert all(e.endswith("@acme.example") for e in acme_emails)
    assert all(u["email"].endswith("@globex.example") for u in globex_users["data"])


def test_upsert_in_one_account_is_invisible_in_another(make_sim_server):
    server = make_sim_server()
    acme, globex, _ = server.accounts
    assert _put(server, acme, "crm-42", {"email": "new.hire@acme.example"}).status_code == 201
    globex_total = _get(server, globex, "end-users").json()["pagination"]["totalCount"]
    acme_total = _get(server, acme, "end-users").json()["pagination"]["totalCount"]
    assert (acme_total, globex_total) == (301, 200)


@pytest.mark.parametrize("path", ALL_PATHS)
def test_empty_account_answers_with_no_data(sim_server, path):
    empty = sim_server.accounts[2]
    assert empty == DEMO_ACCOUNTS[2]
    payload = _get(sim_server, empty, path).json()
    assert payload["data"] == []
    if "pagination" in payload:
        assert payload["pagination"]["totalCount"] == 0
        assert payload["pagination"]["totalPages"] == 0


# ----- upserts ---------------------------------------------------------------------------------
def test_put_creates_then_updates(make_sim_server):
    server = make_sim_server()
    account = server.accounts[0]
    body = {"userId": "crm-1", "email": "jo.doe@acme.example", "name": "Jo Doe",
            "attributes": {"region": "EMEA", "department": "Sales", "beta": True}}
    created = _put(server, account, "crm-1", body)
    assert created.status_code == 201
    assert created.json()["email"] == "jo.doe@acme.example"
    updated = _put(server, account, "crm-1", {"name": "Jo Doe-Smith"})
    assert updated.status_code == 200
    assert updated.json()["name"] == "Jo Doe-Smith"
    assert updated.json()["attributes"]["region"] == "EMEA"  # attributes absent: kept
    last_page = _get(server, account, "end-users", page=16, pageSize=20).json()
    assert last_page["pagination"]["totalCount"] == 301
    assert last_page["data"][-1]["userId"] == "crm-1"
    assert last_page["data"][-1]["name"] == "Jo Doe-Smith"


def test_put_updates_a_generated_user(make_sim_server):
    server = make_sim_server()
    account = server.accounts[0]
    first = _get(server, account, "end-users", pageSize=1).json()["data"][0]
    response = _put(server, account, first["userId"], {"attributes": {"role": "Admin"}})
    assert response.status_code == 200
    assert response.json()["attributes"] == {"role": "Admin"}  # attributes given: replaced
    again = _get(server, account, "end-users", pageSize=1).json()["data"][0]
    assert again["attributes"] == {"role": "Admin"} and again["email"] == first["email"]


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "not-an-email"}, "email"),
    ({"email": "a@b.example", "userId": "someone-else"}, "userId"),
    ({"email": "a@b.example", "attributes": ["x"]}, "attributes"),
    ({"email": "a@b.example", "attributes": {"team": {"nested": 1}}}, "attributes.team"),
    ({"email": "a@b.example", "name": 12}, "name"),
    ({"name": "No Email"}, "email"),
    ([1, 2], "object"),
])
def test_put_validation_names_the_field(make_sim_server, body, field):
    server = make_sim_server()
    _assert_error(_put(server, server.accounts[0], "crm-9", body), 400, field)
    assert _get(server, server.accounts[0], "end-users").json()["pagination"]["totalCount"] == 300


@pytest.mark.parametrize("data", [b"{not json", b"", b"NaN", b'{"email": NaN}'])
def test_put_rejects_bad_json(make_sim_server, data):
    server = make_sim_server()
    account = server.accounts[0]
    response = requests.put(f"{server.base_url}/{account.account_id}/end-users/crm-3", data=data,
                            headers={**sim_headers(account), "Content-Type": "application/json"},
                            timeout=TIMEOUT)
    _assert_error(response, 400)


def _segment_counts(server, account) -> dict[str, int]:
    payload = _get(server, account, "segments", pageSize=100).json()
    return {s["name"]: s["userCount"] for s in payload["data"]}


def test_segment_user_count_follows_upserts(make_sim_server):
    server = make_sim_server()
    account = server.accounts[0]
    before = _segment_counts(server, account)
    body = {"email": "beta.user@acme.example", "attributes": {
        "beta": True, "region": "EMEA", "department": "Sales", "locale": "en-GB",
        "role": "Sales Rep", "plan": "Enterprise", "seats": 250, "country": "GB"}}
    assert _put(server, account, "crm-beta", body).status_code == 201
    after = _segment_counts(server, account)
    for name in ("Beta testers", "EMEA Sales", "English locales", "Paid tiers", "Large teams",
                 "Outside North America", "Non-admin users"):
        assert after[name] == before[name] + 1, name
    assert after["Canada"] == before["Canada"]
    body["attributes"]["beta"] = False
    assert _put(server, account, "crm-beta", body).status_code == 200
    assert _segment_counts(server, account)["Beta testers"] == before["Beta testers"]


# ----- controls --------------------------------------------------------------------------------
def test_stats_count_requests_by_operation_and_reset(make_sim_server):
    server = make_sim_server()
    account = server.accounts[0]
    _get(server, account, "content")
    _get(server, account, "content", page=2)
    _get(server, account, "segments")
    _get(server, account, "segments", headers={})
    stats = requests.get(f"{server.root_url}/__sim__/stats", timeout=TIMEOUT).json()
    assert stats["requests"] == 4
    assert stats["byOperation"] == {"listContent": 2, "listSegments": 2}
    assert stats["byStatus"] == {"200": 3, "401": 1}
    assert server.stats()["requests"] == 4
    assert requests.post(f"{server.root_url}/__sim__/reset", timeout=TIMEOUT).status_code == 200
    assert server.stats()["requests"] == 0


def test_revoked_key_gets_401_until_reset(make_sim_server):
    server = make_sim_server()
    account = server.accounts[0]
    response = requests.post(f"{server.root_url}/__sim__/revoke",
                             json={"integration_key": account.integration_key}, timeout=TIMEOUT)
    assert response.status_code == 200
    _assert_error(_get(server, account, "content"), 401)
    assert _get(server, server.accounts[1], "content").status_code == 200
    server.reset()
    assert _get(server, account, "content").status_code == 200


@pytest.mark.parametrize("body", [{"scenario": "bogus"}, {"scenario": "non_json", "operation": 3},
                                  {"scenario": "non_json", "operation": "listThings"},
                                  {"scenario": "non_json", "account": "nobody"}, [1]])
def test_bad_control_bodies_are_400(sim_server, body):
    response = requests.post(f"{sim_server.root_url}/__sim__/scenario", json=body,
                             timeout=TIMEOUT)
    _assert_error(response, 400)


def test_unknown_control_is_404(sim_server):
    _assert_error(requests.get(f"{sim_server.root_url}/__sim__/nothing", timeout=TIMEOUT), 404)
