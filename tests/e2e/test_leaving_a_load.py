"""A load the user leaves stops sending requests (issue 12): another page, a closed tab.

`streamlit run app.py` against a private built-in server slow enough (20,000 users, 300 ms per
response, 2 requests in flight) that the Engagement page's per-user lists take well over ten
seconds. The browser opens the page, and once its lists are coming in, leaves: the requests the
server receives for those lists must stop within a moment, instead of running to the last page
for a view nobody looks at.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from app_process import running_app
from support import FIXED_TODAY

from whatfix_data.simulator import SimulatorConfig, start_background

# A new app process and two slow lists on a shared 2-core box: more than the suite's 300 s.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(600)]

USERS = 20_000
LATENCY_MS = 300
CONCURRENCY = 2
PER_USER_LISTS = ("listEndUsers", "getEndUserEngagement")  # what the Engagement page pages through
# Requests already on the wire when the user leaves may still arrive, and on a loaded box the
# browser takes a few seconds to send the click (6-7 requests a second here); without the
# cancel the two lists would go on for about 300 requests.
ALLOWED_AFTER_LEAVING = 30
SETTLE_S = 4.0
# "Loading end users: 1,200 of 20,000 rows, about 12 s left" (or the engagement list's)
PROGRESS_TEXT = re.compile(r"Loading end.users?[\w ]*: [\d,]+ of [\d,]+ rows, "
                           r"about (\d+ min )?\d+ s left")


@pytest.fixture(scope="module")
def slow_server() -> Iterator[object]:
    server = start_background(SimulatorConfig(seed=7, users=USERS, today=FIXED_TODAY,
                                              latency_ms=LATENCY_MS))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def slow_app(slow_server, tmp_path) -> Iterator[str]:
    with running_app(slow_server, slow_server.accounts[0], tmp_path,
                     WHATFIX_MAX_CONCURRENCY=str(CONCURRENCY)) as url:
        yield url


def per_user_requests(server) -> int:
    by_operation = server.stats()["byOperation"]
    return sum(by_operation.get(name, 0) for name in PER_USER_LISTS)


def wait_for_lists(server, at_least: int, timeout_s: float = 240) -> int:
    """Wait until the page is paging through its lists; returns the count seen."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        seen = per_user_requests(server)
        if seen >= at_least:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"the Engagement page sent only {per_user_requests(server)} requests")


def requests_after_leaving(server, at_leave: int) -> int:
    """Per-user list requests after the user left: settled, then checked to stay settled."""
    time.sleep(SETTLE_S)
    settled = per_user_requests(server)
    time.sleep(SETTLE_S)
    assert per_user_requests(server) == settled, "the abandoned load is still fetching"
    return settled - at_leave


CLICK_TIMEOUT_MS = 120_000  # the browser shares a loaded 2-core box


def click_nav(page, title: str, *, force: bool = False) -> None:
    """Click a sidebar page link; Streamlit switches pages itself (no navigation to wait for)."""
    link = page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title,
                                                                     exact=True)
    link.click(force=force, no_wait_after=True, timeout=CLICK_TIMEOUT_MS)


def test_another_page_stops_the_engagement_pages_fetch(slow_server, slow_app, page):
    page.goto(f"{slow_app}/flows")  # drawn first, so its navigation is there to click at once
    page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=CLICK_TIMEOUT_MS)
    slow_server.reset()
    click_nav(page, "Engagement")
    wait_for_lists(slow_server, at_least=6)
    # A load over 2 s shows its bar: rows fetched of the total and the time left.
    bar = page.locator('[data-testid="stProgress"]').filter(has_text=PROGRESS_TEXT).first
    bar.wait_for(timeout=CLICK_TIMEOUT_MS)
    at_leave = per_user_requests(slow_server)
    # Forced: while the page runs, Streamlit may keep the old navigation "not stable" for
    # Playwright's checks, but a person's click lands (and requests the rerun) all the same.
    click_nav(page, "Flows", force=True)
    after = requests_after_leaving(slow_server, at_leave)
    assert after <= ALLOWED_AFTER_LEAVING, after
    page.get_by_role("heading", name="Flows").first.wait_for(timeout=CLICK_TIMEOUT_MS)
    # Coming back asks again: the cancelled load was not remembered as a failure.
    before_return = per_user_requests(slow_server)
    click_nav(page, "Engagement")
    wait_for_lists(slow_server, at_least=before_return + 3)


def test_closing_the_tab_stops_the_fetch(slow_server, slow_app, context):
    slow_server.reset()
    tab = context.new_page()
    tab.goto(f"{slow_app}/engagement")
    at_leave = wait_for_lists(slow_server, at_least=6)
    tab.close()
    after = requests_after_leaving(slow_server, at_leave)
    assert after <= ALLOWED_AFTER_LEAVING, after
