"""PM notes ("Released v4.2") as vertical markers on an existing trend figure.

One helper for every trend (Overview, Flows, Self Help, Engagement, the review pack): the trend
builders stay as they are and the caller adds the notes afterwards. Notes are dashed lines with
a short label at the bottom of the plot (the content-edit markers are dotted, labelled at the
top), the full text in the label's hover.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from whatfix_data.charts import style

NOTE_COLOUR = style.OKABE_ITO["vermillion"]
NOTE_SHAPE_NAME = "annotation-note"
NOTE_LABEL_CHARS = 28
NOTE_LABEL_HEIGHTS = (0.02, 0.10, 0.18)
# More notes than this inside one chart: the rest are counted in the subtitle, not drawn.
MAX_NOTES_DRAWN = 30
LABEL_FLIP_AT = 0.8


def _x_days(fig: go.Figure) -> list[pd.Timestamp]:
    """Every x value of the figure's traces as a day (trend x values are ISO dates)."""
    days: list[pd.Timestamp] = []
    for trace in fig.data:
        for value in getattr(trace, "x", None) or ():
            try:
                days.append(pd.Timestamp(value).normalize())
            except (ValueError, TypeError):
                continue
    return days


def _plotted_span(fig: go.Figure) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First day of the first window to the (approximate) last day of the last one; None when
    nothing is plotted. Callers pass the notes of their date range, so this is only a guard."""
    days = sorted(set(_x_days(fig)))
    if not days:
        return None
    # The longest gap between window starts: a month's last window is up to 31 days long.
    step = max((b - a for a, b in itertools.pairwise(days)), default=pd.Timedelta(0))
    last = days[-1] + step - pd.Timedelta(days=1) if step > pd.Timedelta(0) else days[-1]
    return days[0], max(last, days[-1])


def _label(notes: list[Any]) -> tuple[str, str]:
    """(short label, full hover text) of the notes of one day, escaped for plotly."""
    first = style.escape_text(style.truncate(notes[0].text.replace("\n", " "), NOTE_LABEL_CHARS))
    more = f" +{len(notes) - 1}" if len(notes) > 1 else ""
    hover = "<br>".join(f"{n.day:%Y-%m-%d}: {style.escape_text(n.text)}" for n in notes)
    return f"✎ {first}{more}", hover


def add_annotations(fig: go.Figure, notes: Iterable[Any], flow_id: str | None = None) -> go.Figure:
    """Draw each note (``whatfix_data.annotations.Note``) dated inside the plotted windows.

    With ``flow_id`` (a one-flow trend), only the account-wide notes and that flow's are drawn;
    without it (an account trend), every note. Returns ``fig`` (changed in place).
    """
    span = _plotted_span(fig) if not style.is_empty_figure(fig) else None
    if span is None:
        return fig
    first, last = span
    by_day: dict[pd.Timestamp, list[Any]] = {}
    for note in notes:
        if flow_id is not None and note.flow_id not in (None, flow_id):
            continue
        day = pd.Timestamp(note.day)
        if first <= day <= last:
            by_day.setdefault(day, []).append(note)
    days = sorted(by_day)
    width = max((last - first).days, 1)
    for i, day in enumerate(days[:MAX_NOTES_DRAWN]):
        text, hover = _label(by_day[day])
        x = day.strftime("%Y-%m-%d")
        near_end = (day - first).days / width > LABEL_FLIP_AT
        fig.add_shape(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1,
                      line={"color": NOTE_COLOUR, "width": 1.5, "dash": "dash"},
                      name=NOTE_SHAPE_NAME)
        fig.add_annotation(x=x, xref="x", yref="paper", yanchor="bottom",
                           y=NOTE_LABEL_HEIGHTS[i % len(NOTE_LABEL_HEIGHTS)],
                           xanchor="right" if near_end else "left", showarrow=False,
                           text=text, hovertext=hover, font={"size": 11, "color": NOTE_COLOUR},
                           bgcolor="rgba(255,255,255,0.85)", name=NOTE_SHAPE_NAME)
    if len(days) > MAX_NOTES_DRAWN:
        note = f"{len(days) - MAX_NOTES_DRAWN} more days with notes not drawn"
        current = fig.layout.title.subtitle.text
        fig.update_layout(title_subtitle_text=f"{current} · {note}" if current else note)
    return fig
