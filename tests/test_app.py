"""app.py and the ui package through AppTest: navigation, filters, URL sync, banner, errors."""

from __future__ import annotations

import json
import os
import re
from datetime import date

import pytest

from whatfix_data.simulator import SimulatorConfig, start_background

pytestmark = pytest.mark.slow

PAGES = (
    "pages/overview.py",
    "pages/flows.py",
    "pages/self_help.py",
    "pages/engagement.py",
    "pages/task_lists.py",
    "pages/segments.py",
    "pages/content.py",
    "pages/data_health.py",
)


def figures(at) -> list[dict]:
    """The plotly figures of a run, as the JSON sent to the browser."""
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def figure_titles(at) -> list[str]:
    """The titles of every chart of a run."""
    return [fig["layout"].get("title", {}).get("text", "") for fig in figures(at)]


def metric_values(at) -> dict[str, str]:
    """KPI label -> shown value."""
    return {m.label: m.value for m in at.metric}


def plain(text: str) -> str:
    """Markdown text as the reader sees it (API strings are shown with markdown escaped)."""
    return re.sub(r"\\(.)", r"\1", text)


def errors(at) -> str:
    """Every error box of a run, as one plain string."""
    return " ".join(plain(e.value) for e in at.error)


def assert_clean(at) -> None:
    """No exception and no error box anywhere (main area or sidebar)."""
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_every_page_runs_without_error(app_env, open_page):
    at = open_page()
    assert_clean(at)
    for page in PAGES[1:]:
        at.switch_page(page)
        at.run()
        assert_clean(at)
        assert at.title and at.title[0].value, page


# Pages of analytics numbers: each says at the top whom its numbers cover.
ANALYTICS_PAGES = (*PAGES[:5], "pages/content.py")


def test_every_analytics_page_says_whom_its_numbers_cover(app_env, open_page):
    from support import captions, pick_segment

    from ui.data import NO_SEGMENT_NOTE

    at = open_page()
    for page in ANALYTICS_PAGES:
        at.switch_page(page)
        at.run()
        assert NO_SEGMENT_NOTE in captions(at), page
    name = pick_segment(at)
    for page in ANALYTICS_PAGES:
        at.switch_page(page)
        at.run()
        shown = captions(at)
        assert NO_SEGMENT_NOTE not in shown, page
        assert any(f"segment {name}" in caption for caption in shown), (page, shown)


def test_filters_are_mirrored_in_the_url(app_env, open_page):
    # The browser writes a bound widget's value in the URL (tests/e2e/test_deep_link.py checks
    # it there); here: every filter is bound, under its own query parameter.
    at = open_page()
    assert "range" not in at.query_params and "compare" not in at.query_params  # defaults
    for key in ("range", "compare", "gran", "segment"):
        assert at.selectbox(key=key).proto.query_param_key == key
    at.selectbox(key="range").select("custom").run()
    assert [at.date_input(key=k).proto.query_param_key for k in ("start", "end")] == [
        "start", "end"]
    at.selectbox(key="range").select("last_90_days").run()
    assert not at.date_input(key="start").proto.query_param_key  # a preset's dates: not in it


def test_a_shared_link_restores_the_filters(app_env, open_page):
    at = open_page(query={"range": "Custom range", "start": "2026-10-01", "end": "2026-10-31",
                          "compare": "No comparison", "gran": "Weekly"})
    assert_clean(at)
    assert at.selectbox(key="range").value == "custom"
    assert at.date_input(key="start").value == date(2026, 10, 1)
    assert at.date_input(key="end").value == date(2026, 10, 31)
    assert at.selectbox(key="compare").value == "none"
    assert at.selectbox(key="gran").value == "week"


def test_filters_survive_a_page_switch(app_env, open_page):
    at = open_page()
    at.selectbox(key="range").select("last_7_days").run()
    at.switch_page("pages/flows.py")
    at.run()
    assert at.selectbox(key="range").value == "last_7_days"


def test_a_start_after_the_end_is_refused(app_env, open_page):
    at = open_page()
    at.selectbox(key="range").select("custom").run()
    at.date_input(key="start").set_value(date(2026, 11, 20))
    at.date_input(key="end").set_value(date(2026, 11, 10)).run()
    messages = " ".join(e.value for e in at.sidebar.error)
    assert "after the end date" in messages
    assert not at.exception


