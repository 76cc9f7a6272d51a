"""The shared Streamlit widgets of the dashboard: filters, data access, tables, charts, errors.

Pages stay short: they read the filters (:func:`filters`), load datasets (:func:`load`), call the
pure functions of ``whatfix_data``, and render with :func:`table`, :func:`chart` and
:func:`section`. Everything Streamlit-specific that more than one page needs lives here, once.

Caching: ``st.cache_data`` and ``st.cache_resource`` are shared by every browser session of the
process, so every cached function is keyed by ``settings.cache_scope`` (base URL, account and a
fingerprint of the key), never by the key itself. Credentials typed into the connection form live in
``st.session_state`` only; the process keeps the matching ``Settings`` in memory (never on disk) so
that the cached client of a scope can be built.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx
from streamlit.runtime.scriptrunner_utils.script_run_context import in_cached_function

from whatfix_data import charts, datasets, exports, frames, images, windows
from whatfix_data import segments as segment_rules
from whatfix_data.analytics.kpis import format_value as format_kpi
from whatfix_data.client import WhatfixClient
from whatfix_data.config import SECRETS_TABLE, Settings, load_settings
from whatfix_data.datasets import Dataset
from whatfix_data.errors import WhatfixError

LOGGER = logging.getLogger("whatfix_dashboard")

# ------------------------------------------------------------------------------------ constants

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
KPI_CARDS_PER_ROW = 3

# Widget keys of the global filters (kept in st.session_state across pages).
K_PRESET, K_START, K_END = "f_preset", "f_start", "f_end"
K_COMPARE, K_GRAN, K_SEGMENT = "f_compare", "f_gran", "f_segment"
K_LAST_VALID = "_f_last_valid_range"
K_QP_LOADED = "_f_query_params_loaded"
K_FILTERS = "_filters"
K_CONNECTION = "wf_connection"
# Query parameter names of the shareable link.
QP_RANGE, QP_START, QP_END = "range", "start", "end"
QP_COMPARE, QP_GRAN, QP_SEGMENT = "compare", "gran", "segment"
QP_KEYS = (QP_RANGE, QP_START, QP_END, QP_COMPARE, QP_GRAN, QP_SEGMENT)

# st.cache_data entries expire after this; the client's HTTP cache then decides what is fresh.
DATA_TTL_S = 300
MAX_CACHE_ENTRIES = 512
UNEXPECTED_ERROR = (
    "This section could not be drawn because of an unexpected error (details are in the server "
    "log). Reload the page; if it persists, use Refresh on the Data Health page."
)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")

# The settings of every scope seen by this process, so a cached client can be built from a scope.
_SETTINGS_BY_SCOPE: dict[str, Settings] = {}
# Progress callback of the trend being loaded (set around the cached call, not part of its key).
_PROGRESS: contextvars.ContextVar[Callable[[int, int], None] | None] = contextvars.ContextVar(
    "whatfix_trend_progress", default=None
)


# --------------------------------------------------------------------------------- text safety


def md_escape(text: Any) -> str:
    """Text from the API made literal for Streamlit markdown (labels, captions, messages)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


# ------------------------------------------------------------------------------------- settings


def _configured_settings() -> Settings:
    """Settings from the connection form, else secrets / WHATFIX_* env, else the demo server."""
    form = st.session_state.get(K_CONNECTION)
    if form:
        return load_settings(secrets={SECRETS_TABLE: form}, env=os.environ)
    return load_settings(secrets=st.secrets, env=os.environ)


def settings() -> Settings:
    """The settings of this session, registered so the cached client of its scope can be built."""
    current = _configured_settings()
    _SETTINGS_BY_SCOPE[current.cache_scope] = current
    return current


def scope() -> str:
    """The cache scope of this session (base URL, account, key fingerprint)."""
    return settings().cache_scope


