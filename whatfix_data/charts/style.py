"""Shared look of every chart: palette, layout, axes, safe labels, empty state, file names."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from whatfix_data.windows import DateRange

# Okabe & Ito (2008): eight colours distinguishable with the common colour-vision deficiencies.
OKABE_ITO: dict[str, str] = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "bluish_green": "#009E73",
    "vermillion": "#D55E00",
    "sky_blue": "#56B4E9",
    "reddish_purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
# Series order: the strongest contrasts first; yellow last because it is faint on white.
PALETTE: tuple[str, ...] = (
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["black"],
    OKABE_ITO["yellow"],
)
GOOD_COLOUR = OKABE_ITO["bluish_green"]
BAD_COLOUR = OKABE_ITO["vermillion"]
NEUTRAL_COLOUR = "#8C8C8C"
# Comparison series: same hue, dashed and see-through, so "previous" reads as a backdrop.
PREVIOUS_OPACITY = 0.55
PREVIOUS_DASH = "dash"
PREVIOUS_LIGHTEN = 0.5

FONT_FAMILY = "Inter, 'Source Sans Pro', Arial, sans-serif"
TITLE_FONT_SIZE = 17
# The styling every chart shares, as plotly's default template: a default template is applied
# to each new figure without validation (about 1 ms), where `template=` in a layout update
# validates the whole template again (10-13 ms a figure, a quarter of the Overview's drawing).
TEMPLATE_NAME = "whatfix"
_template = go.layout.Template(pio.templates["plotly_white"])
_template.layout.update(colorway=list(PALETTE),
                        font={"family": FONT_FAMILY, "size": 13, "color": "#222222"},
                        hoverlabel={"font": {"family": FONT_FAMILY}, "align": "left"})
pio.templates[TEMPLATE_NAME] = _template
pio.templates.default = TEMPLATE_NAME
NAME_MAX_CHARS = 40          # longer names are cut with "…"; the full name stays in the hover
UNNAMED = "(unnamed)"

# Height: a fixed frame plus one row per bar, clamped so a chart never collapses or runs away.
BAR_ROW_PX = 26
BAR_FRAME_PX = 170
MIN_HEIGHT_PX = 340
MAX_HEIGHT_PX = 1400
DEFAULT_HEIGHT_PX = 420
DEFAULT_TOP_N = 30
RANKED_PER_END = 15           # ranked charts of best and worst: this many at each end
FEW_BARS_GAP = 0.45          # a chart with few bars keeps them slim rather than slab-like

COUNT_DTICK_ONE_BELOW = 10   # up to this maximum, count axes tick every 1 (no repeated "1, 1, 2")
PERCENT_RANGE = (0, 100)
SECONDS_PER_MINUTE = 60
MINUTES_ABOVE_S = 180        # durations whose median is above this are shown in minutes

TOP_MARGIN_PX = 64            # room for title + subtitle above the plot
FILENAME_MAX_CHARS = 120
IMAGE_SCALE = 2


# ---------------------------------------------------------------------------------------------
# Safe text


def lighten(colour: str, amount: float = PREVIOUS_LIGHTEN) -> str:
    """`colour` ("#RRGGBB") mixed with white by `amount` (0..1): the comparison shade of a hue.

    A real colour, unlike opacity, so the legend swatch matches the bars.
    """
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = [round(c + (255 - c) * amount) for c in rgb]
    return "#" + "".join(f"{c:02X}" for c in mixed)


def escape_text(value: Any) -> str:
    """Text from the API as literal plotly text: `<`, `>` and `&` escaped, missing -> "(unnamed)".

    Plotly renders a subset of HTML (`<b>`, `<br>`, `<a href>`) in titles, ticks, legends and
    hovers; escaping makes a flow called `<b>x</b>` show exactly that.
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return UNNAMED
    text = str(value).strip()
    return html.escape(text, quote=False) if text else UNNAMED


