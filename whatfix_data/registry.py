"""The one dataset registry: what each dataset is, in one table that every layer reads.

A :class:`DatasetSpec` says where a dataset comes from (API path, extra query parameters, how it
is fetched), what its frame looks like (typed columns in frame and API spelling, the id columns,
name fallback and rate check), and how the dashboard treats it (label, trend base, whether it is
loaded for the comparison period, whether a segment can limit it). ``frames`` builds frames from
it, ``datasets`` has one generic loader driven by it, the ``export`` command offers its names,
``scope`` answers per-user questions from it, and the Streamlit layer takes its labels.

Adding a dataset is one :data:`SPECS` entry (plus its analytics): see docs/ARCHITECTURE.md.

Kinds (how a dataset is fetched):

* ``list`` - a paginated list without a date range (cached for the list TTL);
* ``window`` - one response for a date range;
* ``paginated-window`` - a paginated list for a date range;
* ``report`` - one response of a report endpoint (its ``params`` pick the JSON format);
* ``trend`` - the range split into windows (``windows.split_range``), one base load per window.
  A trend with a ``window_count`` column is the aggregated kind: per window one request with
  pageSize=1 to the base's path, whose ``pagination.totalCount`` becomes that column (the
  engagement trend's active users: exact, and one request per window instead of every page).
* ``count`` - the same totalCount for the whole range, one request (``trend_base``'s path, the
  ``window_count`` column): the Overview's Active users card without a segment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

LIST = "list"
WINDOW = "window"
PAGED_WINDOW = "paginated-window"
REPORT = "report"
TREND = "trend"
COUNT = "count"
KINDS: tuple[str, ...] = (LIST, WINDOW, PAGED_WINDOW, REPORT, TREND, COUNT)

# The spec's enums (frames turns these columns into categoricals over them).
CONTENT_TYPES: tuple[str, ...] = (
    "Flow", "Tooltip", "TaskList", "SmartTip", "Beacon", "Popup", "Survey", "Article", "Video",
)
CONTENT_STATUSES: tuple[str, ...] = ("Draft", "Published", "Archived")
# The columns a trend puts before its base's columns.
WINDOW_COLUMNS: tuple[str, ...] = ("window_start", "window_end", "window_label", "partial")
RANK = "rank"  # the column a ranked report gets from the API's order (the spec has no field)

FLOWS_PER_FLOW = "the API reports flow views per flow, not per user"
SELF_HELP_PER_ITEM = "the API reports self-help views per item, not per user"


@dataclass(frozen=True)
class Col:
    """One output column: its name, the API field it comes from, its kind, and its rules.

    kind: string | int | float | ts | cat | dict | list; ``non_negative`` columns turn a negative
    value into NA with a finding.
    """

    name: str
    source: str
    kind: str
    categories: tuple[str, ...] = ()
    non_negative: bool = False


def _c(name: str, source: str, kind: str, categories: tuple[str, ...] = ()) -> Col:
    return Col(name, source, kind, categories)


def _count(name: str, source: str, kind: str = "int") -> Col:
    """A count or duration: never negative."""
    return Col(name, source, kind, non_negative=True)


@dataclass(frozen=True)
class DatasetSpec:
    """Everything the code knows about one dataset (see the module docstring for the kinds)."""

    name: str
    label: str
    kind: str
    path: str = ""  # under /{accountId}; a trend fetches its base's path
    columns: tuple[Col, ...] = ()  # a trend: its base's (trend_base) unless window_count
    ids: tuple[str, ...] = ()  # columns that identify a row (frame spelling)
    params: tuple[tuple[str, str], ...] = ()  # extra query parameters, e.g. format=json
    trend_base: str = ""  # trend: the dataset whose rows follow the window columns
    trend_key: str = ""  # trend: the name `datasets.load_trend` takes
    window_count: str = ""  # aggregated trend: the column holding each window's totalCount
    compared: bool = False  # also loaded for the comparison period (KPI deltas, overlays)
    per_user: bool = False  # one row per user: a segment can limit it
    scope_reason: str = ""  # account-wide: why a segment cannot limit it, in words
    exported: bool = True  # offered by `python -m whatfix_data export`
    on_dashboard: bool = True  # loaded by `datasets.load_dashboard` (and `warm`)
    name_fallback: tuple[str, ...] = ()  # (name column, id column): a missing name shows the id
    rate_check: tuple[str, ...] = ()  # (part, whole, rate): part <= whole, rate agrees
    ranked: bool = False  # the RANK column is the record's position in the response

    @property
    def paginated(self) -> bool:
        return self.kind in (LIST, PAGED_WINDOW)

    @property
    def dated(self) -> bool:
        """True when a date range is needed (everything but the lists)."""
        return self.kind != LIST

    @property
    def is_trend(self) -> bool:
        return self.kind == TREND

    @property
    def api_ids(self) -> tuple[str, ...]:
        """The id columns in the API's spelling (what pagination checks for duplicates)."""
        sources = {col.name: col.source for col in self.columns}
        return tuple(sources[name] for name in self.ids)

    @property
    def id_field(self) -> str | tuple[str, ...]:
        """`api_ids` as the client's `get_all_pages(id_field=...)` takes it."""
        return self.api_ids[0] if len(self.api_ids) == 1 else self.api_ids