@st.cache_resource(show_spinner=False)
def _client(cache_scope: str) -> WhatfixClient:
    """One HTTP client per scope and process, shared by every session using that account."""
    return WhatfixClient(_SETTINGS_BY_SCOPE[cache_scope])


def client() -> WhatfixClient:
    """The shared client of this session's scope (for data-layer calls that are not datasets)."""
    return _client(scope())


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
        """E.g. "29 Oct 2026 – 27 Nov 2026"."""
        return self.date_range.label()

    @property
    def comparison_label(self) -> str:
        """E.g. "vs previous period (2026-09-29 – 2026-10-28)", or "" with no comparison."""
        if self.comparison_range is None:
            return ""
        return f"vs {COMPARE_LABELS[self.comparison].lower()} ({self.comparison_range.label()})"

    @property
    def current_legend(self) -> str:
        """Legend name of the range, e.g. "This period (2026-10-29 – 2026-11-27)"."""
        return charts.period_label("This period", self.date_range.start, self.date_range.end)

    @property
    def comparison_legend(self) -> str | None:
        """Legend name of the comparison, e.g. "Previous period (2026-09-29 – 2026-10-28)"."""
        if self.comparison_range is None:
            return None
        return charts.period_label(COMPARE_LABELS[self.comparison], self.comparison_range.start,
                                   self.comparison_range.end)


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
    """Day / week / month; "automatic" follows the length of the range."""
    automatic = windows.default_granularity(date_range)
    options = [AUTO_GRANULARITY, *GRANULARITY_LABELS]
    if st.session_state.get(K_GRAN) not in options:
        st.session_state[K_GRAN] = AUTO_GRANULARITY
    choice = st.selectbox(
        "Granularity",
        options,
        key=K_GRAN,
        format_func=lambda g: (
            f"Automatic ({GRANULARITY_LABELS[automatic].lower()})"
            if g == AUTO_GRANULARITY
            else GRANULARITY_LABELS[g]
        ),
        help="The size of each point of the trend charts.",
    )
    return automatic if choice == AUTO_GRANULARITY else choice


def _segment_input() -> tuple[str | None, str | None]:
    """The segment filter; offers only "All users" when the segment list cannot be loaded."""
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
        comparison_range=windows.comparison_range(date_range, comparison, None),
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


# ------------------------------------------------------------------------------------ datasets

_LISTS = {"end-users", "content", "segments"}
_TRENDS = {"flow-trend", "self-help-trend", "engagement-trend"}
DATASET_LABELS: dict[str, str] = {
    "end-users": "End users",
    "content": "Content",
    "segments": "Segments",
    "flows": "Flow analytics",
    "popular-flows": "Most popular flows",
    "self-help": "Self Help analytics",
    "engagement": "End-user engagement",
    "task-completion": "Task completion",
    "flow-trend": "Flow trend",
    "self-help-trend": "Self Help trend",
    "engagement-trend": "Active users trend",
}


@st.cache_data(ttl=DATA_TTL_S, max_entries=MAX_CACHE_ENTRIES,
               show_spinner="Fetching data from the Whatfix API…")
def _cached_dataset(
    cache_scope: str, name: str, start: date | None, end: date | None, granularity: str | None
) -> Dataset:
    """One dataset of one scope and window; shared by every session of that scope."""
    date_range = windows.DateRange(start, end) if start and end else None
    return datasets.load_dataset(
        _client(cache_scope), name, date_range, granularity or "week", progress=_PROGRESS.get()
    )


@st.cache_data(ttl=DATA_TTL_S, max_entries=MAX_CACHE_ENTRIES, show_spinner=False)
def _cached_popular_csv(cache_scope: str, start: date, end: date) -> bytes:
    """The API's own format=csv file of the most popular flows report."""
    return datasets.load_popular_flows_csv(_client(cache_scope), windows.DateRange(start, end))


