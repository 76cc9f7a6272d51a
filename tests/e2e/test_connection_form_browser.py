"""The sidebar's "Connect an account" form typed into in a real browser (own app process).

Refusals appear inside the form and leave the session on the dashboard's account; only the four
typed fields, verified by the API, switch the account.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FORM_ERROR = '[data-testid="stExpander"] [data-testid="stAlertContentError"]'


def fill_and_connect(page, wait_idle, base_url: str, account_id: str, user: str, key: str) -> None:
    """Type the four fields of the expanded form and press Connect."""
    form = page.locator('[data-testid="stForm"]')
    for label, value in (("API base URL", base_url), ("Account ID", account_id),
                         ("Whatfix user (email)", user), ("Integration key", key)):
        form.get_by_label(label, exact=True).fill(value)
    form.get_by_role("button", name="Connect").click()
    wait_idle(page)


def test_typed_credentials_are_refused_in_the_form_until_the_api_accepts_them(
    page, app_url, sim_server, demo_account, wait_idle
):
    other = sim_server.accounts[1]
    page.goto(app_url)
    wait_idle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Connect an account").click()

    # A URL of the visitor's choice with the key left empty: refused before anything is sent.
    fill_and_connect(page, wait_idle, "http://127.0.0.1:9/api/v1", "visitor", "v@example.com", "")
    message = page.locator(FORM_ERROR).inner_text()
    assert "Integration key is required" in message and "API base URL" in message
    assert "WHATFIX_" not in message
    assert "Connected" not in sidebar.inner_text()

    # The right key with another user: the API's 401, shown in the form.
    fill_and_connect(page, wait_idle, sim_server.base_url, other.account_id,
                     demo_account.user_email, other.integration_key)
    assert "401" in page.locator(FORM_ERROR).inner_text()
    assert "Connected" not in sidebar.inner_text()
    assert f"account {demo_account.account_id}" in sidebar.inner_text()

    # The key with its own user: connected, and the typed key is not left in the field.
    fill_and_connect(page, wait_idle, sim_server.base_url, other.account_id,
                     other.user_email, other.integration_key)
    assert f"Connected to account {other.account_id}" in sidebar.inner_text()
    assert page.locator(FORM_ERROR).count() == 0
    assert sidebar.get_by_role("button", name="Disconnect").is_visible()
