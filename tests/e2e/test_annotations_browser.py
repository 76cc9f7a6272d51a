"""A note added on the Overview shows on the Flows trend, in a real browser (Chromium)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from app_process import running_app

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NOTE = "Released v4.2 <b>beta</b>"
NOTE_LABEL = '.js-plotly-plot .annotation-text'


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
    assert page.get_by_text("Note added for").count() == 1
    # Drawn on the Overview trend, as literal text (the <b> is not markup).
    overview_labels = page.locator(NOTE_LABEL, has_text="Released v4.2")
    assert overview_labels.count() >= 1
    assert "<b>beta</b>" in (overview_labels.first.text_content() or "")
    page.locator('[data-testid="stSidebarNav"]').get_by_role(
        "link", name="Flows", exact=True).click()
    wait_idle(page)
    trend = page.locator('[data-testid="stPlotlyChart"]').filter(
        has=page.locator(".gtitle", has_text="Trend of"))
    assert trend.count() == 1
    label = trend.locator(".annotation-text", has_text="Released v4.2")
    label.wait_for(timeout=30_000)
    assert label.count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
