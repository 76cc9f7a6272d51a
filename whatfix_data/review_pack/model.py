"""What a review pack contains, independent of its format: KPIs, charts with takeaways, tables.

The deck, the PDF and the ZIP are three renderings of one :class:`ReviewContent`, so they can
never disagree. Cell formatting for slide/PDF tables lives here for the same reason.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from whatfix_data import glossary
from whatfix_data.exports import is_percent_column

# Rows of a table shown on a slide / PDF page; the ZIP always has the full table as CSV.
TABLE_ROWS_SHOWN = 12
# Longest cell text on a slide before it is cut with an ellipsis (full text stays in the CSV).
CELL_MAX_CHARS = 48
ELLIPSIS = "…"
MAX_KPI_COLUMNS = 4
# (longest headline in characters, point size), first match wins.
HEADLINE_SIZES: tuple[tuple[int, int], ...] = ((80, 24), (130, 20))
HEADLINE_MIN_PT = 16
MIN_COL_CHARS = 6
MAX_COL_CHARS = 40
COL_PADDING_CHARS = 2  # cell margins, in characters
BOLD_WIDTH_FACTOR = 1.2  # bold header glyphs are wider than body text
MISSING_CELL = "–"
SEGMENT_SCOPE = ("applies to engagement and task-list numbers; flow and self-help numbers cover "
                 "all users (the API has no per-user flow or self-help data)")
ALL_USERS = "All users"
KEY_NUMBERS = "Key numbers"
DEFINITIONS = "What each measure means"
GLOSSARY_PER_PAGE = 7

# Colours shared by the deck and the PDF (Okabe-Ito accents, as in the charts).
INK = "1F2A44"
MUTED = "5A6172"
ACCENT = "0072B2"
GOOD = "009E73"
BAD = "D55E00"
RULE = "D9DEE7"
CARD = "F4F6FA"

# Sections in deck order: the dashboard pages whose charts the pack carries.
SECTIONS: tuple[str, ...] = ("Overview", "Flows", "Self Help", "Engagement", "Task Lists")


@dataclass(frozen=True)
class KpiItem:
    """One headline number with its change against the comparison period.

    ``delta`` is already worded ("+3.2 pts", "-12 %"), ``good`` says whether the change is good
    news (True), bad news (False) or neutral/unknown (None), which decides its colour.
    """

    label: str
    value: str
    delta: str | None = None
    good: bool | None = None
    note: str | None = None


@dataclass
class ChartItem:
    """One chart slide: the figure, the one-line takeaway and the page it comes from.

    ``data`` is the frame the figure draws (the takeaway is computed from it, and a test checks
    that every number and name of the takeaway is in it or in the figure's title and subtitle).
    """

    section: str
    title: str
    figure: Any  # plotly Figure
    takeaway: str
    slug: str
    data: pd.DataFrame | None = None
    audience: str | None = None  # whom the chart covers (None: the pack's audience)


@dataclass
class TableItem:
    """One native table slide; ``frame`` is the full table (the ZIP writes all of it)."""

    section: str
    title: str
    frame: pd.DataFrame
    slug: str
    takeaway: str | None = None
    audience: str | None = None  # whom the table covers (None: the pack's audience)

    def shown(self, max_rows: int = TABLE_ROWS_SHOWN) -> pd.DataFrame:
        """The rows that fit on one slide or page."""
        return self.frame.head(max_rows)

    def cut_note(self, max_rows: int = TABLE_ROWS_SHOWN) -> str | None:
        """Footnote when rows were left out, e.g. "Top 12 of 40 rows; the ZIP has them all"."""
        if len(self.frame) <= max_rows:
            return None
        return f"First {max_rows} of {len(self.frame):,} rows; the ZIP export has the full table."


@dataclass
class ReviewContent:
    """Everything the pack shows, for one account, period and comparison."""

    account: str
    period_label: str
    comparison_label: str
    generated_at: datetime
    kpis: list[KpiItem] = field(default_factory=list)
    charts: list[ChartItem] = field(default_factory=list)
    tables: list[TableItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # data-quality or partial-data remarks
    segment_name: str | None = None  # None: all users
    kpi_headline: str = KEY_NUMBERS  # the KPI slide's headline, from the KPI cards
    glossary: list[tuple[str, str]] = field(default_factory=list)  # (measure, definition)

    def glossary_pages(self) -> list[tuple[str, list[str]]]:
        """The definition slides: (headline, one line per measure), GLOSSARY_PER_PAGE a page."""
        lines = [f"{name}: {definition}" for name, definition in self.glossary]
        chunks = [lines[i:i + GLOSSARY_PER_PAGE] for i in range(0, len(lines), GLOSSARY_PER_PAGE)]
        return [(f"{DEFINITIONS} ({i} of {len(chunks)})" if len(chunks) > 1 else DEFINITIONS,
                 chunk) for i, chunk in enumerate(chunks, start=1)]
    @property
    def segment_label(self) -> str | None:
        """E.g. "Segment: EMEA Sales — applies to engagement and task-list numbers"."""
        if self.segment_name is None:
            return None
        return f"Segment: {self.segment_name} — {SEGMENT_SCOPE}"

    @property
    def audience(self) -> str:
        """Whom the numbers cover, for every slide's footer: "All users" or "Segment: X"."""
        return ALL_USERS if self.segment_name is None else f"Segment: {self.segment_name}"

    def footer(self, audience: str | None = None) -> str:
        """Account, period, comparison and whom the slide covers (``audience``, by default the
        pack's): the footer of every content slide and page."""
        return "  ·  ".join((self.account, self.period_label, self.comparison_label,
                             audience or self.audience))

    @property
    def title(self) -> str:
        return f"Whatfix review: {self.account}"

    @property
    def generated_label(self) -> str:
        return f"Made {self.generated_at:%d %b %Y %H:%M} UTC"


# --------------------------------------------------------------------------- cell formatting


def _cut(text: str, max_chars: int = CELL_MAX_CHARS) -> str:
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + ELLIPSIS


def format_cell(column: str, value: Any) -> str:
    """A table cell as slide text: thousands separators, rates with %, dates as YYYY-MM-DD."""
    if value is None or (not isinstance(value, list | dict) and pd.isna(value)):
        return MISSING_CELL
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        value = float(value)
        if is_percent_column(column):
            return f"{value:.1f}%"
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.1f}"
    if isinstance(value, pd.Timestamp | datetime):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, date):
        return value.isoformat()
    return _cut(str(value))


