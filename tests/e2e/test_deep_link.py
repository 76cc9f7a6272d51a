"""A shared link to a page is the first request a fresh app process gets (own server process).

Streamlit's legacy `pages/` folder mode decides the very first run of a process; the app must
still show its own navigation, sidebar filters and the requested page with the link's filters.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_deep_link_as_first_request_opens_that_page_with_its_filters(page, app_url, wait_idle):
    page.goto(f"{app_url}/flows?range=last_7_days&compare=none")
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
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 1
