"""The sidebar filters (date range, comparison, granularity, segment), bound to the URL.

Every filter is a widget with ``bind="query-params"``: its key is the query parameter and its
shown label the value (``?range=Last+7+days&compare=No+comparison``), a value equal to the
widget's default is left out, and a shared link seeds the widgets of a fresh session.
"""

from __future__ import annotations

import contextlib
from datetime import date

import pandas as pd
import streamlit as st

from ui import shell, view
from ui.data import load
from ui.session import LOGGER, settings
from ui.view import Filters
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
ALL_USERS_LABEL = "All users"
EARLIEST_DATE = date(2015, 1, 1)
DATE_FORMAT = "YYYY-MM-DD"
# Widget keys of the global filters: each is also the query parameter of the shareable link.
K_PRESET, K_START, K_END = "range", "start", "end"
K_COMPARE, K_GRAN, K_SEGMENT = "compare", "gran", "segment"
URL_KEYS = (K_PRESET, K_START, K_END, K_COMPARE, K_GRAN, K_SEGMENT)
K_LAST_VALID = "_f_last_valid_range"
BOUND = "query-params"

__all__ = ["Filters", "filters", "sidebar_filters", "today"]

def today() -> date:
    """`windows.today_for` the app's settings (WHATFIX_TODAY when set, else the UTC date)."""
    with contextlib.suppress(WhatfixError):  # unusable settings are reported where data loads
        return windows.today_for(settings())
    return windows.today_for()


def _date_inputs(preset: str) -> windows.DateRange:
    """Start and end inputs: editable (and in the URL) for custom dates, else the preset's dates.

    A custom range starts from the dates shown before (the preset's); a shared link's
    ``start``/``end`` win over that on the first run of a session (Streamlit's binding rules).
    The inputs have no default of their own (``value=None``), so both dates are always in the
    URL of a custom range, today included.
    """
    now = today()
    custom = preset == "custom"
    if not custom or st.session_state.get(K_START) is None or st.session_state.get(K_END) is None:
        shown = st.session_state.get(K_LAST_VALID) if custom else None
        resolved = shown or windows.resolve_preset(preset if not custom else DEFAULT_PRESET, now)
        st.session_state[K_START], st.session_state[K_END] = resolved.start, resolved.end
    bind = BOUND if custom else None
    start = st.date_input(
        "Start", value=None, key=K_START, min_value=EARLIEST_DATE, max_value=now,
        disabled=not custom, format=DATE_FORMAT, bind=bind,
    )
    end = st.date_input(
        "End", value=None, key=K_END, min_value=EARLIEST_DATE, max_value=now,
        disabled=not custom, format=DATE_FORMAT, bind=bind,
    )
    fallback = st.session_state.get(K_LAST_VALID) or windows.resolve_preset(DEFAULT_PRESET, now)
    if start is None or end is None:
        st.error(f"Pick both a start and an end date; showing {fallback.start:%Y-%m-%d} – "
                 f"{fallback.end:%Y-%m-%d} meanwhile.")
        return fallback
    if start > end:
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
    choice = st.selectbox(
        "Granularity",
        options,
        key=K_GRAN,
        bind=BOUND,
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
    """The segment filter; offers only "All users" when the segment list cannot be loaded.

    The URL holds the segment's name (its id too when two segments share a name).
    """
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
    labels = _segment_labels(names)
    options = [ALL_USERS, *names]
    if st.session_state.get(K_SEGMENT) not in options:
        st.session_state[K_SEGMENT] = ALL_USERS
    choice = st.selectbox(
        "Segment",
        options,
        key=K_SEGMENT,
        bind=BOUND,
        format_func=lambda sid: labels.get(sid, sid),
        help="Applies to per-user data: engagement and task completion.",
    )
    return (None, None) if choice == ALL_USERS else (choice, names[choice])


def _segment_labels(names: dict[str, str]) -> dict[str, str]:
    """The label of each option (its value in the URL): "All users", then the segment names."""
    return {ALL_USERS: ALL_USERS_LABEL, **view.option_labels(names, reserved={ALL_USERS_LABEL})}


def sidebar_filters() -> Filters:
    """Draw the global filters in the sidebar, store and return them (called by app.py)."""
    presets, comparisons = list(PRESET_LABELS), list(COMPARE_LABELS)
    with st.sidebar:
        st.subheader("Filters")
        preset = st.selectbox(
            "Date range", presets, index=presets.index(DEFAULT_PRESET), key=K_PRESET,
            format_func=PRESET_LABELS.get, bind=BOUND,
        )
        date_range = _date_inputs(preset)
        comparison = st.selectbox(
            "Compare with", comparisons, index=comparisons.index(DEFAULT_COMPARE),
            key=K_COMPARE, format_func=COMPARE_LABELS.get, bind=BOUND,
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
    view.store(current)
    return current


def filters() -> Filters:
    """The filters drawn by app.py in this run (pages call this first).

    A page that runs without app.py (Streamlit's legacy ``pages/`` mode on the first run of a
    process, or a page opened on its own in a test) goes through app.py instead, or, when
    there is no app.py around it, draws the sidebar filters itself.
    """
    if shell.in_app():
        return view.current_filters()
    shell.run_through_app()
    return view.drawn_this_run() or sidebar_filters()
