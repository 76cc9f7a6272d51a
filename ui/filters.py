"""The sidebar filters (date range, comparison, granularity, segment), mirrored in the URL."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.session import LOGGER, settings
from whatfix_data import windows
from whatfix_data.errors import WhatfixError

PRESET_LABELS = windows.PRESET_LABELS
DEFAULT_PRESET = "last_30_days"
# The sidebar offers the three comparisons of the issue (a custom one is a data-layer option).
COMPARE_LABELS: dict[str, str] = {
    mode: windows.COMPARISON_LABELS[mode] for mode in ("none", "previous", "year")
}
DEFAULT_COMPARE = "previous"
GRANULARITY_LABELS: dict[str, str] = {"day": "Daily", "week": "Weekly", "month": "Monthly"}
AUTO_GRANULARITY = "auto"
ALL_USERS = "__all__"
EARLIEST_DATE = date(2015, 1, 1)
DATE_FORMAT = "YYYY-MM-DD"
# Widget keys of the global filters (kept in st.session_state across pages).
K_PRESET, K_START, K_END = "f_preset", "f_start", "f_end"
K_COMPARE, K_GRAN, K_SEGMENT = "f_compare", "f_gran", "f_segment"
K_LAST_VALID = "_f_last_valid_range"
K_QP_LOADED = "_f_query_params_loaded"
K_FILTERS = "_filters"
# Query parameter names of the shareable link.
QP_RANGE, QP_START, QP_END = "range", "start", "end"
QP_COMPARE, QP_GRAN, QP_SEGMENT = "compare", "gran", "segment"
QP_KEYS = (QP_RANGE, QP_START, QP_END, QP_COMPARE, QP_GRAN, QP_SEGMENT)

# ------------------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filters:
    """The global filters of the sidebar, resolved to dates."""

    preset: str
    date_range: windows.DateRange
    comparison: str
    comparison_range: windows.DateRange | None
    granularity: str
    segment_id: str | None
    segment_name: str | None

    @property
    def range_label(self) -> str:
        """E.g. "29 Oct – 27 Nov 2026"."""
        return self.date_range.label()

    @property
    def comparison_label(self) -> str:
        """E.g. "vs previous quarter (1 Apr – 30 Jun 2026)", or "" with no comparison."""
        words = windows.comparison_name(self.date_range, self.comparison, self.comparison_range,
                                        self.preset)
        return f"vs {words}" if words else ""

    @property
    def caption(self) -> str:
        """Both periods in words: "Last quarter (1 Jul – 30 Sep 2026) vs previous quarter
        (1 Apr – 30 Jun 2026)"."""
        return windows.period_caption(self.date_range, self.comparison, self.comparison_range,
                                      self.preset)

    @property
    def current_legend(self) -> str:
        """Legend name of the range, e.g. "Last quarter (1 Jul – 30 Sep 2026)"."""
        return windows.range_name(self.preset, self.date_range)

    @property
    def comparison_legend(self) -> str | None:
        """Legend name of the comparison, e.g. "Previous quarter (1 Apr – 30 Jun 2026)"."""
        words = windows.comparison_name(self.date_range, self.comparison, self.comparison_range,
                                        self.preset)
        return (words[:1].upper() + words[1:]) if words else None

    @property
    def window_pairs(self) -> list[windows.WindowPair]:
        """Window k of the range beside window k of the comparison (trend charts and tables)."""
        return windows.align_windows(self.date_range, self.comparison_range, self.granularity)


def today() -> date:
    """Today in UTC, or the `today` setting (WHATFIX_TODAY, YYYY-MM-DD) for demos and tests."""
    with contextlib.suppress(WhatfixError):  # unusable settings are reported where data loads
        if (override := settings().today) is not None:
            return override
    return windows.today_utc()


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _load_query_params_once() -> None:
    """Seed the filter widgets from the URL the first time a session runs (shared links)."""
    if st.session_state.get(K_QP_LOADED):
        return
    st.session_state[K_QP_LOADED] = True
    params = st.query_params
    preset = params.get(QP_RANGE)
    if preset in PRESET_LABELS:
        st.session_state[K_PRESET] = preset
    start, end = _parse_date(params.get(QP_START)), _parse_date(params.get(QP_END))
    if preset == "custom" and start and end:
        st.session_state[K_START], st.session_state[K_END] = start, end
    if params.get(QP_COMPARE) in COMPARE_LABELS:
        st.session_state[K_COMPARE] = params.get(QP_COMPARE)
    gran = params.get(QP_GRAN)
    if gran in GRANULARITY_LABELS or gran == AUTO_GRANULARITY:
        st.session_state[K_GRAN] = gran
    if params.get(QP_SEGMENT):
        st.session_state[K_SEGMENT] = params.get(QP_SEGMENT)


def _write_query_params(current: Filters) -> None:
    """Mirror the filters in the URL so the view can be shared; only touch our own keys."""
    wanted = {QP_RANGE: current.preset, QP_COMPARE: current.comparison}
    if current.preset == "custom":
        wanted[QP_START] = current.date_range.start.isoformat()
        wanted[QP_END] = current.date_range.end.isoformat()
    gran = st.session_state.get(K_GRAN, AUTO_GRANULARITY)
    if gran != AUTO_GRANULARITY:
        wanted[QP_GRAN] = gran
    if current.segment_id:
        wanted[QP_SEGMENT] = current.segment_id
    for key in QP_KEYS:
        if key in wanted and st.query_params.get(key) != wanted[key]:
            st.query_params[key] = wanted[key]
        elif key not in wanted and key in st.query_params:
            del st.query_params[key]