@contextmanager
def _not_recorded() -> Iterator[None]:
    """Draw from inside a cached function without the draw being replayed on later cache hits.

    A progress bar updated while a cached loader runs belongs to that run only; Streamlit would
    otherwise record the update with the cached value and fail to replay it on another page.
    """
    token = in_cached_function.set(False)
    try:
        yield
    finally:
        in_cached_function.reset(token)


def _trend_progress(label: str) -> tuple[Any, Callable[[int, int], None]]:
    """A progress bar for a trend fetched window by window."""
    bar = st.empty()
    context = get_script_run_ctx()

    def report(done: int, total: int) -> None:
        # Called from the client's worker threads: attach them to this session to draw.
        add_script_run_ctx(threading.current_thread(), context)
        fraction = min(1.0, done / total) if total else 1.0
        with _not_recorded():
            bar.progress(fraction, text=f"Loading {label}: {done} of {total} periods")

    return bar, report


def load(
    name: str,
    date_range: windows.DateRange | None = None,
    granularity: str | None = None,
    *,
    warn_stale: bool = True,
) -> Dataset:
    """A dataset through the shared cache; raises WhatfixError (pages render it with section)."""
    cache_scope = scope()
    # st.cache_data is shared by every session: re-check the key (at most every few minutes,
    # and at once after a rejection) so a revoked key gets its error, not cached data.
    _client(cache_scope).verify_credentials()
    if name in _LISTS:
        start = end = None
        granularity = None
    else:
        date_range = date_range or filters().date_range
        start, end = date_range.start, date_range.end
    if name in _TRENDS:
        granularity = granularity or filters().granularity
        bar, report = _trend_progress(DATASET_LABELS[name].lower())
        token = _PROGRESS.set(report)
        try:
            dataset = _cached_dataset(cache_scope, name, start, end, granularity)
        finally:
            _PROGRESS.reset(token)
            bar.empty()
    else:
        dataset = _cached_dataset(cache_scope, name, start, end, None)
    if warn_stale:
        stale_warning(dataset)
    return dataset


def popular_flows_csv(date_range: windows.DateRange | None = None) -> bytes:
    """The API's own CSV of the most popular flows for the range (cached like the datasets)."""
    date_range = date_range or filters().date_range
    return _cached_popular_csv(scope(), date_range.start, date_range.end)


@st.cache_data(ttl=DATA_TTL_S, max_entries=MAX_CACHE_ENTRIES,
               show_spinner="Matching end users to segment rules…")
def _cached_membership(cache_scope: str) -> pd.DataFrame:
    """Segment membership (segment_id, user_id) computed locally from the rules."""
    users = _cached_dataset(cache_scope, "end-users", None, None, None).frame
    segs = _cached_dataset(cache_scope, "segments", None, None, None).frame
    return segment_rules.membership(users, segs)


def membership() -> pd.DataFrame:
    """Who is in which segment, by local rule evaluation (cached per scope)."""
    return _cached_membership(scope())


def for_segment(frame: pd.DataFrame, user_column: str = "user_id") -> pd.DataFrame:
    """Rows of a per-user frame in the sidebar's segment (all rows when no segment is chosen)."""
    segment_id = filters().segment_id
    if segment_id is None:
        return frame
    return segment_rules.filter_to_segment(frame, membership(), segment_id, user_column)


def segment_note() -> None:
    """A caption saying which segment the per-user numbers below are limited to."""
    current = filters()
    if current.segment_name:
        st.caption(f"Limited to the segment **{md_escape(current.segment_name)}**.")


