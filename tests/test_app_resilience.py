"""The dashboard when the API misbehaves, and when its cache is warm (AppTest, own servers)."""

from __future__ import annotations

import time
from datetime import date

import pytest
from test_app import PAGES, assert_clean, errors, figure_titles, plain

import ui
from whatfix_data.simulator import SimulatorConfig, start_background

pytestmark = pytest.mark.slow

TODAY = date(2026, 11, 27)


@pytest.fixture()
def small_server():
    """A fresh small server per test: its own cache scope, its own request counters."""
    server = start_background(SimulatorConfig(seed=11, users=300, today=TODAY))
    try:
        yield server
    finally:
        server.stop()


def test_one_failing_dataset_does_not_blank_the_page(
    small_server, point_app, open_page, monkeypatch
):
    small_server.set_scenario("non_json", operation="getFlowAnalytics")
    point_app(small_server.base_url, small_server.accounts[0])
    monkeypatch.setenv("WHATFIX_RETRIES", "0")
    at = open_page("pages/flows.py")
    assert not at.exception
    assert "not valid JSON" in errors(at), "the flows sections say what went wrong"
    report = at.dataframe[-1].value
    assert "rank" in report.columns and len(report) > 0, "the popular-flows report still shows"
    at.switch_page("pages/overview.py")
    at.run()
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Active users"] != "–" and shown["Flow views"] == "–"
    assert any("active users" in t.lower() for t in figure_titles(at))


def test_impossible_values_become_findings_not_crashes(small_server, point_app, open_page):
    small_server.set_scenario("impossible_values")
    point_app(small_server.base_url, small_server.accounts[0])
    at = open_page("pages/data_health.py")
    assert_clean(at)
    status = at.dataframe[0].value
    assert status["findings"].sum() > 0
    assert len(at.dataframe[1].value) == status["findings"].sum(), "every finding is listed"
    for page in ("pages/flows.py", "pages/task_lists.py"):
        at.switch_page(page)
        at.run()
        assert_clean(at)


def test_a_warm_cache_switches_pages_without_the_network(small_server, point_app, open_page):
    point_app(small_server.base_url, small_server.accounts[0])
    at = open_page()
    for page in PAGES:  # warm every page once
        at.switch_page(page)
        at.run()
    before = small_server.stats()["requests"]
    for page in PAGES:  # speed of a warm switch: docs/PERFORMANCE.md (Dashboard)
        at.switch_page(page)
        at.run()
        assert_clean(at)
    assert small_server.stats()["requests"] == before, "no request once the cache is warm"


def test_stale_data_is_shown_with_its_age_when_the_api_goes_away(point_app, open_page,
                                                                 monkeypatch):
    server = start_background(SimulatorConfig(seed=12, users=200, today=TODAY))
    point_app(server.base_url, server.accounts[0])
    for name in ("WHATFIX_TTL_TODAY_S", "WHATFIX_TTL_LISTS_S"):
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("WHATFIX_RETRIES", "0")
    at = open_page("pages/flows.py")
    assert_clean(at)
    try:
        # The API now fails every request; the HTTP cache still holds the earlier responses.
        server.state.control.fault_kinds = ("error_503",)
        server.state.control.fault_rate = 1.0
        time.sleep(1.5)  # past the TTLs: the next read must ask the API first
        ui.clear_caches()  # as if the dashboard's own cache entries had expired
        at.run()
    finally:
        server.stop()
    assert not at.exception
    warnings = " ".join(plain(w.value) for w in at.warning)
    assert "could not be reached" in warnings and "ago" in warnings
    assert len(at.dataframe) >= 2, "the cached copy is still shown"


def test_an_account_without_data_shows_empty_states(sim_server, point_app, open_page):
    point_app(sim_server.base_url, sim_server.accounts[2])  # empty-demo: no users, no content
    at = open_page()
    for page in PAGES:
        at.switch_page(page)
        at.run()
        assert_clean(at)
        assert at.info or page.endswith("data_health.py"), f"{page} explains why it is empty"
    at.switch_page("pages/engagement.py")
    at.run()
    assert any("no end users" in i.value for i in at.info)