def _date_inputs(preset: str) -> windows.DateRange:
    """Start and end inputs: editable for custom dates, showing the preset's dates otherwise."""
    now = today()
    if preset != "custom" or K_START not in st.session_state:
        resolved = windows.resolve_preset(preset if preset != "custom" else DEFAULT_PRESET, now)
        st.session_state[K_START], st.session_state[K_END] = resolved.start, resolved.end
    disabled = preset != "custom"
    start = st.date_input(
        "Start", key=K_START, min_value=EARLIEST_DATE, max_value=now, disabled=disabled,
        format=DATE_FORMAT,
    )
    end = st.date_input(
        "End", key=K_END, min_value=EARLIEST_DATE, max_value=now, disabled=disabled,
        format=DATE_FORMAT,
    )
    if start > end:
        fallback = st.session_state.get(K_LAST_VALID) or windows.resolve_preset(DEFAULT_PRESET, now)
        st.error(
            f"The start date ({start:%Y-%m-%d}) is after the end date ({end:%Y-%m-%d}). "
            f"Pick a start on or before the end; showing {fallback.start:%Y-%m-%d} – "
            f"{fallback.end:%Y-%m-%d} meanwhile."
        )
        return fallback
    valid = windows.DateRange(start, end)
    st.session_state[K_LAST_VALID] = valid
    return valid


def _granularity_input(date_range: windows.DateRange) -> str:
    """Day / week / month; "automatic" follows the length of the range.

    The option's text never changes ("Automatic"); the choice it makes for this range is
    written beneath it. An option text that changed with the range ("Automatic (weekly)") was
    seen to keep its old text in the browser after the range changed (issue 10).
    """
    automatic = windows.default_granularity(date_range)
    options = [AUTO_GRANULARITY, *GRANULARITY_LABELS]
    if st.session_state.get(K_GRAN) not in options:
        st.session_state[K_GRAN] = AUTO_GRANULARITY
    choice = st.selectbox(
        "Granularity",
        options,
        key=K_GRAN,
        format_func=lambda g: "Automatic" if g == AUTO_GRANULARITY else GRANULARITY_LABELS[g],
        help="The size of each point of the trend charts. Automatic: daily up to "
        f"{windows.DAILY_MAX_DAYS} days, weekly up to {windows.WEEKLY_MAX_DAYS} days, "
        "monthly beyond.",
    )
    if choice == AUTO_GRANULARITY:
        st.caption(f"Automatic: {GRANULARITY_LABELS[automatic].lower()} for "
                   f"{_days(date_range.days)}.")
    return automatic if choice == AUTO_GRANULARITY else choice


def _days(count: int) -> str:
    return f"{count:,} day" + ("" if count == 1 else "s")


def _segment_input() -> tuple[str | None, str | None]:
    """The segment filter; offers only "All users" when the segment list cannot be loaded."""
    from ui.data import load  # ui.data reads these filters: imported here, not at the top

    names: dict[str, str] = {}
    try:
        frame = load("segments", warn_stale=False).frame
        names = {
            str(sid): str(name) if pd.notna(name) else str(sid)
            for sid, name in zip(frame["segment_id"], frame["name"], strict=True)
            if pd.notna(sid)
        }
    except Exception:  # WhatfixError or a data-layer bug: the filter is optional, never fatal
        LOGGER.warning("Segment list unavailable for the sidebar filter", exc_info=True)
        st.caption("Segments could not be loaded: the segment filter is off.")
    options = [ALL_USERS, *names]
    if st.session_state.get(K_SEGMENT) not in options:
        st.session_state[K_SEGMENT] = ALL_USERS
    choice = st.selectbox(
        "Segment",
        options,
        key=K_SEGMENT,
        format_func=lambda sid: "All users" if sid == ALL_USERS else names.get(sid, sid),
        help="Applies to per-user data: engagement and task completion.",
    )
    return (None, None) if choice == ALL_USERS else (choice, names[choice])


def sidebar_filters() -> Filters:
    """Draw the global filters in the sidebar, store and return them (called by app.py)."""
    _load_query_params_once()
    st.session_state.setdefault(K_PRESET, DEFAULT_PRESET)
    st.session_state.setdefault(K_COMPARE, DEFAULT_COMPARE)
    with st.sidebar:
        st.subheader("Filters")
        preset = st.selectbox(
            "Date range", list(PRESET_LABELS), key=K_PRESET, format_func=PRESET_LABELS.get
        )
        date_range = _date_inputs(preset)
        comparison = st.selectbox(
            "Compare with", list(COMPARE_LABELS), key=K_COMPARE, format_func=COMPARE_LABELS.get
        )
        granularity = _granularity_input(date_range)
        segment_id, segment_name = _segment_input()
    current = Filters(
        preset=preset,
        date_range=date_range,
        comparison=comparison,
        comparison_range=windows.comparison_range(date_range, comparison, preset=preset,
                                                  granularity=granularity),
        granularity=granularity,
        segment_id=segment_id,
        segment_name=segment_name,
    )
    st.session_state[K_FILTERS] = current
    _write_query_params(current)
    return current


def leave_legacy_pages_mode() -> None:
    """Rerun through app.py when Streamlit ran this script in its legacy `pages/` folder mode.

    Streamlit decides per process, before any script runs, whether a `pages/` folder means the
    old automatic multipage mode; st.navigation switches that off, but only once app.py ran. The
    first run of a process (and every AppTest run) can therefore run a page on its own, or show
    the folder's file list as navigation. Switching the mode off and rerunning fixes both.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if get_script_run_ctx() is not None:
            st.rerun()


def filters() -> Filters:
    """The filters drawn by app.py in this run (pages call this)."""
    leave_legacy_pages_mode()
    current = st.session_state.get(K_FILTERS)
    if current is None:  # a page run on its own (tests): draw the sidebar here
        current = sidebar_filters()
    return current
