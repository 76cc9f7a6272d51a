"""The review pack: a PowerPoint deck, a PDF or a ZIP for one account, period and comparison.

``model`` holds what the pack says, ``assemble`` computes it from the dashboard's datasets
(KPIs, charts with takeaways, key tables), ``deck`` / ``pdf`` / ``bundle`` render it and
``build`` renders the chart images once for all three.

Two entry points:

* :func:`build_review_pack` loads everything through the client, then builds (CLI, dashboard);
* :func:`build_from_data` builds from an already loaded ``datasets.DashboardData`` (a page that
  has loaded its datasets reuses them).

Both need Chromium for the chart images and raise
:class:`~whatfix_data.images.ChromiumMissingError` (with the fix) when it is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime

from whatfix_data import datasets, images
from whatfix_data.analytics.flows import MIN_VIEWS_FOR_RANKING
from whatfix_data.annotations import Note
from whatfix_data.client import WhatfixClient
from whatfix_data.datasets import DashboardData, Dataset
from whatfix_data.review_pack import assemble
from whatfix_data.review_pack.assemble import collect_content, segment_name
from whatfix_data.review_pack.build import (
    FORMATS,
    MEDIA_TYPES,
    Progress,
    Steps,
    check_format,
    render_pack,
    render_steps,
)
from whatfix_data.review_pack.model import ReviewContent
from whatfix_data.review_pack.notes import add_notes, load_notes
from whatfix_data.review_pack.targets import account_evaluations, targets_table
from whatfix_data.windows import DateRange, comparison_range, default_granularity

# Trends of the comparison period, so the Overview trend slides draw the previous line too.
COMPARED_TRENDS: dict[str, str] = {
    "flow-trend": "flows",
    "self-help-trend": "self-help",
    "engagement-trend": "engagement",
}
ASSEMBLE_STEPS = 1
# With a segment, the active-users trend is counted from every window's per-user list.
SEGMENT_TREND = assemble.SEGMENT_TREND

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "Progress",
    "ReviewContent",
    "build_from_data",
    "build_review_pack",
    "find_segment",
    "load_review_data",
    "pack_file_name",
    "pack_stem",
]


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text)


def pack_stem(account: str, date_range: DateRange, segment_name: str | None = None) -> str:
    """E.g. ``whatfix-review_acme-demo_2026-10-01_2026-10-31`` (also the ZIP's folder), with
    ``_emea-sales`` at the end for a segment's pack."""
    stem = f"whatfix-review_{_safe(account)}_{date_range.slug()}"
    return f"{stem}_{_safe(segment_name.strip().lower())}" if segment_name else stem


def pack_file_name(
    account: str, date_range: DateRange, fmt: str, segment_name: str | None = None
) -> str:
    """E.g. ``whatfix-review_acme-demo_2026-10-01_2026-10-31.pptx``."""
    return f"{pack_stem(account, date_range, segment_name)}.{check_format(fmt)}"


def find_segment(client: WhatfixClient, segment_id: str) -> str:
    """The name of the account's segment ``segment_id``; InvalidRequestError (saying where to
    find the ids) when there is none."""
    segments = datasets.load_dataset(client, "segments", None)
    return segment_name(segments.frame, segment_id)


def _load_steps(compare: bool, segmented: bool = False) -> int:
    base = len(datasets.DASHBOARD_DATASETS) + segmented
    extra = len(datasets.COMPARED_DATASETS) + len(COMPARED_TRENDS) + segmented
    return base + (extra if compare else 0)


def load_review_data(
    client: WhatfixClient,
    date_range: DateRange,
    comparison: str = "previous",
    granularity: str | None = None,
    progress: Progress | None = None,
    preset: str | None = None,
    *,
    segmented: bool = False,
) -> DashboardData:
    """Every dataset the pack needs: the dashboard's, plus the comparison period's trends; with
    ``segmented``, the per-user active-users trend of both periods too (a segment's own trend
    costs one request per page of active users per window, see docs/PERFORMANCE.md)."""
    granularity = granularity or default_granularity(date_range)
    previous = comparison_range(date_range, comparison, preset=preset, granularity=granularity)
    steps = Steps(_load_steps(previous is not None, segmented), progress)
    data = datasets.load_dashboard(
        client, date_range, granularity, comparison, progress=lambda _d, _t: steps.advance(),
        preset=preset,
    )
    if segmented:
        per_user = {SEGMENT_TREND: datasets.load_trend(client, "engagement-users", date_range,
                                                       granularity)}
        steps.advance()
        data = replace(data, current={**data.current, **per_user})
    if previous is None:
        return data

    def trend(name: str) -> Dataset:
        result = datasets.load_trend(client, COMPARED_TRENDS[name], previous, granularity)
        steps.advance()
        return result

    with ThreadPoolExecutor(len(COMPARED_TRENDS), thread_name_prefix="whatfix-pack") as pool:
        trends = dict(zip(COMPARED_TRENDS, pool.map(trend, COMPARED_TRENDS), strict=True))
    if segmented:
        trends[SEGMENT_TREND] = datasets.load_trend(client, "engagement-users", previous,
                                                    granularity)
        steps.advance()
    return replace(data, comparison={**data.comparison, **trends})


def build_from_data(
    data: DashboardData,
    date_range: DateRange,
    *,
    account: str,
    comparison: str = "previous",
    fmt: str = "pptx",
    granularity: str | None = None,
    progress: Progress | None = None,
    generated_at: datetime | None = None,
    segment_id: str | None = None,
    preset: str | None = None,
    min_views: int = MIN_VIEWS_FOR_RANKING,
    targets: list | None = None,
    notes: Sequence[Note] = (),
    notes_problem: str | None = None,
) -> bytes:
    """The pack's bytes from loaded data; ``progress(done, total)`` after each step.

    ``notes`` (whatfix_data.annotations) of the period are drawn on the trends and listed;
    ``notes_problem`` (the store could not be read) becomes a remark of the pack.

    ``segment_id`` limits the per-user numbers (engagement, task lists) to that segment's
    members; an unknown id raises :class:`~whatfix_data.errors.InvalidRequestError`.
    ``targets`` (``whatfix_data.targets.Evaluation`` list) adds the Targets table slide.
    """
    fmt = check_format(fmt)
    images.find_chromium()
    granularity = granularity or default_granularity(date_range)
    steps = Steps(ASSEMBLE_STEPS, progress)
    content = collect_content(data, date_range, account=account, comparison=comparison,
                              granularity=granularity, generated_at=generated_at,
                              segment_id=segment_id, preset=preset, min_views=min_views)
    if (table := targets_table(targets or [])) is not None:  # the account's targets, if any
        content.tables.append(table)
    add_notes(content, notes, date_range, problem=notes_problem)
    steps.total += render_steps(content, fmt)
    steps.advance()
    root = pack_stem(account, date_range, content.segment_name)
    return render_pack(content, fmt, steps, root=root)


def build_review_pack(
    client: WhatfixClient,
    date_range: DateRange,
    comparison: str = "previous",
    fmt: str = "pptx",
    progress: Progress | None = None,
    *,
    granularity: str | None = None,
    generated_at: datetime | None = None,
    segment_id: str | None = None,
    preset: str | None = None,
) -> bytes:
    """Load the period (and its comparison) through ``client`` and build the pack.

    ``comparison`` is "previous", "year" or "none"; ``fmt`` "pptx", "pdf" or "zip";
    ``segment_id`` limits engagement and task-list numbers to one segment (see build_from_data);
    ``preset`` (e.g. ``last_quarter``) names the range and picks its comparison (a range that is
    one whole calendar month, quarter or year is treated as such without it).
    ``progress(done, total)`` is called after every loaded dataset, then every build step (the
    total grows once, when the number of charts is known).
    """
    fmt = check_format(fmt)
    images.find_chromium()  # fail before minutes of loading, not after
    if segment_id is not None:
        find_segment(client, segment_id)  # same: an unknown segment fails at once
    compare = comparison != "none"
    segmented = segment_id is not None
    load_total = _load_steps(compare, segmented)

    def loading(done: int, _total: int) -> None:
        # The build's step count is known only once the content is assembled: until then the
        # total counts the loading steps plus a minimal build.
        if progress is not None:
            progress(done, load_total + ASSEMBLE_STEPS + 1)

    data = load_review_data(client, date_range, comparison, granularity, loading, preset,
                            segmented=segmented)
    evaluations = account_evaluations(client, date_range)

    def building(done: int, total: int) -> None:
        if progress is not None:
            progress(load_total + done, load_total + total)

    notes, notes_problem = load_notes(client.settings)
    return build_from_data(
        data, date_range, account=client.settings.account_id, comparison=comparison, fmt=fmt,
        granularity=granularity, progress=building, generated_at=generated_at,
        segment_id=segment_id, preset=preset, targets=evaluations,
        min_views=client.settings.min_flow_views,
        notes=notes, notes_problem=notes_problem,
    )