def truncate(text: str, max_chars: int = NAME_MAX_CHARS) -> str:
    """Cut plain text to `max_chars` characters, ending with an ellipsis when cut."""
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"


def short_label(value: Any, max_chars: int = NAME_MAX_CHARS) -> str:
    """Escaped, truncated label. Truncates before escaping so no entity is cut in half."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return UNNAMED
    return escape_text(truncate(str(value).strip(), max_chars))


def plain_values(values: Iterable[Any]) -> list[Any]:
    """Python scalars for figure data: NA -> None, numpy numbers -> int/float.

    Plain lists keep the figure JSON readable (plotly would encode numpy arrays as binary).
    """
    out: list[Any] = []
    for value in values:
        if value is None or (not isinstance(value, (str, list, dict)) and pd.isna(value)):
            out.append(None)
        elif hasattr(value, "item"):
            out.append(value.item())
        else:
            out.append(value)
    return out


def iso_dates(values: Iterable[Any]) -> list[str]:
    """Dates / timestamps as "YYYY-MM-DD" strings for a date x-axis."""
    return [pd.Timestamp(v).strftime("%Y-%m-%d") for v in values]


def period_label(name: str, start: date | datetime | str, end: date | datetime | str) -> str:
    """Legend label of a period in the dashboard's one date style (``windows.DateRange.label``),
    e.g. "Previous period (1 Aug – 30 Aug 2026)"."""
    span = DateRange(pd.Timestamp(start).date(), pd.Timestamp(end).date())
    return f"{name} ({span.label()})"


# ---------------------------------------------------------------------------------------------
# Layout


def bar_height(n_bars: int, rows_per_bar: float = 1.0) -> int:
    """Figure height in pixels for `n_bars` horizontal bars (grouped bars: rows_per_bar > 1)."""
    wanted = BAR_FRAME_PX + math.ceil(n_bars * rows_per_bar * BAR_ROW_PX)
    return max(MIN_HEIGHT_PX, min(MAX_HEIGHT_PX, wanted))


def count_axis(title: str, max_value: float | None = None) -> dict[str, Any]:
    """Axis settings for counts: integers only, starting at zero, thousands separators."""
    axis: dict[str, Any] = {
        "title": {"text": title},
        "tickformat": ",d",
        "rangemode": "tozero",
        "automargin": True,
    }
    if max_value is None or pd.isna(max_value) or max_value <= COUNT_DTICK_ONE_BELOW:
        axis["dtick"] = 1
    if max_value is None or pd.isna(max_value) or max_value <= 0:
        axis["range"] = [0, 1]  # an all-zero series still gets a readable 0..1 axis
    return axis


def percent_axis(title: str) -> dict[str, Any]:
    """Axis settings for percentages 0..100 with a % suffix."""
    return {
        "title": {"text": title},
        "range": list(PERCENT_RANGE),
        "ticksuffix": "%",
        "automargin": True,
    }


def category_axis(keys: Sequence[str], labels: Sequence[str], *, reverse: bool) -> dict[str, Any]:
    """Axis of named bars: unique keys as positions, escaped short names as tick text."""
    return {
        "type": "category",
        "categoryorder": "array",
        "categoryarray": list(keys),
        "tickmode": "array",
        "tickvals": list(keys),
        "ticktext": list(labels),
        "autorange": "reversed" if reverse else True,
        "automargin": True,
        "ticklabelstandoff": 6,  # a gap between a name and its bar
        "title": {"text": ""},
    }


def duration_unit(seconds: Iterable[Any]) -> tuple[float, str]:
    """(divisor, unit) to show durations: minutes when the typical value is long, else seconds."""
    numbers = pd.to_numeric(pd.Series(list(seconds), dtype="object"), errors="coerce").dropna()
    if not numbers.empty and float(numbers.median()) > MINUTES_ABOVE_S:
        return float(SECONDS_PER_MINUTE), "min"
    return 1.0, "s"


def apply_layout(
    fig: go.Figure,
    title: str,
    *,
    subtitle: str | None = None,
    height: int = DEFAULT_HEIGHT_PX,
    show_legend: bool | None = None,
) -> go.Figure:
    """The shared layout: title/subtitle, legend, margins and height (over the default template:
    white background, Okabe-Ito colourway, fonts)."""
    layout: dict[str, Any] = {
        # Title pinned to the top-left of the figure, legend to its bottom edge: neither can
        # collide with the plot, the axis titles or each other, whatever the legend's length.
        "title": {
            "text": title,
            "x": 0,
            "xanchor": "left",
            "xref": "container",
            "y": 1,
            "yanchor": "top",
            "yref": "container",
            "pad": {"l": 12, "t": 12},
            "font": {"size": TITLE_FONT_SIZE},
            "automargin": True,
        },
        "height": height,
        "margin": {"l": 12, "r": 40, "t": TOP_MARGIN_PX, "b": 12},
        "legend": {
            "orientation": "h",
            "x": 0.01,
            "xanchor": "left",
            "xref": "container",
            "y": 0,
            "yanchor": "bottom",
            "yref": "container",
            "font": {"size": 12},
            # Plotly reverses the legend of stacked bars by default; keep the stacking order.
            "traceorder": "normal",
        },
        "bargap": FEW_BARS_GAP if height <= MIN_HEIGHT_PX else 0.25,
    }
    if subtitle:
        layout["title"]["subtitle"] = {"text": subtitle, "font": {"size": 12, "color": "#555555"}}
    if show_legend is not None:
        layout["showlegend"] = show_legend
    fig.update_layout(**layout)
    return fig


def empty_figure(title: str, message: str, *, subtitle: str | None = None) -> go.Figure:
    """A titled figure whose plot area says why there is nothing to draw.

    `message` is plotly text written by us: escape any API name put into it (escape_text).
    """
    fig = go.Figure()
    apply_layout(fig, title, subtitle=subtitle, height=MIN_HEIGHT_PX, show_legend=False)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.add_annotation(
        text=message,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font={"size": 15, "color": "#555555"},
        name="empty-state",
    )
    return fig


def is_empty_figure(fig: go.Figure) -> bool:
    """True for figures made by `empty_figure` (used by pages and exports to skip them)."""
    return any(a.name == "empty-state" for a in fig.layout.annotations)


# ---------------------------------------------------------------------------------------------
# File names and the modebar download


def _slug(text: str) -> str:
    """Lower-case ASCII words joined by "-"; everything else dropped."""
    plain = html.unescape(text)
    plain = plain.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def figure_filename(title: str, date_range_label: str, account: str | None = None) -> str:
    """Safe file name stem (no extension) from title, date range and account.

    Example: ("Completion rate by flow", "2026-09-01 – 2026-09-30", "acme-demo")
    -> "acme-demo_completion-rate-by-flow_2026-09-01-2026-09-30".
    """
    parts = [_slug(p) for p in (account or "", title, date_range_label)]
    stem = "_".join(p for p in parts if p) or "chart"
    return stem[:FILENAME_MAX_CHARS].rstrip("-_")


def figure_title(fig: go.Figure) -> str:
    """The plain-text title of a figure (entities decoded), "" when untitled."""
    return html.unescape(fig.layout.title.text or "")


def config_for(fig_title: str, date_range_label: str, account: str | None = None) -> dict[str, Any]:
    """Plotly config for st.plotly_chart: modebar PNG download named after the chart and range."""
    return {
        "displaylogo": False,
        "responsive": True,
        "modeBarButtonsToRemove": ["lasso2d", "select2d"],
        "toImageButtonOptions": {
            "format": "png",
            "filename": figure_filename(fig_title, date_range_label, account),
            "scale": IMAGE_SCALE,
        },
    }
