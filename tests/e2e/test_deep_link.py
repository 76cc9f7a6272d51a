"""Shared links in a real browser (own server process): the URL holds the exact view.

The first request of a fresh process is a deep link to a page: Streamlit's legacy `pages/` folder
mode decides that first run, yet the app must show its own navigation, sidebar filters and the
requested page with the link's filters. Then a view is chosen by hand (sidebar filter, flow,
metric, tab), its URL copied and opened in a new browser context: the same view comes back.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_deep_link_as_first_request_opens_that_page_with_its_filters(page, app_url, wait_idle):
    page.goto(f"{app_url}/flows?range=Last+7+days&compare=No+comparison")
    wait_idle(page)
    page.wait_for_selector("h1")
    assert page.locator("h1").first.inner_text().strip() == "Flows"
    nav = page.locator('[data-testid="stSidebarNav"]')
    texts = [t.strip().splitlines()[-1]
             for t in nav.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()]
    assert texts[:2] == ["Overview", "Flows"] and "app" not in texts
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_by_role("combobox", name="Date range").input_value() == "Last 7 days"
    assert sidebar.get_by_role("combobox", name="Compare with").input_value() == "No comparison"
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=60_000)


def _trend_radio(page):
    return page.locator('[data-testid="stRadio"]').filter(has_text="Show").first


def _view(page) -> dict[str, object]:
    """What the Flows page shows: the sidebar's range, the flow, the trend metric, the open tab."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    return {
        "range": sidebar.get_by_role("combobox", name="Date range").input_value(),
        "flow": page.get_by_role("combobox", name="Flow", exact=True).input_value(),
        "completion_rate_shown": _trend_radio(page).get_by_role(
            "radio", name="Completion rate (%)").is_checked(),
        "open_tab": page.get_by_role("tab", selected=True).first.inner_text().strip(),
    }


def test_a_copied_link_restores_the_page_choices(page, app_url, wait_idle, browser,
                                                 browser_context_args):
    page.goto(f"{app_url}/flows")
    wait_idle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("combobox", name="Date range").click()
    page.get_by_role("option", name="Last 90 days", exact=True).click()
    wait_idle(page)
    picker = page.get_by_role("combobox", name="Flow", exact=True)
    options = page.get_by_role("option")
    for _ in range(3):  # a click that lands while the page redraws leaves the list closed
        picker.click()
        try:
            options.first.wait_for(timeout=5_000)
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
            wait_idle(page)
    assert options.count() > 1, "the demo account has several flows"
    second = options.nth(1).inner_text().strip()
    options.nth(1).click()
    wait_idle(page)
    _trend_radio(page).get_by_text("Completion rate (%)", exact=True).click()
    wait_idle(page)
    page.get_by_role("tab", name="Time to complete", exact=True).click()
    wait_idle(page)
    chosen = _view(page)
    assert chosen == {"range": "Last 90 days", "flow": second, "completion_rate_shown": True,
                      "open_tab": "Time to complete"}

    link = page.url
    params = parse_qs(urlparse(link).query)
    assert params["range"] == ["Last 90 days"] and params["flow"] == [second]
    assert params["trend_metric"] == ["Completion rate (%)"]
    assert params["flow_chart"] == ["Time to complete"]

    fresh = browser.new_context(**browser_context_args)  # no cookies, no session: only the URL
    try:
        other = fresh.new_page()
        other.goto(link)
        wait_idle(other)
        other.get_by_role("combobox", name="Flow", exact=True).wait_for()
        assert _view(other) == chosen
    finally:
        fresh.close()