_FLOW_COLUMNS: tuple[Col, ...] = (
    _c("flow_id", "flowId", "string"),
    _c("flow_name", "flowName", "string"),
    _count("views", "views"),
    _count("completions", "completions"),
    _c("completion_rate_pct", "completionRate", "float"),
    _count("avg_time_to_complete_s", "avgTimeToComplete", "float"),
)
_FLOW_RATE = ("completions", "views", "completion_rate_pct")
_ENGAGEMENT_COLUMNS: tuple[Col, ...] = (
    _c("user_id", "userId", "string"),
    _c("email", "email", "string"),
    _count("content_viewed", "contentViewed"),
    _count("flows_completed", "flowsCompleted"),
    _c("last_active", "lastActive", "ts"),
)
_SELF_HELP_COLUMNS: tuple[Col, ...] = (
    _c("content_id", "contentId", "string"),
    _c("content_name", "contentName", "string"),
    _c("content_type", "contentType", "cat", CONTENT_TYPES),
    _count("views", "views"),
)

# The table. Its order is the order of the export command's choices and of `export all`.
SPECS: tuple[DatasetSpec, ...] = (
    DatasetSpec(
        "end-users", "End users", LIST, "/end-users",
        columns=(
            _c("user_id", "userId", "string"),
            _c("email", "email", "string"),
            _c("name", "name", "string"),
            _c("created_at", "createdAt", "ts"),
            _c("last_seen_at", "lastSeenAt", "ts"),
            _c("attributes", "attributes", "dict"),
        ),
        ids=("user_id",), per_user=True,
    ),
    DatasetSpec(
        "content", "Content", LIST, "/content",
        columns=(
            _c("content_id", "contentId", "string"),
            _c("name", "name", "string"),
            _c("type", "type", "cat", CONTENT_TYPES),
            _c("status", "status", "cat", CONTENT_STATUSES),
            _c("target_url", "targetUrl", "string"),
            _c("created_at", "createdAt", "ts"),
            _c("modified_at", "modifiedAt", "ts"),
            _count("view_count", "viewCount"),
        ),
        ids=("content_id",), name_fallback=("name", "content_id"),
        scope_reason="content belongs to the account, not to users",
    ),
    DatasetSpec(
        "segments", "Segments", LIST, "/segments",
        columns=(
            _c("segment_id", "segmentId", "string"),
            _c("name", "name", "string"),
            _c("description", "description", "string"),
            _count("user_count", "userCount"),
            _c("rules", "rules", "list"),
        ),
        ids=("segment_id",), name_fallback=("name", "segment_id"),
    ),
    DatasetSpec(
        "flows", "Flow analytics", WINDOW, "/analytics/flows",
        columns=_FLOW_COLUMNS, ids=("flow_id",), name_fallback=("flow_name", "flow_id"),
        rate_check=_FLOW_RATE, compared=True, scope_reason=FLOWS_PER_FLOW,
    ),
    DatasetSpec(
        "flow-trend", "Flow trend", TREND, trend_base="flows", trend_key="flows",
        compared=True, scope_reason=FLOWS_PER_FLOW,
    ),
    DatasetSpec(
        "self-help", "Self Help analytics", WINDOW, "/analytics/self-help",
        columns=_SELF_HELP_COLUMNS, ids=("content_id",),
        name_fallback=("content_name", "content_id"), compared=True,
        scope_reason=SELF_HELP_PER_ITEM,
    ),
    DatasetSpec(
        "self-help-trend", "Self Help trend", TREND, trend_base="self-help",
        trend_key="self-help", compared=True, scope_reason=SELF_HELP_PER_ITEM,
    ),
    DatasetSpec(
        "engagement", "End-user engagement", PAGED_WINDOW, "/analytics/end-users",
        columns=_ENGAGEMENT_COLUMNS, ids=("user_id",), compared=True, per_user=True,
    ),
    DatasetSpec(
        "task-completion", "Task completion", PAGED_WINDOW, "/analytics/task-completion",
        columns=(
            _c("user_id", "userId", "string"),
            _c("user_email", "userEmail", "string"),
            _c("task_list_id", "taskListId", "string"),
            _c("task_list_name", "taskListName", "string"),
            _count("completed_tasks", "completedTasks"),
            _count("total_tasks", "totalTasks"),
            _c("completion_rate_pct", "completionRate", "float"),
            _c("last_activity_at", "lastActivityAt", "ts"),
        ),
        ids=("user_id", "task_list_id"), name_fallback=("task_list_name", "task_list_id"),
        rate_check=("completed_tasks", "total_tasks", "completion_rate_pct"),
        compared=True, per_user=True,
    ),
    DatasetSpec(
        "popular-flows", "Most popular flows", REPORT, "/reports/summary/mostPopularFlows",
        columns=(_c(RANK, RANK, "int"), *_FLOW_COLUMNS), ids=("flow_id",),
        params=(("format", "json"),), ranked=True, name_fallback=("flow_name", "flow_id"),
        rate_check=_FLOW_RATE, scope_reason=FLOWS_PER_FLOW,
    ),
    # Active users per window: the engagement list's totalCount, one pageSize=1 request each.
    DatasetSpec(
        "engagement-trend", "Active users trend", TREND, trend_base="engagement",
        trend_key="engagement", window_count="active_users", compared=True, exported=False,
        scope_reason="without a segment the active-users count per period is the API's total",
    ),
    # Active users of the whole range: the engagement list's totalCount, one pageSize=1 request
    # (the Overview's card without a segment, instead of one request per 100 active users).
    DatasetSpec(
        "active-users", "Active users (the API's count)", COUNT, trend_base="engagement",
        columns=(_count("active_users", "totalCount"),), window_count="active_users",
        compared=True, exported=False,
        scope_reason="without a segment the active-users count of a period is the API's total",
    ),
    # Every active user of every window (all pages): what a segment's active-users trend needs,
    # at ceil(active users / page size) requests per window instead of one (docs/PERFORMANCE.md).
    DatasetSpec(
        "engagement-user-trend", "Active users trend (per user)", TREND,
        trend_base="engagement", trend_key="engagement-users", per_user=True, exported=False,
        on_dashboard=False,
    ),
)