def age_text(fetched_at: datetime) -> str:
    """How long ago data was fetched, e.g. "3 min" or "2 h 5 min"."""
    seconds = max(0, int((datetime.now(UTC) - fetched_at).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{seconds} s"


def stale_warning(dataset: Dataset) -> None:
    """Say so when the API was unreachable and a cached copy is shown instead."""
    if dataset.meta.stale:
        label = DATASET_LABELS.get(dataset.name, dataset.name)
        st.warning(
            f"{label}: the Whatfix API could not be reached, so this is the copy fetched "
            f"{age_text(dataset.meta.fetched_at)} ago. Use Refresh on the Data Health page "
            "once the API is back."
        )


def clear_caches() -> None:
    """Forget every cached dataset (all scopes) so the next run fetches again."""
    _cached_dataset.clear()
    _cached_popular_csv.clear()
    _cached_membership.clear()


# -------------------------------------------------------------------------------------- errors


@contextmanager
def section(title: str | None = None) -> Iterator[None]:
    """Render one part of a page; a failure shows an error here and the rest of the page goes on."""
    leave_legacy_pages_mode()  # any page using sections is safe from Streamlit's legacy mode
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
    """snake_case -> "Sentence case" with the unit: completion_rate_pct -> "Completion rate (%)"."""
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


def chart(fig: Any, *, key: str, data: pd.DataFrame | None = None) -> None:
    """A plotly chart with its modebar file name, lazy PNG/SVG downloads and its raw data."""
    title = charts.figure_title(fig) or "chart"
    config = charts.config_for(title, iso_range_label(), settings().account_id)
    st.plotly_chart(fig, config=config, key=f"chart_{key}")
    problem = _image_export_problem()
    row = st.container(horizontal=True)
    row.download_button(
        "PNG",
        data=lambda: images.figure_to_png(fig),
        file_name=file_name(title, "png"),
        mime="image/png",
        key=f"png_{key}",
        icon=":material/image:",
        on_click="ignore",
        disabled=problem is not None,
        help=problem or "The chart as a PNG image (2x scale).",
    )
    row.download_button(
        "SVG",
        data=lambda: images.figure_to_svg(fig),
        file_name=file_name(title, "svg"),
        mime="image/svg+xml",
        key=f"svg_{key}",
        icon=":material/image:",
        on_click="ignore",
        disabled=problem is not None,
        help=problem or "The chart as an SVG vector image.",
    )
    if data is not None:
        with st.expander("Raw data"):
            table(data, key=f"raw_{key}", title=f"{title} data")


# ------------------------------------------------------------------------- demo and connection


def demo_banner(current: Settings) -> None:
    """Tell a demo user that the numbers are made up and how to connect a real account."""
    if not current.demo:
        return
    st.info(
        "**Demo data** from the built-in Whatfix server. To see your own account, add a "
        "`[whatfix]` table (`base_url`, `account_id`, `integration_key`, `user`) to "
        "`.streamlit/secrets.toml`, or set `WHATFIX_BASE_URL`, `WHATFIX_ACCOUNT_ID`, "
        "`WHATFIX_INTEGRATION_KEY` and `WHATFIX_USER` before `streamlit run app.py`; or use "
        "**Connect an account** in the sidebar for this browser session only.",
        icon=":material/science:",
    )


CONNECT_FIELDS = {"base_url": "API base URL", "account_id": "Account ID",
                  "user": "Whatfix user (email)", "integration_key": "Integration key"}
K_CONNECT_ERROR = "_wf_connect_error"


def _connect() -> None:
    """Form callback: check the typed credentials with one request; keep them only if they work.

    The key stays in st.session_state (this browser session); the typed widget value is cleared.
    """
    values = {name: str(st.session_state.get(f"wf_{name}", "")).strip() for name in CONNECT_FIELDS}
    st.session_state["wf_integration_key"] = ""
    st.session_state.pop(K_CONNECT_ERROR, None)
    try:
        candidate = load_settings(secrets={SECRETS_TABLE: values}, env=os.environ)
        _SETTINGS_BY_SCOPE[candidate.cache_scope] = candidate
        _client(candidate.cache_scope)  # verifies the credentials with one uncached request
    except WhatfixError as exc:
        st.session_state[K_CONNECT_ERROR] = exc.user_message
        return
    st.session_state[K_CONNECTION] = values


def _disconnect() -> None:
    """Button callback: forget the session's credentials (back to the configured account)."""
    st.session_state.pop(K_CONNECTION, None)


def connection_form(current: Settings) -> None:
    """Sidebar form to use another account for this browser session (nothing is saved)."""
    with st.sidebar.expander("Connect an account", icon=":material/key:"):
        st.caption(f"Connected to account **{md_escape(current.account_id)}**.")
        if st.session_state.get(K_CONNECTION):
            st.button("Disconnect", key="wf_disconnect", on_click=_disconnect)
            return
        with st.form("wf_connect_form", border=False):
            for name, label in CONNECT_FIELDS.items():
                st.text_input(
                    label, key=f"wf_{name}",
                    type="password" if name == "integration_key" else "default",
                    value="https://whatfix.com/api/v1" if name == "base_url" else "",
                )
            st.form_submit_button("Connect", on_click=_connect)
        st.caption("Kept in this browser session only, never written to disk.")
        if st.session_state.get(K_CONNECT_ERROR):
            st.error(md_escape(st.session_state[K_CONNECT_ERROR]))


# ---------------------------------------------------------------------------------------- KPIs


def _delta_colour(delta: str | None, good: bool | None) -> str:
    """st.metric colours a rise green; flip it when a rise is bad news, grey when unknown."""
    if not delta or good is None:
        return "off"
    rising = not delta.strip().startswith(("-", "−"))
    return "normal" if rising == good else "inverse"


def kpi_row(cards: list[Any], comparison_label: str = "") -> None:
    """KPI cards (``analytics.Kpi``: name, value_label, delta_label, good) in one row."""
    if not cards:
        st.info("No KPI could be computed for these filters.")
        return
    columns: list[Any] = []
    for first in range(0, len(cards), KPI_CARDS_PER_ROW):
        columns += st.columns(KPI_CARDS_PER_ROW)[: len(cards[first:first + KPI_CARDS_PER_ROW])]
    for column, card in zip(columns, cards, strict=True):
        delta = card.delta_label
        note = None
        if card.previous is not None and comparison_label:
            note = f"{card.name} was {format_kpi(card.previous, card.unit)} {comparison_label}."
        column.metric(
            card.name,
            card.value_label,
            delta=delta,
            delta_color=_delta_colour(delta, card.good),
            help=note,
            border=True,
        )


# --------------------------------------------------------------------------------- data health


def cache_description(current: Settings) -> str:
    """The HTTP cache backend, with any password in a Redis URL hidden."""
    spec = current.cache
    if "://" in spec and "@" in spec:
        scheme, rest = spec.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return {"memory": "in-memory (this process)", "off": "off (every view asks the API)"}.get(
        spec, f"SQLite file {spec}" if "://" not in spec else spec
    )


def refresh_all() -> None:
    """Drop this account's HTTP cache and datasets, so everything is fetched again.

    Only this scope's HTTP responses and memoized datasets go: in a shared cache (Redis) other
    accounts keep theirs, and their copies for when the API is down.
    """
    # When the client cannot even be built, nothing is cached for it.
    with contextlib.suppress(WhatfixError):
        datasets.clear_account(client())
    clear_caches()  # the page-level caches: cheap to rebuild for other scopes from their memo


def health_table(loaded: list[Dataset], failures: Mapping[str, str]) -> pd.DataFrame:
    """One row per dataset: when fetched, fresh/stale/error, rows against totalCount, findings."""
    rows = []
    for dataset in loaded:
        meta = dataset.meta
        total = meta.total_count
        complete = None if total is None or meta.rows is None else meta.rows == total
        rows.append({
            "dataset": DATASET_LABELS.get(dataset.name, dataset.name),
            "state": "stale" if meta.stale else "fresh",
            "fetched_at": meta.fetched_at,
            "age": age_text(meta.fetched_at),
            "from_cache": meta.from_cache,
            "requests": meta.requests,
            "rows": meta.rows,
            "total_count": total,
            "complete": complete,
            "findings": len(dataset.findings),
            # Reports come in one response without a totalCount: say so instead of a blank.
            "message": "" if total is not None else "Report: one response, no total to check",
        })
    for name, message in failures.items():
        rows.append({"dataset": DATASET_LABELS.get(name, name), "state": "error",
                     "message": message})
    frame = pd.DataFrame(rows)
    for column in ("requests", "rows", "total_count", "findings"):
        if column in frame:
            frame[column] = frame[column].astype("Int64")
    return frame


def findings_table(loaded: list[Dataset]) -> pd.DataFrame:
    """Every data-quality finding of the loaded datasets, one row each."""
    return frames.findings_frame(f for dataset in loaded for f in dataset.findings)


# --------------------------------------------------------------------------------- review pack

PACK_FORMATS: dict[str, tuple[str, str]] = {
    "pptx": ("PowerPoint deck",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "pdf": ("PDF", "application/pdf"),
    "zip": ("ZIP of charts (PNG, SVG) and tables (CSV)", "application/zip"),
}
K_PACK = "_review_pack"
K_PACK_REQUESTED = "_review_pack_requested"


def _request(flag: str) -> None:
    """Button callback: remember that the action was asked for (read by the next run)."""
    st.session_state[flag] = True


@st.cache_data(ttl=DATA_TTL_S, max_entries=32, show_spinner=False)
def _cached_pack(
    cache_scope: str, start: date, end: date, comparison: str, granularity: str, fmt: str
) -> bytes:
    """The review pack of one scope, period and format (shared by the sessions of the scope)."""
    from whatfix_data import review_pack  # heavy (pptx, reportlab): imported on first use

    return review_pack.build_review_pack(
        _client(cache_scope), windows.DateRange(start, end), comparison, fmt, _PROGRESS.get(),
        granularity=granularity,
    )


def review_pack_button(current: Filters) -> None:
    """Build the review pack for the chosen period and comparison, then offer it for download."""
    st.caption(
        f"A deck for your review: KPIs, every chart of Overview, Flows, Self Help, Engagement and "
        f"Task Lists with a takeaway, and the key tables, for {current.range_label} "
        f"{current.comparison_label}. It covers all users (the segment filter is not applied)."
    )
    fmt = st.radio("Format", list(PACK_FORMATS), format_func=lambda f: PACK_FORMATS[f][0],
                   horizontal=True, key="pack_format")
    request = (scope(), current.date_range.start, current.date_range.end, current.comparison,
               current.granularity, fmt)
    # A callback, not the button's return value: it survives a rerun of the script.
    st.button("Build review pack", icon=":material/slideshow:", type="primary", key="pack_build",
              on_click=_request, args=(K_PACK_REQUESTED,))
    if st.session_state.pop(K_PACK_REQUESTED, False):
        bar = st.progress(0.0, text="Building the review pack")
        context = get_script_run_ctx()

        def report(done: int, total: int) -> None:
            add_script_run_ctx(threading.current_thread(), context)
            with _not_recorded():
                bar.progress(min(1.0, done / total) if total else 1.0,
                             text=f"Building the review pack: step {done} of {total}")

        token = _PROGRESS.set(report)
        try:
            st.session_state[K_PACK] = (request, _cached_pack(*request))
        finally:
            _PROGRESS.reset(token)
            bar.empty()
    built = st.session_state.get(K_PACK)
    if built and built[0] == request:
        from whatfix_data import review_pack

        label, mime = PACK_FORMATS[fmt]
        st.download_button(
            f"Download the {label}", data=built[1],
            file_name=review_pack.pack_file_name(settings().account_id, current.date_range, fmt),
            mime=mime, key="pack_download", icon=":material/download:", on_click="ignore",
            type="primary",
        )
