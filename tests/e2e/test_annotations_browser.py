"""A note added on the Overview shows on the Flows trend, in a real browser (Chromium)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from app_process import running_app
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NOTE = "Released v4.2 <b>beta</b>"
NOTE_LABEL = '.js-plotly-plot .annotation-text'
DRAW_WAIT_MS = 60_000  # the browser shares a loaded 2-core box


@pytest.fixture(scope="module")
def notes_app(sim_server, demo_account, tmp_path_factory) -> Iterator[str]:
    """The app with its own notes file (WHATFIX_ANNOTATIONS_FILE), never the user's."""
    workdir = tmp_path_factory.mktemp("streamlit-notes")
    with running_app(sim_server, demo_account, workdir,
                     WHATFIX_ANNOTATIONS_FILE=str(workdir / "notes.sqlite")) as url:
        yield url


def test_note_added_on_the_overview_shows_on_the_flows_trend(page, notes_app, wait_idle):
    page.goto(notes_app)
    wait_idle(page)
    form = page.locator('[data-testid="stForm"]').filter(has_text="Add note")
    form.get_by_role("textbox", name="Note").fill(NOTE)
    form.get_by_role("button", name="Add note").click()
    wait_idle(page)
    expect(page.get_by_text("Note added for")).to_have_count(1, timeout=DRAW_WAIT_MS)
    # Drawn on the Overview trend, as literal text (the <b> is not markup).
    overview_labels = page.locator(NOTE_LABEL, has_text="Released v4.2")
    overview_labels.first.wait_for(timeout=DRAW_WAIT_MS)
    assert "<b>beta</b>" in (overview_labels.first.text_content() or "")
    page.locator('[data-testid="stSidebarNav"]').get_by_role(
        "link", name="Flows", exact=True).click()
    wait_idle(page)
    trend = page.locator('[data-testid="stPlotlyChart"]').filter(
        has=page.locator(".gtitle", has_text="Trend of"))
    expect(trend).to_have_count(1, timeout=DRAW_WAIT_MS)
    label = trend.locator(".annotation-text", has_text="Released v4.2")
    expect(label).to_have_count(1, timeout=DRAW_WAIT_MS)
    assert page.locator('[data-testid="stException"]').count() == 0