_BY_NAME: dict[str, DatasetSpec] = {spec.name: spec for spec in SPECS}
NAMES: tuple[str, ...] = tuple(_BY_NAME)
# Names accepted by `python -m whatfix_data export` (and written by `export all`), in order.
EXPORTED: tuple[str, ...] = tuple(s.name for s in SPECS if s.exported)
# What the dashboard loads for the range, and for the comparison period.
DASHBOARD: tuple[str, ...] = tuple(s.name for s in SPECS if s.on_dashboard)
COMPARED: tuple[str, ...] = tuple(s.name for s in SPECS if s.compared)
LISTS: frozenset[str] = frozenset(s.name for s in SPECS if s.kind == LIST)
TRENDS: frozenset[str] = frozenset(s.name for s in SPECS if s.is_trend)


def find(name: str) -> DatasetSpec | None:
    """The spec of a dataset, None for an unknown name."""
    return _BY_NAME.get(name)


def get(name: str) -> DatasetSpec:
    """The spec of a dataset; ValueError naming the known datasets for an unknown one."""
    spec = _BY_NAME.get(name)
    if spec is None:
        raise ValueError(f"Unknown dataset {name!r}: expected one of {', '.join(NAMES)}.")
    return spec


def trend(key: str) -> DatasetSpec:
    """The trend spec for `datasets.load_trend`'s key ("flows", ...) or the trend's own name."""
    for spec in SPECS:
        if spec.is_trend and key in (spec.trend_key, spec.name):
            return spec
    keys = sorted(s.trend_key for s in SPECS if s.is_trend)
    raise ValueError(f"no trend for {key!r}; expected one of {keys}")


def columns_of(name: str) -> tuple[Col, ...]:
    """The typed columns a dataset's records become (a trend: its base's, before windowing)."""
    spec = get(name)
    if spec.is_trend:
        return get(spec.trend_base).columns
    return spec.columns


def labels() -> dict[str, str]:
    """Dataset name -> the label people read ("Flow analytics")."""
    return {spec.name: spec.label for spec in SPECS}


def non_negative_columns(specs: Iterable[DatasetSpec] = SPECS) -> tuple[str, ...]:
    """Names of the columns that can never be negative, in first-seen order."""
    names = (col.name for spec in specs for col in spec.columns if col.non_negative)
    return tuple(dict.fromkeys(names))
