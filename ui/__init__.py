"""The shared Streamlit widgets of the dashboard: filters, data access, tables, charts, errors.

Pages stay short: they read the filters (:func:`filters`), load datasets (:func:`load`), call the
pure functions of ``whatfix_data``, and render with :func:`table`, :func:`chart` and
:func:`section`. Everything Streamlit-specific that more than one page needs lives here, once:

- ``ui.session``: which account this browser session reads (handed down by app.py through
  ``use_session``); the shared client per cache scope; the demo banner and the connection form;
- ``ui.filters``: the sidebar filters, bound to the URL (``ui.view`` holds what they resolved to);
- ``ui.shell``: app.py's frame around the page (and a page run without it);
- ``ui.runtime``: the only Streamlit internals used (drawing from worker threads);
- ``ui.data``: datasets through Streamlit's caches keyed by scope, segment filtering, data health;
- ``ui.render``: sections that fail on their own, tables and charts with downloads, KPI cards;
- ``ui.review``: the review-pack button;
- ``ui.annotations``: the notes editor and the notes drawn on every trend;
- ``ui.apply``: User Sync's apply with a progress bar (User Sync and Task Lists pages).
"""

from ui import shell
from ui.annotations import annotate, flow_names_of, notes_editor
from ui.data import (
    DATASET_LABELS,
    active_users_trend,
    active_users_windows,
    age_text,
    cache_description,
    clear_caches,
    data_start,
    findings_table,
    for_segment,
    health_table,
    load,
    membership,
    popular_flows_csv,
    prefetch,
    refresh_all,
    segment_note,
    stale_warning,
    trend_windows,
)
from ui.filters import Filters, filters, sidebar_filters, today
from ui.render import (
    _column_label,
    _delta_colour,
    chart,
    column_config,
    file_name,
    iso_range_label,
    kpi_row,
    names_first,
    section,
    stem_file_name,
    table,
)
from ui.review import review_pack_button
from ui.session import (
    client,
    connection_form,
    demo_banner,
    md_escape,
    scope,
    settings,
    use_session,
)
from ui.view import option_labels
from whatfix_data.errors import WhatfixError

__all__ = [
    "DATASET_LABELS",
    "Filters",
    "WhatfixError",
    "_column_label",
    "_delta_colour",
    "active_users_trend",
    "active_users_windows",
    "age_text",
    "cache_description",
    "chart",
    "clear_caches",
    "client",
    "column_config",
    "connection_form",
    "data_start",
    "demo_banner",
    "file_name",
    "filters",
    "findings_table",
    "for_segment",
    "health_table",
    "iso_range_label",
    "kpi_row",
    "load",
    "md_escape",
    "membership",
    "names_first",
    "option_labels",
    "popular_flows_csv",
    "prefetch",
    "refresh_all",
    "review_pack_button",
    "scope",
    "section",
    "segment_note",
    "settings",
    "shell",
    "sidebar_filters",
    "stale_warning",
    "stem_file_name",
    "table",
    "today",
    "trend_windows",
    "use_session",
]
__all__ += ["annotate", "flow_names_of", "notes_editor"]  # ui.annotations
