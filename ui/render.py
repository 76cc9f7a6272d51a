"""Rendering: sections that fail on their own, tables and charts with downloads, KPI cards."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from ui import shell
from ui.annotations import annotate
from ui.filters import filters
from ui.session import LOGGER, md_escape, settings
from whatfix_data import charts, exports, glossary, images
from whatfix_data.analytics.kpis import format_value as format_kpi
from whatfix_data.errors import WhatfixError

KPI_CARDS_PER_ROW = 3
UNEXPECTED_ERROR = (
    "This section could not be drawn because of an unexpected error (details are in the server "
    "log). Reload the page; if it persists, use Refresh on the Data Health page."
)

# -------------------------------------------------------------------------------------- errors


@contextmanager
def section(title: str | None = None) -> Iterator[None]:
    """Render one part of a page; a failure shows an error here and the rest of the page goes on."""
    shell.run_through_app()  # a page run without app.py (legacy pages/ mode) goes through it
    if title:
        st.subheader(title)
    try:
        yield
    except WhatfixError as exc:
        st.error(md_escape(exc.user_message), icon=":material/error:")
    except Exception:  # never a traceback on screen: log it, say what to do
        LOGGER.exception("Section %r failed", title)
        st.error(UNEXPECTED_ERROR, icon=":material/error:")


# -------------------------------------------------------------------------------------- tables


def _column_label(name: str) -> str:
    """The glossary's header for a defined measure ("Users who finished (%)"), else snake_case
    -> "Sentence case" with the unit: views_change_pct -> "Views change (%)"."""
    defined = glossary.column_header(name)
    if defined:
        return defined
    unit = ""
    base = name
    for suffix, suffix_unit in (("_pct", " (%)"), ("_pts", " (pts)"), ("_s", " (s)")):
        if name.endswith(suffix):
            base, unit = name[: -len(suffix)], suffix_unit
            break
    words = base.replace("_", " ").strip()
    return (words[:1].upper() + words[1:] + unit) if words else name


def _is_rate(series: pd.Series) -> bool:
    """A share of 0..100 (progress bar), as opposed to a signed change in percent."""
    if "change" in str(series.name) or not pd.api.types.is_numeric_dtype(series.dtype):
        return False
    known = series.dropna()
    return known.empty or bool(known.between(0, 100).all())


def column_config(frame: pd.DataFrame) -> dict[str, Any]:
    """Formatted columns: progress bars for rates (0..100), dates, seconds, readable headers."""
    config: dict[str, Any] = {}
    for name in frame.columns:
        label = _column_label(str(name))
        series = frame[name]
        if str(name).endswith("_pct") and _is_rate(series):
            config[name] = st.column_config.ProgressColumn(
                label, min_value=0, max_value=100, format="%.1f%%"
            )
        elif str(name).endswith(("_pct", "_pts")):  # changes: signed, may pass 100
            unit = "%%" if str(name).endswith("_pct") else " pts"
            config[name] = st.column_config.NumberColumn(label, format=f"%+.1f{unit}")
        elif isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
            series.dtype
        ):
            config[name] = st.column_config.DatetimeColumn(label, format="YYYY-MM-DD HH:mm")
        elif series.dtype == object and len(series) and isinstance(series.iloc[0], date):
            config[name] = st.column_config.DateColumn(label, format="YYYY-MM-DD")
        elif str(name).endswith("_s") and pd.api.types.is_numeric_dtype(series.dtype):
            config[name] = st.column_config.NumberColumn(label, format="%.0f s")
        elif pd.api.types.is_integer_dtype(series.dtype):  # counts: 12,706 rather than 12706
            config[name] = st.column_config.NumberColumn(label, format="localized")
        elif pd.api.types.is_float_dtype(series.dtype):
            config[name] = st.column_config.NumberColumn(label, format="%.2f")
        else:
            config[name] = st.column_config.Column(label)
        defined = glossary.find(str(name))
        if defined is not None:  # the definition as the header's tooltip
            config[name]["help"] = defined.definition
    return config


def file_name(title: str, extension: str) -> str:
    """Download name: title, account and range, e.g. flows_acme-demo_2026-10-29_2026-11-27.csv."""
    return f"{charts.figure_filename(title, iso_range_label(), settings().account_id)}.{extension}"


def names_first(frame: pd.DataFrame) -> pd.DataFrame:
    """Internal ids (flow_id, segment_id...) moved after the other columns when a name column
    says the same in words: a reader scans names; the id stays for lookups and downloads.
    User ids stay in place: admins know users by them."""
    columns = [str(c) for c in frame.columns]
    ids = [c for c in columns if c.endswith("_id") and c != "user_id"
           and (f"{c[:-3]}_name" in columns or "name" in columns)]
    if not ids:
        return frame
    return frame[[c for c in columns if c not in ids] + ids]


def stem_file_name(stem: str, extension: str) -> str:
    """A download name from free text made safe, e.g. "CRM export (2) outcomes" ->
    crm-export-2-outcomes.csv (for files that do not depend on the filters)."""
    return f"{charts.figure_filename(stem, '')}.{extension}"


def iso_range_label() -> str:
    """The range as ISO dates ("2026-10-29 – 2026-11-27"), the form used in file names."""
    current = filters().date_range
    return f"{current.start:%Y-%m-%d} – {current.end:%Y-%m-%d}"


def table(
    frame: pd.DataFrame,
    *,
    key: str,
    title: str,
    empty: str = "Nothing to show for these filters.",
    config: Mapping[str, Any] | None = None,
    height: int | None = None,
    file_stem: str | None = None,
) -> None:
    """An st.dataframe with formatted columns and CSV/XLSX downloads of exactly what it shows.

    Downloads are named after the title, account and date range (:func:`file_name`); a table
    that does not depend on the filters (User Sync) gives its own `file_stem` instead, and then
    does not read the sidebar filters at all.
    """
    if frame.empty:
        st.info(empty, icon=":material/info:")
        return
    frame = names_first(frame)

    def download_name(extension: str) -> str:
        return stem_file_name(file_stem, extension) if file_stem else file_name(title, extension)

    merged = column_config(frame) | dict(config or {})
    st.dataframe(frame, hide_index=True, column_config=merged, height=height or "auto")
    row = st.container(horizontal=True)
    row.download_button(
        "Download CSV",
        data=lambda: exports.to_csv_bytes(frame),
        file_name=download_name("csv"),
        mime="text/csv",
        key=f"csv_{key}",
        icon=":material/download:",
        on_click="ignore",
    )
    row.download_button(
        "Download XLSX",
        data=lambda: exports.to_xlsx_bytes(frame, sheet_name=title),
        file_name=download_name("xlsx"),
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"xlsx_{key}",
        icon=":material/download:",
        on_click="ignore",
    )


# -------------------------------------------------------------------------------------- charts


@st.cache_resource(show_spinner=False)
def _image_export_problem() -> str | None:
    """Why chart images cannot be made in this process (no Chromium), or None when they can."""
    try:
        images.find_chromium()
    except WhatfixError as exc:
        return exc.user_message
    return None


# Each chart's image downloads: label (also the extension and key prefix), maker, MIME type, what.
_IMAGE_DOWNLOADS = (
    ("PNG", images.figure_to_png, "image/png", "a PNG image (2x scale)"),
    ("SVG", images.figure_to_svg, "image/svg+xml", "an SVG vector image"),
)


def chart(fig: Any, *, key: str, data: pd.DataFrame | None = None, notes: bool = False,
          flow_id: str | None = None) -> None:
    """A plotly chart with its modebar file name, lazy PNG/SVG downloads and its raw data.

    ``notes``: a trend; the account's notes of the range are drawn on it (only the account-wide
    ones and ``flow_id``'s on a one-flow trend).
    """
    if notes:
        fig = annotate(fig, filters().date_range, flow_id)
    title = charts.figure_title(fig) or "chart"
    config = charts.config_for(title, iso_range_label(), settings().account_id)
    st.plotly_chart(fig, config=config, key=f"chart_{key}")
    problem = _image_export_problem()
    row = st.container(horizontal=True)
    for label, make, mime, what in _IMAGE_DOWNLOADS:
        row.download_button(
            label,
            data=lambda make=make: make(fig),
            file_name=file_name(title, label.lower()),
            mime=mime,
            key=f"{label.lower()}_{key}",
            icon=":material/image:",
            on_click="ignore",
            disabled=problem is not None,
            help=problem or f"The chart as {what}.",
        )
    if data is not None:
        with st.expander("Raw data"):
            table(data, key=f"raw_{key}", title=f"{title} data")


# ---------------------------------------------------------------------------------------- KPIs


def _delta_colour(delta: str | None, good: bool | None) -> str:
    """st.metric colours a rise green; flip it when a rise is bad news, grey when unknown."""
    if not delta or good is None:
        return "off"
    rising = not delta.strip().startswith(("-", "−"))
    return "normal" if rising == good else "inverse"


def _with_significance(card: Any, delta: str | None,
                       note: str | None) -> tuple[str | None, str | None, bool | None]:
    """The delta with "real change" / "within noise" / "too few to judge", the help with the
    p-value and the method; a change that is not real is drawn grey, not as good or bad news."""
    verdict = getattr(card, "significance", None)
    if verdict is None or not delta:
        return delta, note, card.good
    note = f"{note or ''} The change is {verdict.label}. {verdict.method}".strip()
    return f"{delta} · {verdict.short}", note, card.good if verdict.significant else None


def kpi_row(cards: list[Any], comparison_label: str = "", segment_name: str | None = None) -> None:
    """KPI cards (``analytics.Kpi``) in rows: each with its definition in the help and, under it,
    whom it covers (the segment, or all users with the reason the segment does not apply)."""
    if not cards:
        st.info("No KPI could be computed for these filters.")
        return
    columns: list[Any] = []
    for first in range(0, len(cards), KPI_CARDS_PER_ROW):
        columns += st.columns(KPI_CARDS_PER_ROW)[: len(cards[first:first + KPI_CARDS_PER_ROW])]
    for column, card in zip(columns, cards, strict=True):
        delta = card.delta_label
        note = card.definition
        if card.previous is not None and comparison_label:
            note += f" It was {format_kpi(card.previous, card.unit)} {comparison_label}."
        # A change that would mislead is said in words: a few on the card, the sentence in help.
        caveat = getattr(card, "note_short", None)
        if caveat:
            note = " ".join(filter(None, [card.note, note]))
        delta, note, good = _with_significance(card, delta, note)
        column.metric(
            card.name,
            card.value_label,
            delta=caveat or delta,
            delta_color="off" if caveat else _delta_colour(delta, good),
            delta_arrow="off" if caveat else "auto",
            help=note,
            border=True,
        )
        column.caption(md_escape(card.scope_label(segment_name)))