def column_label(column: str) -> str:
    """Header text: the glossary's for a defined measure ("completed_pct" -> "Users who finished
    (%)"), else from the snake_case column: "views_previous" -> "Views previous"."""
    defined = glossary.column_header(str(column))
    if defined:
        return defined
    words = str(column).split("_")
    unit = ""
    if words[-1] == "pct":
        words, unit = words[:-1], " (%)"
    elif words[-1] == "s":
        words, unit = words[:-1], " (s)"
    text = " ".join(words).strip()
    return (text[:1].upper() + text[1:] + unit) if text else str(column)


def table_cells(item: TableItem, max_rows: int = TABLE_ROWS_SHOWN) -> list[list[str]]:
    """Header row plus formatted body rows of the part of the table that is shown."""
    shown = item.shown(max_rows)
    header = [column_label(c) for c in shown.columns]
    body = [
        [format_cell(str(col), val) for col, val in zip(shown.columns, row, strict=True)]
        for row in shown.astype(object).itertuples(index=False, name=None)
    ]
    return [header, *body]


def headline_size(text: str) -> int:
    """Point size of a slide headline: smaller for long takeaways, so they stay within the
    headline box (two lines at most on a 16:9 slide)."""
    for max_chars, size in HEADLINE_SIZES:
        if len(text) <= max_chars:
            return size
    return HEADLINE_MIN_PT


def kpi_columns(count: int) -> int:
    """Cards per row on the KPI slide: one row up to four, else two balanced rows (6 -> 3 + 3)."""
    return max(1, count if count <= MAX_KPI_COLUMNS else min(MAX_KPI_COLUMNS, -(-count // 2)))


def column_weights(cells: list[list[str]]) -> list[int]:
    """Relative column widths: each column's longest text, bounded so no column vanishes or
    swallows the table. The deck and the PDF both size their tables with this."""
    return [
        min(MAX_COL_CHARS, max(MIN_COL_CHARS, _header_chars(cells[0][i]),
                               *(len(row[i]) for row in cells[1:])))
        + COL_PADDING_CHARS
        for i in range(len(cells[0]))
    ]


def _header_chars(header: str) -> int:
    """Room a bold header needs: its longest word must not break, and it may wrap once."""
    longest_word = max((len(word) for word in header.split()), default=0)
    return max(int(longest_word * BOLD_WIDTH_FACTOR), -(-len(header) // 2))


def numeric_columns(frame: pd.DataFrame) -> set[int]:
    """Positions of numeric columns (right-aligned in tables)."""
    return {
        i
        for i, dtype in enumerate(frame.dtypes)
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    }