def test_the_date_range_changes_the_numbers(app_env, open_page):
    at = open_page()
    month = metric_values(at)
    at.selectbox(key="range").select("last_7_days").run()
    week = metric_values(at)
    assert month.keys() == week.keys()
    assert month["Flow views"] != week["Flow views"]


def test_the_segment_filter_limits_per_user_numbers(app_env, open_page):
    at = open_page()
    everyone = metric_values(at)["Active users"]
    options = at.selectbox(key="segment").options
    assert len(options) > 1, "the demo account has segments"
    at.selectbox(key="segment").select_index(1).run()
    assert_clean(at)
    assert metric_values(at)["Active users"] != everyone


def test_demo_mode_shows_the_banner(monkeypatch, open_page):
    for name in [n for n in os.environ if n.startswith("WHATFIX_")]:
        monkeypatch.delenv(name)
    at = open_page()
    banner = " ".join(i.value for i in at.info)
    assert "Demo data" in banner
    assert "WHATFIX_INTEGRATION_KEY" in banner and "secrets.toml" in banner
    assert not at.exception


def test_a_wrong_key_shows_what_to_do(point_app, sim_server, demo_account, open_page):
    point_app(sim_server.base_url, demo_account, key="not-the-key")
    at = open_page("pages/flows.py")
    assert not at.exception
    messages = errors(at)
    assert "401" in messages and "WHATFIX_INTEGRATION_KEY" in messages
    assert "not-the-key" not in messages


@pytest.fixture(scope="module")
def failing_server():
    """A built-in server whose every request fails (fault mode)."""
    server = start_background(
        SimulatorConfig(seed=3, users=200, today=date(2026, 11, 27), fault_rate=1.0)
    )
    try:
        yield server
    finally:
        server.stop()


def test_an_unavailable_api_shows_an_error_per_section(
    monkeypatch, point_app, failing_server, open_page
):
    point_app(failing_server.base_url, failing_server.accounts[0])
    monkeypatch.setenv("WHATFIX_RETRIES", "0")
    at = open_page("pages/flows.py")
    assert not at.exception
    assert len(at.error) >= 2, "each section reports its own failure"
    for box in at.error:
        text = plain(box.value).lower()
        assert any(hint in text for hint in ("unavailable", "try again", "reload")), text
    assert at.title[0].value == "Flows", "the page itself still renders"


def fill_connection_form(at, base_url: str, account, key: str) -> None:
    """Type credentials into the sidebar's connection form and submit it."""
    at.text_input(key="wf_base_url").input(base_url)
    at.text_input(key="wf_account_id").input(account.account_id)
    at.text_input(key="wf_user").input(account.user_email)
    at.text_input(key="wf_integration_key").input(key)
    at.button(key="FormSubmitter:wf_connect_form-Connect").click().run()


def test_the_connection_form_switches_account_for_this_session(app_env, sim_server, open_page):
    at = open_page()
    other = sim_server.accounts[1]
    fill_connection_form(at, sim_server.base_url, other, other.integration_key)
    assert_clean(at)
    assert any(other.account_id in plain(c.value) for c in at.caption)
    assert at.session_state["wf_integration_key"] == "", "the typed key does not linger"


def test_the_connection_form_refuses_a_wrong_key(app_env, sim_server, open_page):
    at = open_page()
    other = sim_server.accounts[1]
    fill_connection_form(at, sim_server.base_url, other, "wrong-key")
    assert "401" in errors(at)
    assert not any(other.account_id in plain(c.value) for c in at.caption)


def test_granularity_changes_the_trend_windows(app_env, open_page):
    def points(at) -> int:
        fig = next(f for f in figures(at) if "over time" in f["layout"]["title"]["text"])
        return len(fig["data"][0]["x"])

    at = open_page(query={"range": "Last 90 days", "compare": "No comparison"})
    weekly = points(at)  # automatic for 90 days
    at.selectbox(key="gran").select("day").run()
    assert_clean(at)
    assert points(at) == 90 and weekly < 20


def test_incomplete_credentials_say_which_variables_to_set(monkeypatch, open_page):
    for name in [n for n in os.environ if n.startswith("WHATFIX_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("WHATFIX_ACCOUNT_ID", "acme-demo")  # key and user missing
    at = open_page()
    assert not at.exception
    message = errors(at)
    assert "WHATFIX_INTEGRATION_KEY" in message and "WHATFIX_USER" in message
