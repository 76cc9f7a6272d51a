"""The review pack includes the PM's notes of the period (whatfix_data.review_pack.notes)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta

import pytest
from support import FIXED_TODAY

from whatfix_data import annotations, review_pack
from whatfix_data.charts.annotations import NOTE_SHAPE_NAME
from whatfix_data.client import WhatfixClient
from whatfix_data.review_pack.assemble import collect_content
from whatfix_data.review_pack.notes import NOTES_TITLE, add_notes
from whatfix_data.windows import DateRange

# One worker runs this module: its module-scoped fixtures (servers, loaded data, built packs)
# are then made once, not once per xdist worker (tests/run_all.sh: --dist loadgroup).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("test_review_pack_notes")]

RANGE = DateRange(FIXED_TODAY - timedelta(days=13), FIXED_TODAY)
FORMULA = "=HYPERLINK(\"http://evil.example\")"


def _notes() -> list[annotations.Note]:
    inside = annotations.new_note(FIXED_TODAY - timedelta(days=3), "Released v4.2",
                                  today=FIXED_TODAY)
    hostile = annotations.new_note(FIXED_TODAY - timedelta(days=5), FORMULA, today=FIXED_TODAY)
    before = annotations.new_note(date(2026, 1, 5), "Long ago", today=FIXED_TODAY)
    return [inside, hostile, before]


@pytest.fixture(scope="module")
def data(make_settings):
    with WhatfixClient(make_settings()) as client:
        return review_pack.load_review_data(client, RANGE, "none")


def test_notes_table_and_trend_markers_are_the_period_s_notes(data):
    content = collect_content(data, RANGE, account="acme-demo", comparison="none")
    tables_before = len(content.tables)
    add_notes(content, _notes(), RANGE)
    table = next(t for t in content.tables if t.title == NOTES_TITLE)
    assert table.frame["text"].tolist() == ["Released v4.2", FORMULA]
    assert "2 notes" in table.takeaway and len(content.tables) == tables_before + 1
    trends = [c for c in content.charts if c.figure.layout.xaxis.type == "date"]
    assert trends
    for chart in trends:
        assert sum(s.name == NOTE_SHAPE_NAME for s in chart.figure.layout.shapes) == 2
    others = [c for c in content.charts if c.figure.layout.xaxis.type != "date"]
    assert all(s.name != NOTE_SHAPE_NAME for c in others for s in c.figure.layout.shapes)


def test_no_notes_in_the_period_means_no_notes_slide(data):
    content = collect_content(data, RANGE, account="acme-demo", comparison="none")
    add_notes(content, _notes()[2:], RANGE)
    assert all(t.title != NOTES_TITLE for t in content.tables)


def test_pack_from_the_cli_entry_reads_the_store(make_settings, monkeypatch, tmp_path):
    monkeypatch.setenv(annotations.ANNOTATIONS_FILE_ENV, str(tmp_path / "notes.sqlite"))
    settings = make_settings()
    store = annotations.open_store(settings)
    for note in _notes():
        store.save(note)
    with WhatfixClient(settings) as client:
        data = review_pack.build_review_pack(client, RANGE, "none", "zip")
    archive = zipfile.ZipFile(io.BytesIO(data))
    name = next(n for n in archive.namelist() if n.endswith("/tables/notes.csv"))
    rows = list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
    assert [r["text"] for r in rows] == ["Released v4.2", "'" + FORMULA]


def test_unreadable_store_is_a_remark_not_a_failure(data):
    content = collect_content(data, RANGE, account="acme-demo", comparison="none")
    add_notes(content, [], RANGE, problem="The notes could not be read")
    assert "The notes could not be read" in content.notes
