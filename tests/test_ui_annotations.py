"""ui/annotations.py through AppTest on the Overview: add, show on the trends, edit, delete;
bad input (empty, 10,000 characters, HTML, a formula) says why and loses nothing."""

from __future__ import annotations

import pytest
from test_app import assert_clean, figures

from whatfix_data.charts.annotations import NOTE_SHAPE_NAME

pytestmark = pytest.mark.slow

HOSTILE = "<b>Released</b> =HYPERLINK(\"x\")"


def _note_labels(at) -> list[str]:
    return [a["text"] for fig in figures(at) for a in fig["layout"].get("annotations", [])
            if a.get("name") == NOTE_SHAPE_NAME]


def _notes_shown(at) -> list[str]:
    """The texts in the notes table (the one with date and text columns)."""
    for frame in (d.value for d in at.dataframe):
        if {"date", "text"} <= set(frame.columns):
            return frame["text"].tolist()
    return []


def _add(at, text: str):
    at.text_area(key="note_add_text").input(text)
    at.button(key="note_add").click().run()
    return at


def test_add_show_edit_and_delete_a_note(app_env, open_page):
    at = open_page("pages/overview.py")
    assert_clean(at)
    assert _note_labels(at) == []
    _add(at, HOSTILE)
    assert_clean(at)
    assert any("Note added" in s.value for s in at.success)
    assert at.text_area(key="note_add_text").value == ""
    labels = _note_labels(at)
    # Drawn on each Overview trend, as literal text (no HTML).
    assert len(labels) == 4 and all("&lt;b&gt;Released" in label for label in labels), labels
    assert _notes_shown(at) == [HOSTILE]
    note_id = at.selectbox(key="note_pick").options[1]
    at.selectbox(key="note_pick").select_index(1).run()
    edit_key = next(t.key for t in at.text_area if t.key.startswith("note_edit_text_"))
    at.text_area(key=edit_key).input("Email campaign")
    at.button(key=next(b.key for b in at.button if b.key.startswith("note_save_"))).click().run()
    assert_clean(at)
    assert _notes_shown(at) == ["Email campaign"]
    assert all("Email campaign" in label for label in _note_labels(at))
    assert note_id  # the picker showed the note
    at.button(key=next(b.key for b in at.button if b.key.startswith("note_delete_"))).click().run()
    assert_clean(at)
    assert _note_labels(at) == []
    assert any("No notes yet" in i.value for i in at.info)


@pytest.mark.parametrize("text, reason", [("   ", "empty"), ("x" * 10_000, "10,000")])
def test_a_refused_note_says_why_and_keeps_the_text(app_env, open_page, text, reason):
    at = _add(open_page("pages/overview.py"), text)
    assert not at.exception
    assert any(reason in e.value for e in at.error), [e.value for e in at.error]
    assert at.text_area(key="note_add_text").value == text
    assert _note_labels(at) == []
