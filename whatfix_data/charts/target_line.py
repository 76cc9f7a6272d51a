"""A target drawn on an existing figure: a dotted horizontal (or vertical) line with its label.

Pages and the review pack call :func:`add_target_line` on a figure from the other chart modules,
so targets appear on the same charts as the numbers they judge.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from whatfix_data.charts import style

TARGET_COLOUR = style.OKABE_ITO["vermillion"]  # apart from the first series colours
TARGET_NAME = "target"


def add_target_line(fig: go.Figure, value: float, label: str, *, axis: str = "y",
                    breached: bool | None = None) -> go.Figure:
    """Add the target ``value`` as a dotted line across the plot (``axis="y"``: horizontal at
    y = value; ``"x"``: vertical, for horizontal bar charts), labelled ``label`` (escaped).

    Returns the same figure. ``breached`` adds "(breached)" / "(met)" to the label.
    """
    text = style.escape_text(label)
    if breached is not None:
        text += " (breached)" if breached else " (met)"
    line = {"color": TARGET_COLOUR, "dash": "dot", "width": 2}
    common: dict[str, Any] = {"line": line, "annotation_text": text, "name": TARGET_NAME,
                              "annotation_font_color": TARGET_COLOUR}
    if axis == "x":
        fig.add_vline(x=value, annotation_position="top", **common)
    else:
        fig.add_hline(y=value, annotation_position="top left", **common)
    return fig


def target_lines(fig: go.Figure) -> list[dict[str, Any]]:
    """The target lines of a figure (shape dicts), for tests and the pack."""
    return [shape.to_plotly_json() for shape in fig.layout.shapes
            if getattr(shape, "name", None) == TARGET_NAME]
