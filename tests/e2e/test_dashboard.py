"""The dashboard in a real browser: every page drawn, filters change numbers, downloads checked.

One `streamlit run app.py` per module (fixture `app_url`) against the session's built-in server;
screenshots of every page land in test-output/screenshots/ for a person to look at.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

APP_DIR = Path(__file__).resolve().parents[2]
SCREENSHOTS = APP_DIR / "test-output" / "screenshots"
# Sidebar entry -> (screenshot name, has charts).
PAGES: dict[str, tuple[str, bool]] = {
    "Overview": ("overview", True),
    "Flows": ("flows", True),
    "Self Help": ("self_help", True),
    "Engagement": ("engagement", True),
    "Task Lists": ("task_lists", True),
    "Segments": ("segments", True),
    "Content": ("content", True),
    "Data Health": ("data_health", False),
}
SECTIONS = ["Analytics", "Admin"]
CHART = '[data-testid="stPlotlyChart"] .js-plotly-plot'
ERROR_BOX = '[data-testid="stAlertContentError"], [data-testid="stException"]'


def nav_entries() -> list[str]:
    """The sidebar entries app.py should show (User Sync once its page exists)."""
    entries = list(PAGES)
    if (APP_DIR / "pages" / "user_sync.py").exists():
        entries.append("User Sync")
    return entries


def open_nav(page, title: str, wait_idle) -> None:
    """Click a sidebar navigation entry and wait for the page to finish drawing."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
    wait_idle(page)


def combobox(page, label: str):
    """A sidebar selectbox (a combobox named by its label)."""
    return page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name=label)


def choose(page, label: str, option: str, wait_idle) -> None:
    """Pick an option of a sidebar selectbox by its label."""
    combobox(page, label).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def full_screenshot(page, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the viewport to fit it."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll("
        "'[data-testid=\"stMain\"], [data-testid=\"stAppViewContainer\"], section')]"
        ".map(e => e.scrollHeight))"
    )
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(max(height, 800), 12_000)})
    page.wait_for_timeout(800)  # charts re-layout to the new size
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)


def first_metric(page) -> str:
    """The value of the first KPI card."""
    return page.locator('[data-testid="stMetricValue"]').first.inner_text()


def test_navigation_shows_exactly_the_sections_and_pages(page, app_url, wait_idle):
    page.goto(app_url)
    wait_idle(page)
    nav = page.locator('[data-testid="stSidebarNav"]')
    texts = nav.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()
    links = [t.strip().splitlines()[-1] for t in texts]  # the icon's name comes first
    assert links == nav_entries()
    headers = nav.locator('[data-testid="stNavSectionHeader"]').all_inner_texts()
    assert [h.strip() for h in headers] == SECTIONS


def test_every_page_draws_its_charts_without_errors(page, app_url, wait_idle):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(app_url)
    wait_idle(page)
    for title, (name, has_charts) in PAGES.items():
        open_nav(page, title, wait_idle)
        assert page.locator("h1").first.inner_text().strip() == title
        if has_charts:
            page.wait_for_selector(CHART, timeout=30_000)
            assert page.locator(CHART).count() >= 1, title
        problems = page.locator(ERROR_BOX).all_inner_texts()
        assert not problems, (title, problems)
        assert "Traceback" not in page.content()
        full_screenshot(page, SCREENSHOTS / f"{name}.png")


def test_changing_the_date_range_changes_the_numbers(page, app_url, wait_idle):
    page.goto(app_url)
    wait_idle(page)
    page.wait_for_selector('[data-testid="stMetricValue"]')
    month = first_metric(page)
    choose(page, "Date range", "Last 7 days", wait_idle)
    assert re.search(r"range=Last(\+|%20)7(\+|%20)days", page.url)
    week = first_metric(page)
    assert week != month, (month, week)


def test_a_shared_link_opens_the_same_view(page, app_url, wait_idle):
    page.goto(f"{app_url}/?range=Last+90+days&compare=Same+period+last+year")
    wait_idle(page)
    assert combobox(page, "Date range").input_value() == "Last 90 days"
    assert combobox(page, "Compare with").input_value() == "Same period last year"


def test_popular_flows_csv_is_the_apis_own_file(page, app_url, wait_idle, sim_server, demo_account):
    page.goto(app_url)
    wait_idle(page)
    open_nav(page, "Flows", wait_idle)
    button = page.get_by_role("button", name=re.compile("Download the report as the API's CSV"))
    with page.expect_download() as info:
        button.click()
    downloaded = Path(info.value.path()).read_bytes()
    start = page.locator('[data-testid="stSidebar"] [data-testid="stDateInput"] input').first
    end = page.locator('[data-testid="stSidebar"] [data-testid="stDateInput"] input').nth(1)
    params = {
        "format": "csv",
        "startDate": start.input_value().replace("/", "-"),
        "endDate": end.input_value().replace("/", "-"),
    }
    api = requests.get(
        f"{sim_server.base_url}/{demo_account.account_id}/reports/summary/mostPopularFlows",
        params=params,
        headers={
            "x-whatfix-integration-key": demo_account.integration_key,
            "x-whatfix-user": demo_account.user_email,
        },
        timeout=30,
    )
    assert api.status_code == 200
    assert downloaded == api.content
    rows = list(csv.DictReader(io.StringIO(downloaded.decode("utf-8"))))
    assert rows, "the report has flows"


def test_overview_downloads_a_png_an_xlsx_and_the_deck(page, app_url, wait_idle):
    page.goto(app_url)
    wait_idle(page)
    page.wait_for_selector(CHART, timeout=30_000)
    with page.expect_download(timeout=90_000) as png:
        page.get_by_role("button", name=re.compile(r"PNG")).first.click()
    assert Path(png.value.path()).read_bytes().startswith(b"\x89PNG")
    assert png.value.suggested_filename.endswith(".png")
    with page.expect_download(timeout=60_000) as xlsx:
        page.get_by_role("button", name=re.compile("Download XLSX")).first.click()
    assert Path(xlsx.value.path()).read_bytes().startswith(b"PK")
    page.get_by_role("button", name=re.compile("Build review pack")).click()
    wait_idle(page)
    deck_button = page.get_by_role("button", name=re.compile("Download the PowerPoint deck"))
    deck_button.wait_for(timeout=180_000)
    with page.expect_download(timeout=60_000) as deck:
        deck_button.click()
    assert deck.value.suggested_filename.endswith(".pptx")
    data = Path(deck.value.path()).read_bytes()
    assert data.startswith(b"PK") and b"ppt/slides/slide1.xml" in data
