"""Headline KPIs of the Overview (and the deck), each with its change against the comparison.

KPI definitions (all over the chosen range; the one-sentence wording and the display names live in
``whatfix_data.glossary``, the segment scope in ``whatfix_data.scope``):

* ``flow_views`` / ``flow_completions``: sums over the ``flows`` frame;
* ``completion_rate``: 100 x total completions / total views (a weighted rate, not the mean of
  per-flow rates); its change is in percentage points;
* ``active_users``: users listed in ``engagement`` with any content viewed or flow completed (the
  API lists active users only; a listed user with unknown counts still counts); for the whole
  account it can come from ``active-users`` instead, the list's ``totalCount`` (one request, not
  one per 100 users): that is the same users counted by the API, the figure of the active-users
  trend. A segment's count needs the ``engagement`` rows (who is a member), so they win;
* ``self_help_views``: sum over ``self-help``;
* ``task_list_completion``: share (%) of (user, task list) rows that are fully completed.

Impossible values were set to NA by ``whatfix_data.frames`` and are left out of every sum.

When the account's data begins after the range ends, the KPIs say "no data yet" instead of a
change; when it begins inside the comparison period, the change would compare a full period
with a partial one, so the KPI says that instead of a percentage (``Kpi.note``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pandas as pd

from whatfix_data import glossary, scope
from whatfix_data.analytics._common import change, change_pct, frame_of, rate_pct, total
from whatfix_data.analytics.comparison import NOT_COVERED, PARTLY_COVERED, coverage
from whatfix_data.significance import Significance, count_change, rate_change
from whatfix_data.windows import DateRange, format_day

UNIT_COUNT = "count"
UNIT_PCT = "pct"


@dataclass(frozen=True)
class Kpi:
    """One KPI: value, unit (``count`` or ``pct``), previous value and its change.

    ``delta`` is value - previous (percentage points for ``pct`` KPIs); ``delta_pct`` is the
    relative change in % (None for ``pct`` KPIs and when previous is 0 or unknown). ``note``
    replaces the change when it would mislead (a period before the account's data);
    ``note_short`` says the same in a few words, for a KPI card.
    """

    key: str
    name: str
    value: float | None
    unit: str
    previous: float | None = None
    delta: float | None = None
    delta_pct: float | None = None
    higher_is_better: bool = True
    note: str | None = None
    note_short: str | None = None

    @property
    def definition(self) -> str:
        """One sentence saying what the KPI measures (from the glossary)."""
        return glossary.definition(self.key)

    @property
    def dataset(self) -> str:
        """The dataset the KPI is computed from (it decides the segment scope)."""
        return KPI_DATASET[self.key]

    def scope_label(self, segment_name: str | None) -> str:
        """Whom the value covers: "Segment: X", "All users" or all users with the reason."""
        return scope.scope_label(self.dataset, segment_name)
    # Whether the change is larger than chance (None without a comparison or without counts).
    significance: Significance | None = None

    @property
    def is_rate(self) -> bool:
        return self.unit == UNIT_PCT

    @property
    def value_label(self) -> str:
        """The value for a card: ``12,345`` or ``48.2 %`` (``–`` when unknown)."""
        return format_value(self.value, self.unit)

    @property
    def delta_label(self) -> str | None:
        """The change for a card: ``+8.0 %`` for counts, ``-2.1 pts`` for rates; None if unknown
        (or replaced by ``note``)."""
        if self.note:
            return None
        if self.is_rate:
            return None if self.delta is None else f"{self.delta:+.1f} pts"
        if self.delta_pct is not None:
            return f"{self.delta_pct:+.1f} %"
        return None if self.delta is None else f"{self.delta:+,.0f}"

    @property
    def good(self) -> bool | None:
        """True when the change is good news, False when bad, None when flat or unknown."""
        if self.delta is None or self.delta == 0:
            return None
        return (self.delta > 0) == self.higher_is_better


def format_value(value: float | None, unit: str) -> str:
    """A KPI value as text."""
    if value is None or pd.isna(value):
        return "–"
    if unit == UNIT_PCT:
        return f"{value:.1f} %"
    return f"{value:,.0f}"


def active_users(engagement: pd.DataFrame) -> int:
    """Distinct users with any activity in the engagement frame."""
    if engagement.empty:
        return 0
    viewed = engagement["content_viewed"]
    completed = engagement["flows_completed"]
    unknown = viewed.isna() & completed.isna()
    active = (viewed.fillna(0) > 0) | (completed.fillna(0) > 0) | unknown
    return int(engagement.loc[active.to_numpy(dtype=bool), "user_id"].nunique())


def flow_sample(flows: pd.DataFrame) -> tuple[int, int]:
    """(completions, views) over the flows where both are known."""
    known = flows[flows["views"].notna() & flows["completions"].notna()]
    return total(known["completions"]), total(known["views"])


def task_list_sample(tasks: pd.DataFrame) -> tuple[int, int]:
    """(rows with every task completed, rows) over the (user, task list) rows whose task
    counts are known and not zero."""
    known = tasks[tasks["completed_tasks"].notna() & tasks["total_tasks"].notna()]
    known = known[known["total_tasks"] > 0]
    return int((known["completed_tasks"] >= known["total_tasks"]).sum()), len(known)


def active_user_count(data: Mapping[str, Any]) -> int | None:
    """Active users of one period: counted from the ``engagement`` rows when they were loaded
    (e.g. limited to a segment), else the API's count (``active-users``); None without either."""
    if data.get("engagement") is not None:
        return active_users(frame_of(data, "engagement"))
    counted = data.get("active-users")
    if counted is None:
        return None
    frame = frame_of(counted)
    if "active_users" not in frame or frame.empty or pd.isna(frame["active_users"].iloc[0]):
        return None
    return int(frame["active_users"].iloc[0])


def flow_completion_rate(flows: pd.DataFrame) -> float | None:
    """Weighted completion rate: completions / views over flows where both are known."""
    return rate_pct(*flow_sample(flows))


def task_list_completion(tasks: pd.DataFrame) -> float | None:
    """Share (%) of (user, task list) rows with every task completed."""
    return rate_pct(*task_list_sample(tasks))


def _values(data: Mapping[str, Any] | None) -> dict[str, float | None]:
    """Every KPI value of one period (None for datasets that were not loaded)."""
    data = data or {}
    flows = frame_of(data, "flows")
    self_help = frame_of(data, "self-help")
    tasks = frame_of(data, "task-completion")
    has = {name: data.get(name) is not None for name in ("flows", "self-help", "task-completion")}
    return {
        "flow_views": total(flows["views"]) if has["flows"] else None,
        "flow_completions": total(flows["completions"]) if has["flows"] else None,
        "completion_rate": flow_completion_rate(flows) if has["flows"] else None,
        "active_users": active_user_count(data),
        "self_help_views": total(self_help["views"]) if has["self-help"] else None,
        "task_list_completion": task_list_completion(tasks) if has["task-completion"] else None,
    }


# KPI key -> (dataset it is computed from, unit); names and definitions: whatfix_data.glossary.
KPI_SOURCES: tuple[tuple[str, str, str], ...] = (
    ("flow_views", "flows", UNIT_COUNT),
    ("flow_completions", "flows", UNIT_COUNT),
    ("completion_rate", "flows", UNIT_PCT),
    ("active_users", "engagement", UNIT_COUNT),
    ("self_help_views", "self-help", UNIT_COUNT),
    ("task_list_completion", "task-completion", UNIT_PCT),
)
KPI_DATASET: dict[str, str] = {key: dataset for key, dataset, _unit in KPI_SOURCES}
KPI_DEFINITIONS: tuple[tuple[str, str, str], ...] = tuple(
    (key, glossary.term(key).name, unit) for key, _dataset, unit in KPI_SOURCES
)


# What each KPI's change is tested on: rates as (part, whole) with the noun of the whole,
# counts as the count itself (see whatfix_data.significance).
_RATE_NOUNS = {"completion_rate": "views", "task_list_completion": "task-list rows"}
_COUNT_NOUNS = {"flow_views": "views", "flow_completions": "completions",
                "active_users": "active users", "self_help_views": "views"}


def _samples(data: Mapping[str, Any] | None) -> dict[str, tuple[int, int] | None]:
    """(completions, views) and (completed rows, rows) behind the two rate KPIs."""
    data = data or {}
    return {
        "completion_rate": flow_sample(frame_of(data, "flows"))
        if data.get("flows") is not None else None,
        "task_list_completion": task_list_sample(frame_of(data, "task-completion"))
        if data.get("task-completion") is not None else None,
    }


def change_significance(key: str, now: Mapping[str, Any] | None,
                        before: Mapping[str, Any] | None, values_now: Mapping[str, Any],
                        values_before: Mapping[str, Any],
                        days: tuple[int, int] | None = None) -> Significance | None:
    """Whether KPI ``key`` changed by more than chance between the two periods."""
    if key in _RATE_NOUNS:
        a, b = _samples(now).get(key), _samples(before).get(key)
        if a is None or b is None:
            return None
        return rate_change(a[0], a[1], b[0], b[1], noun=_RATE_NOUNS[key])
    exposure_now, exposure_before = days or (1, 1)
    return count_change(values_now.get(key), values_before.get(key), exposure_now=exposure_now,
                        exposure_before=exposure_before, noun=_COUNT_NOUNS.get(key, "events"))


def kpis(
    current: Mapping[str, Any],
    previous: Mapping[str, Any] | None = None,
    *,
    data_start: date | None = None,
    date_range: DateRange | None = None,
    comparison_range: DateRange | None = None,
    days: tuple[int, int] | None = None,
) -> list[Kpi]:
    """The six headline KPIs with deltas.

    ``current`` / ``previous`` map dataset names (``flows``, ``engagement`` or ``active-users``,
    ``self-help``, ``task-completion``) to DataFrames or Datasets, e.g.
    ``DashboardData.current``. A dataset missing from the mapping gives a KPI without value; a
    missing ``previous`` gives no deltas.
    With ``data_start`` (``comparison.data_start``) and the two ranges, a period before the
    account's data gets a note instead of a change (:func:`coverage_note`).
    Each change carries its ``significance``; ``days`` = (current, previous) period lengths
    makes count tests fair when the periods differ in length (equal when omitted).
    """
    now = _values(current)
    before = _values(previous) if previous else dict.fromkeys(now)
    out: list[Kpi] = []
    for key, name, unit in KPI_DEFINITIONS:
        value, prior = now[key], before[key]
        out.append(
            Kpi(
                key=key,
                name=name,
                value=value,
                unit=unit,
                previous=prior,
                delta=change(value, prior),
                delta_pct=None if unit == UNIT_PCT else change_pct(value, prior),
                significance=change_significance(key, current, previous, now, before, days)
                if previous else None,
            )
        )
    notes = coverage_note(data_start, date_range, comparison_range if previous else None)
    if notes:
        out = [replace(k, delta=None, delta_pct=None, note=notes[0], note_short=notes[1],
                       significance=None) for k in out]
    return out


def coverage_note(
    data_start: date | None,
    date_range: DateRange | None,
    comparison_range: DateRange | None,
) -> tuple[str, str] | None:
    """Why a change would mislead (a sentence, and a few words for a card), or None: the range
    (or the comparison) ends before the account's data begins, or the comparison starts before
    it (a partial period)."""
    if data_start is None:
        return None
    begins = format_day(data_start)
    if coverage(date_range, data_start) == NOT_COVERED:
        return (f"No data yet: the account's data begins on {begins}.",
                f"No data yet (from {begins})")
    compared = coverage(comparison_range, data_start)
    if compared == NOT_COVERED:
        return (f"No change: the account had no data yet in the comparison (begins {begins}).",
                "Comparison: no data yet")
    if compared == PARTLY_COVERED:
        return (f"No % change: the comparison starts before the account's data ({begins}).",
                "Comparison starts before data")
    return None


def kpi_frame(items: list[Kpi]) -> pd.DataFrame:
    """KPIs as a table: kpi, value, unit, previous, delta, delta_pct, note (CSV/slide tables)."""
    return pd.DataFrame(
        {
            "kpi": pd.array([k.name for k in items], dtype="string"),
            "value": pd.array([k.value for k in items], dtype="Float64"),
            "unit": pd.array([k.unit for k in items], dtype="string"),
            "previous": pd.array([k.previous for k in items], dtype="Float64"),
            "delta": pd.array([k.delta for k in items], dtype="Float64"),
            "delta_pct": pd.array([k.delta_pct for k in items], dtype="Float64"),
            "note": pd.array([k.note for k in items], dtype="string"),
        }
    )
