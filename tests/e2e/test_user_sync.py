"""User Sync in a real browser: upload a CSV, see validation and preview, apply, download outcomes.

The app runs against a private built-in server (a sync changes end users, which no other test may
see), and the result is checked on that server over HTTP, not through the page.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import requests
from app_process import running_app
from test_dashboard import SCREENSHOTS, full_screenshot, open_nav

from whatfix_data.simulator import SimulatorConfig, start_background

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SEED, USERS = 7, 300
TODAY = date(2026, 11, 27)  # the suite's fixed today (tests/conftest.py)
PAGE_SIZE = 100  # the API's largest page
SYNC_FILE_NAME = "crm-export.csv"
# Rows are numbered as in the file (the header is row 1): 2-3 create, 4 updates ac-000001's role
# (empty cells keep its current values), 5 repeats ac-000002 exactly, 6 has an invalid email.
SYNC_FILE = (
    "User ID,E-mail,Full name,role,seats\n"
    "e2e-1,e2e1@acme.example,Ada Example,Admin,5\n"
    "e2e-2,e2e2@acme.example,Bo Example,Analyst,12\n"
    "ac-000001,,,Product Owner,\n"
    "ac-000002,james.fischer2@acme.example,James Fischer,IT Administrator,10\n"
    "e2e-3,not-an-email,Cy Example,Analyst,3\n"
)
BAD_ROW = 6
EXPECTED_OUTCOMES = {2: "created", 3: "created", 4: "updated", 5: "unchanged", 6: "invalid"}
UPLOAD_INPUT = '[data-testid="stFileUploaderDropzoneInput"]'
APPLY_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def sync_app(tmp_path_factory) -> Iterator[tuple[str, object]]:
    """(app URL, server): the app on its own built-in server, sync logs in a temporary folder."""
    server = start_background(SimulatorConfig(seed=SEED, users=USERS, today=TODAY))
    workdir = tmp_path_factory.mktemp("user_sync_app")
    try:
        with running_app(server, server.accounts[0], workdir,
                         WHATFIX_SYNC_DIR=str(workdir / "sync")) as url:
            yield url, server
    finally:
        server.stop()


def end_users(server) -> dict[str, dict]:
    """Every end user of the server's primary account, read page by page over HTTP."""
    account = server.accounts[0]
    headers = {"x-whatfix-integration-key": account.integration_key,
               "x-whatfix-user": account.user_email}
    users: dict[str, dict] = {}
    page = 1
    while True:
        response = requests.get(f"{server.base_url}/{account.account_id}/end-users",
                                params={"page": page, "pageSize": PAGE_SIZE}, headers=headers,
                                timeout=30)
        response.raise_for_status()
        body = response.json()
        users.update({user["userId"]: user for user in body["data"]})
        if page >= body["pagination"]["totalPages"]:
            return users
        page += 1


def metrics(page) -> dict[str, str]:
    """Every st.metric on screen: label -> value (a later card with the same label wins)."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-testid="stMetric"]')]
            .map(m => [m.querySelector('[data-testid="stMetricLabel"]').innerText.trim(),
                       m.querySelector('[data-testid="stMetricValue"]').innerText.trim()]))"""
    )


def download(page, name: str | re.Pattern, nth: int = 0) -> tuple[str, bytes]:
    """Click a download button; (suggested file name, content)."""
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name=name).nth(nth).click()
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


def rows_of(data: bytes) -> list[dict[str, str]]:
    """A downloaded CSV as dicts (the files carry a UTF-8 BOM for Excel)."""
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_upload_preview_apply_and_download_outcomes(page, sync_app, wait_idle):
    url, server = sync_app
    before = end_users(server)
    assert "e2e-1" not in before and before["ac-000001"]["attributes"]["role"] != "Product Owner"
    page.goto(url)
    wait_idle(page)
    open_nav(page, "User Sync", wait_idle)
    assert page.locator("h1").first.inner_text().strip() == "User Sync"

    page.locator(UPLOAD_INPUT).set_input_files(files=[{
        "name": SYNC_FILE_NAME, "mimeType": "text/csv", "buffer": SYNC_FILE.encode(),
    }])
    wait_idle(page)
    shown = metrics(page)
    assert (shown["Rows in the file"], shown["Valid rows"],
            shown["Invalid rows (never sent)"]) == ("5", "4", "1")
    # The grid is drawn on a canvas: its CSV download is exactly what it shows (ui.table).
    name, data = download(page, "Download CSV")  # the first table: validation problems
    problems = rows_of(data)
    assert [int(p["row"]) for p in problems] == [BAD_ROW], problems
    assert "email" in problems[0]["problem"].lower()
    assert name == "crm-export-validation-problems.csv", "named after the upload, no dates"

    page.get_by_role("button", name="Preview changes").click()
    wait_idle(page)
    shown = metrics(page)
    assert (shown["Create"], shown["Update"], shown["Unchanged (not sent)"],
            shown["Invalid (not sent)"]) == ("2", "1", "1", "1")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    full_screenshot(page, SCREENSHOTS / "user_sync_preview.png")

    page.get_by_role("button", name="Apply 3 changes").click()
    page.get_by_text(re.compile("Sync finished")).wait_for(timeout=APPLY_TIMEOUT_MS)
    wait_idle(page)
    shown = metrics(page)
    assert {k: shown[k] for k in ("Created", "Updated", "Unchanged", "Invalid", "Failed")} == {
        "Created": "2", "Updated": "1", "Unchanged": "1", "Invalid": "1", "Failed": "0"}
    full_screenshot(page, SCREENSHOTS / "user_sync.png")

    after = end_users(server)
    assert after["e2e-1"]["email"] == "e2e1@acme.example"
    assert after["e2e-1"]["name"] == "Ada Example"
    assert after["e2e-1"]["attributes"] == {"role": "Admin", "seats": 5}
    assert after["e2e-2"]["attributes"] == {"role": "Analyst", "seats": 12}
    assert after["ac-000001"]["attributes"]["role"] == "Product Owner"
    assert after["ac-000001"]["attributes"]["seats"] == before["ac-000001"]["attributes"]["seats"]
    assert after["ac-000002"] == before["ac-000002"]
    assert "e2e-3" not in after
    assert len(after) == len(before) + 2

    name, data = download(page, "Download outcomes CSV")
    assert name == "crm-export-outcomes.csv"
    outcomes = rows_of(data)
    assert {int(o["row"]): o["outcome"] for o in outcomes} == EXPECTED_OUTCOMES
    assert len(outcomes) == len(SYNC_FILE.splitlines()) - 1, "one line per input row"
