"""The view that this script run shows: the sidebar's filters, once drawn (read by ui modules),
and the labels of URL-bound choices.

A module of its own so that the data helpers can read the filters without importing the sidebar
widgets (which load the segment list through them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import streamlit as st

from ui import runtime
from whatfix_data import windows

K_FILTERS = "_filters"
K_FILTERS_RUN = "_filters_run"


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
    def periods(self) -> tuple[windows.DateRange, ...]:
        """The range, then the comparison period when there is one (what a page loads twice)."""
        if self.comparison_range is None:
            return (self.date_range,)
        return (self.date_range, self.comparison_range)

    @property
    def window_pairs(self) -> list[windows.WindowPair]:
        """Window k of the range beside window k of the comparison (trend charts and tables)."""
        return windows.align_windows(self.date_range, self.comparison_range, self.granularity)


def store(current: Filters) -> None:
    """Remember the filters that the sidebar drew in this run (ui.filters.sidebar_filters)."""
    st.session_state[K_FILTERS] = current
    st.session_state[K_FILTERS_RUN] = runtime.run_token()


def drawn_this_run() -> Filters | None:
    """The filters if the sidebar drew them in this very run, else None."""
    token = runtime.run_token()
    if token is None or st.session_state.get(K_FILTERS_RUN) is not token:
        return None
    return st.session_state.get(K_FILTERS)


def current_filters() -> Filters:
    """The filters the sidebar drew; pages call ``ui.filters()`` first, which draws them."""
    current = st.session_state.get(K_FILTERS)
    if current is None:
        raise LookupError("The sidebar filters are not drawn yet: call ui.filters() first.")
    return current


def option_labels(names: Mapping[str, str], reserved: Collection[str] = ()) -> dict[str, str]:
    """A unique label per option id: its name, with the id where names repeat (or clash with a
    ``reserved`` label). A URL-bound widget stores the label, so each must name one option."""
    counts = Counter(names.values())
    return {oid: f"{name} ({oid})" if counts[name] > 1 or name in reserved else name
            for oid, name in names.items()}
