"""The PM's notes in the review pack: a table of the period's notes, and markers on its trends.

Additive to the assembled content (:func:`add_notes` runs after ``collect_content``), so the
pack's other slides do not depend on the notes store.
"""

from __future__ import annotations

from collections.abc import Sequence

from whatfix_data import annotations, charts
from whatfix_data.annotations import Note
from whatfix_data.config import Settings
from whatfix_data.errors import WhatfixError
from whatfix_data.review_pack.model import ReviewContent, TableItem
from whatfix_data.windows import DateRange

NOTES_TITLE = "Notes of the period"
NOTES_SLUG = "notes"
NOTE_COLUMNS = ["date", "flow_id", "text"]


def load_notes(settings: Settings) -> tuple[list[Note], str | None]:
    """The account's notes, or [] and a remark for the pack when the store cannot be read."""
    try:
        return annotations.open_store(settings).list_notes(), None
    except WhatfixError as exc:
        return [], f"The notes could not be read, so none are in this pack: {exc.user_message}"


def _takeaway(count: int, date_range: DateRange) -> str:
    noun = "note" if count == 1 else "notes"
    return f"{count:,} {noun} explain what happened in {date_range.label()}"


def add_notes(content: ReviewContent, notes: Sequence[Note], date_range: DateRange,
              problem: str | None = None) -> None:
    """Draw the period's notes on every date-axis chart and add a table of them (in place);
    ``problem`` (the store could not be read) is added to the pack's remarks."""
    if problem:
        content.notes.append(problem)
    period = annotations.in_range(notes, date_range)
    if not period:
        return
    for item in content.charts:
        if item.figure.layout.xaxis.type == "date":
            charts.add_annotations(item.figure, period)
    frame = annotations.notes_frame(period)[NOTE_COLUMNS]
    content.tables.insert(0, TableItem("Overview", NOTES_TITLE, frame, NOTES_SLUG,
                                       _takeaway(len(period), date_range)))
