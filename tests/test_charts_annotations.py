"""whatfix_data.charts.annotations: notes as markers on an existing trend figure."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from whatfix_data import charts
from whatfix_data.annotations import Note
from whatfix_data.charts.annotations import NOTE_SHAPE_NAME

START = date(2026, 11, 1)


def _windows(days: int) -> pd.DataFrame:
    starts = [START + timedelta(days=i) for i in range(days)]
    return pd.DataFrame({
        "window_start": starts, "window_end": starts,
        "window_label": [d.isoformat() for d in starts], "partial": False,
        "views": range(days), "completions": range(days),
    })


def _marked_days(fig) -> list[str]:
    return sorted(s.x0 for s in fig.layout.shapes if s.name == NOTE_SHAPE_NAME)


@settings(max_examples=40, deadline=None)
@given(days=st.integers(2, 60), offsets=st.lists(st.integers(-30, 90), max_size=12))
def test_exactly_the_notes_inside_the_plotted_days_are_drawn(days, offsets):
    fig = charts.flow_activity_trend(_windows(days))
    notes = [Note(str(i), START + timedelta(days=o), f"note {i}") for i, o in enumerate(offsets)]
    charts.add_annotations(fig, notes)
    inside = sorted({(START + timedelta(days=o)).isoformat() for o in offsets if 0 <= o < days})
    assert _marked_days(fig) == inside


def test_flow_trend_shows_account_notes_and_that_flow_only():
    fig = charts.flow_activity_trend(_windows(10))
    notes = [Note("a", START, "all flows"), Note("b", START + timedelta(days=1), "mine", "f1"),
             Note("c", START + timedelta(days=2), "other", "f2")]
    charts.add_annotations(fig, notes, flow_id="f1")
    assert _marked_days(fig) == ["2026-11-01", "2026-11-02"]


def test_hostile_note_text_is_literal_and_short_on_the_chart():
    fig = charts.flow_activity_trend(_windows(5))
    text = "<b>bold</b><a href='x'>" + "z" * 10_000
    charts.add_annotations(fig, [Note("a", START, text)])
    label = next(a for a in fig.layout.annotations if a.name == NOTE_SHAPE_NAME)
    assert "<b>" not in label.text and "&lt;b&gt;" in label.text
    assert len(label.text) < 60
    assert "<a " not in label.hovertext


def test_empty_figure_gets_no_marker():
    fig = charts.flow_activity_trend(_windows(0).iloc[0:0])
    charts.add_annotations(fig, [Note("a", START, "x")])
    assert _marked_days(fig) == []
