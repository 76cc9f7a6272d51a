"""The Overview's review-pack button: build the deck, PDF or ZIP for the filters, then download."""

from __future__ import annotations

from datetime import date

import streamlit as st

from ui import runtime
from ui.annotations import notes_version
from ui.data import LOAD_PROGRESS
from ui.session import client_of, md_escape, scope, settings
from ui.view import Filters
from whatfix_data import windows
from whatfix_data.cache import PRODUCT_TTL_S

# --------------------------------------------------------------------------------- review pack

PACK_FORMATS: dict[str, tuple[str, str]] = {
    "pptx": ("PowerPoint deck",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "pdf": ("PDF", "application/pdf"),
    "zip": ("ZIP of charts (PNG, SVG) and tables (CSV)", "application/zip"),
}
K_PACK = "_review_pack"
K_PACK_REQUESTED = "_review_pack_requested"


def _targets_key() -> str:
    """The account's targets as text: part of the pack's cache key."""
    from ui.targets import chart_targets

    return "|".join(f"{t.key}:{t.threshold:g}:{t.direction}:{t.per}" for t in chart_targets())


def _request(flag: str) -> None:
    """Button callback: remember that the action was asked for (read by the next run)."""
    st.session_state[flag] = True


@st.cache_data(ttl=PRODUCT_TTL_S, max_entries=32, show_spinner=False)
def _cached_pack(
    cache_scope: str, start: date, end: date, comparison: str, granularity: str, fmt: str,
    segment_id: str | None, preset: str, targets_key: str = "",
    notes_version: str = "",
) -> bytes:
    """The review pack of one scope, period, segment and format (shared by the sessions of the
    scope); ``targets_key`` changes when a target does, so the pack shows the current ones;
    ``notes_version`` (ui.annotations) keys it to the account's notes too."""
    from whatfix_data import review_pack  # heavy (pptx, reportlab): imported on first use

    return review_pack.build_review_pack(
        client_of(cache_scope), windows.DateRange(start, end), comparison, fmt, LOAD_PROGRESS.get(),
        granularity=granularity, segment_id=segment_id, preset=preset,
    )


def _audience(current: Filters) -> str:
    """Whom the pack's per-user numbers cover, as the sidebar's segment filter says."""
    if not current.segment_name:
        return "It covers all users."
    return (f"Engagement and task-list numbers (and the active-users trend) are limited to the "
            f"segment **{md_escape(current.segment_name)}**; flow and self-help numbers cover all "
            "users, because the API reports them per flow and per item, not per user.")


def review_pack_button(current: Filters) -> None:
    """Build the review pack for the chosen period and comparison, then offer it for download."""
    st.caption(
        f"A deck for your review: KPIs, every chart of Overview, Flows, Self Help, Engagement and "
        f"Task Lists with a takeaway, and the key tables, for {current.caption}. "
        f"{_audience(current)}"
    )
    fmt = st.radio("Format", list(PACK_FORMATS), format_func=lambda f: PACK_FORMATS[f][0],
                   horizontal=True, key="pack_format", bind="query-params")
    request = (scope(), current.date_range.start, current.date_range.end, current.comparison,
               current.granularity, fmt, current.segment_id, current.preset,
               _targets_key(), notes_version())
    # A callback, not the button's return value: it survives a rerun of the script.
    st.button("Build review pack", icon=":material/slideshow:", type="primary", key="pack_build",
              on_click=_request, args=(K_PACK_REQUESTED,))
    if st.session_state.pop(K_PACK_REQUESTED, False):
        bar = st.progress(0.0, text="Building the review pack")

        def draw(done: int, total: int) -> None:
            bar.progress(min(1.0, done / total) if total else 1.0,
                         text=f"Building the review pack: step {done} of {total}")

        token = LOAD_PROGRESS.set(runtime.drawing_from_worker_threads(draw))
        try:
            st.session_state[K_PACK] = (request, _cached_pack(*request))
        finally:
            LOAD_PROGRESS.reset(token)
            bar.empty()
    built = st.session_state.get(K_PACK)
    if built and built[0] == request:
        from whatfix_data import review_pack

        label, mime = PACK_FORMATS[fmt]
        st.download_button(
            f"Download the {label}", data=built[1],
            file_name=review_pack.pack_file_name(settings().account_id, current.date_range, fmt,
                                                 current.segment_name),
            mime=mime, key="pack_download", icon=":material/download:", on_click="ignore",
            type="primary",
        )
