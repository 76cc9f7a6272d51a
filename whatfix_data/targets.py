"""Targets per KPI and per flow ("completion rate at least 60 %", "views at least 500 a week"),
stored per account, and their evaluation against the data.

A target is over the whole range (``per="range"``: the range's value is compared) or per week
(``per="week"``: every complete ISO week of the range is compared on its own; weeks the range
cuts short are left out, so "500 a week" is never judged on three days). Targets live in the
account's :class:`whatfix_data.store.RecordStore` (kind ``targets``), so the dashboard, the
review pack and ``python -m whatfix_data alerts`` read the same ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import pandas as pd

from whatfix_data.analytics import engagement as engagement_stats
from whatfix_data.analytics import flows as flow_stats
from whatfix_data.analytics import kpis as kpi_stats
from whatfix_data.analytics import self_help as self_help_stats
from whatfix_data.analytics._common import frame_of
from whatfix_data.config import Settings
from whatfix_data.errors import InvalidRequestError
from whatfix_data.store import RecordStore
from whatfix_data.windows import DateRange, format_day

KIND = "targets"
PER_RANGE = "range"
PER_WEEK = "week"
PERS = (PER_RANGE, PER_WEEK)
AT_LEAST = "at_least"
AT_MOST = "at_most"
DIRECTIONS = (AT_LEAST, AT_MOST)
DIRECTION_WORDS = {AT_LEAST: "at least", AT_MOST: "at most"}
COUNT_MAX = 1e12  # a count target above this is a typo, not a plan
NAME_MAX_CHARS = 200
MAX_TARGETS = 500

# KPI key -> (name, unit, trend dataset for per-week values or None, its value column).
KPI_METRICS: dict[str, tuple[str, str, str | None]] = {
    "flow_views": ("Flow views", kpi_stats.UNIT_COUNT, "flow-trend"),
    "flow_completions": ("Flow completions", kpi_stats.UNIT_COUNT, "flow-trend"),
    "completion_rate": ("Completion rate", kpi_stats.UNIT_PCT, "flow-trend"),
    "active_users": ("Active users", kpi_stats.UNIT_COUNT, "engagement-trend"),
    "self_help_views": ("Self-help views", kpi_stats.UNIT_COUNT, "self-help-trend"),
    "task_list_completion": ("Task lists completed", kpi_stats.UNIT_PCT, None),
}
# Per-flow metric -> (name, unit, column of flows / totals_by_window).
FLOW_METRICS: dict[str, tuple[str, str, str]] = {
    "views": ("Views", kpi_stats.UNIT_COUNT, "views"),
    "completions": ("Completions", kpi_stats.UNIT_COUNT, "completions"),
    "completion_rate": ("Completion rate", kpi_stats.UNIT_PCT, "completion_rate_pct"),
}
# Per-week value column of each KPI's window totals.
_WEEK_COLUMNS = {"flow_views": "views", "flow_completions": "completions",
                 "completion_rate": "completion_rate_pct", "active_users": "active_users",
                 "self_help_views": "views"}
RANGE_DATASETS = ("flows", "engagement", "self-help", "task-completion")


class TargetError(InvalidRequestError):
    """A target that cannot be set: not a number, out of range, unknown metric."""


# ------------------------------------------------------------------------------------ model


@dataclass(frozen=True)
class Target:
    """One target: a KPI of the account (``flow_id`` None) or a metric of one flow."""

    metric: str
    threshold: float
    per: str = PER_RANGE
    direction: str = AT_LEAST
    flow_id: str | None = None
    flow_name: str | None = None

    @property
    def key(self) -> str:
        """One target per metric and flow: setting it again replaces it."""
        return f"{self.metric}|{self.flow_id or ''}"

    @property
    def unit(self) -> str:
        return _metric_spec(self.metric, self.flow_id)[1]

    @property
    def is_rate(self) -> bool:
        return self.unit == kpi_stats.UNIT_PCT

    @property
    def metric_name(self) -> str:
        return _metric_spec(self.metric, self.flow_id)[0]

    @property
    def applies_to(self) -> str:
        """Whole account, or the flow's name in single quotes."""
        if self.flow_id is None:
            return "whole account"
        return f"flow '{self.flow_name or self.flow_id}'"

    @property
    def threshold_label(self) -> str:
        value = kpi_stats.format_value(self.threshold, self.unit)
        return f"{DIRECTION_WORDS[self.direction]} {value}" + (
            " a week" if self.per == PER_WEEK else "")

    @property
    def label(self) -> str:
        """E.g. ``Completion rate at least 60.0 %`` or ``Views at least 500 a week``."""
        return f"{self.metric_name} {self.threshold_label}"

    def met_by(self, value: float) -> bool:
        return value >= self.threshold if self.direction == AT_LEAST else value <= self.threshold

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Target:
        """A stored record back to a validated Target (TargetError when it is not one)."""
        if not isinstance(record, Mapping):
            raise TargetError("A stored target is not a record.")
        return make_target(
            str(record.get("metric")), record.get("threshold"), per=str(record.get("per")),
            direction=str(record.get("direction")), flow_id=record.get("flow_id"),
            flow_name=record.get("flow_name"),
        )


def _metric_spec(metric: str, flow_id: str | None) -> tuple[str, str]:
    table = FLOW_METRICS if flow_id is not None else KPI_METRICS
    if metric not in table:
        choices = ", ".join(table)
        raise TargetError(f"Unknown target metric {metric!r}: choose one of {choices}.")
    name, unit, _ = table[metric]
    return name, unit


def parse_threshold(raw: Any, metric: str, flow_id: str | None = None) -> float:
    """The threshold as a number, validated for the metric (0..100 for rates, >= 0 for counts).

    Accepts numbers and text like ``"60"``, ``"60 %"``, ``"1,500"``; anything else is a
    TargetError with a message that says what to enter.
    """
    name, unit = _metric_spec(metric, flow_id)
    text = str(raw).strip().rstrip("%").strip().replace(",", "") if raw is not None else ""
    if isinstance(raw, bool) or not text:
        raise TargetError(f"Enter the target for {name.lower()} as a number, e.g. "
                          f"{'60' if unit == kpi_stats.UNIT_PCT else '500'}.")
    try:
        value = float(text)
    except ValueError:
        shown = str(raw)[:40]
        raise TargetError(f"{shown!r} is not a number: enter the target for {name.lower()} as a "
                          "number, e.g. 60.") from None
    if not math.isfinite(value):
        raise TargetError(f"The target for {name.lower()} must be a finite number.")
    if unit == kpi_stats.UNIT_PCT and not 0 <= value <= 100:
        raise TargetError(f"{name} is a rate: its target must be between 0 and 100 %, "
                          f"got {value:g}.")
    if unit != kpi_stats.UNIT_PCT and not 0 <= value <= COUNT_MAX:
        raise TargetError(f"The target for {name.lower()} must be a count of 0 or more, "
                          f"got {value:g}.")
    return value


def make_target(metric: str, threshold: Any, *, per: str = PER_RANGE, direction: str = AT_LEAST,
                flow_id: Any = None, flow_name: Any = None) -> Target:
    """A validated Target from user input (TargetError with a clear message otherwise)."""
    flow = None if flow_id is None or str(flow_id).strip() == "" else str(flow_id).strip()
    value = parse_threshold(threshold, metric, flow)
    if per not in PERS:
        raise TargetError(f"A target is per {' or per '.join(PERS)}, not {per!r}.")
    if direction not in DIRECTIONS:
        raise TargetError(f"A target is {' or '.join(DIRECTION_WORDS.values())} a value.")
    if per == PER_WEEK and flow is None and KPI_METRICS[metric][2] is None:
        raise TargetError(f"{KPI_METRICS[metric][0]} has no weekly values: set its target over "
                          "the range.")
    name = None if flow_name is None or pd.isna(flow_name) else str(flow_name)[:NAME_MAX_CHARS]
    return Target(metric, value, per, direction, flow, name)


# ------------------------------------------------------------------------------------ store


class TargetStore:
    """The account's targets in its record store."""

    def __init__(self, settings: Settings, records: RecordStore | None = None) -> None:
        self.records = records or RecordStore(settings)

    def targets(self) -> list[Target]:
        """Every valid stored target, account KPIs first, then flows by name."""
        out = []
        for record in self.records.records(KIND).values():
            try:
                out.append(Target.from_record(record))
            except TargetError:
                continue  # a record written by a newer version: skipped, not fatal
        return sorted(out, key=lambda t: (t.flow_id is not None, t.flow_name or "",
                                          t.flow_id or "", t.metric))

    def save(self, target: Target) -> None:
        """Set (or replace) a target."""
        if len(self.records.records(KIND)) >= MAX_TARGETS and target.key not in self.keys():
            raise TargetError(f"An account can have at most {MAX_TARGETS} targets: delete one "
                              "first.")
        self.records.put(KIND, target.key, target.to_record())

    def keys(self) -> set[str]:
        return set(self.records.records(KIND))

    def delete(self, target: Target | str) -> bool:
        """Remove a target (by Target or key); whether it existed."""
        return self.records.delete(KIND, target if isinstance(target, str) else target.key)


# ------------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Evaluation:
    """A target against one period: the range, or one complete week of it."""

    target: Target
    period: str
    period_start: date
    period_end: date
    value: float | None
    breached: bool
    note: str | None = None

    @property
    def value_label(self) -> str:
        return kpi_stats.format_value(self.value, self.target.unit)

    @property
    def status(self) -> str:
        if self.value is None:
            return "no data"
        return "breached" if self.breached else "met"

    def line(self) -> str:
        """One line for the CLI and messages."""
        value = self.note if self.value is None else self.value_label
        return (f"{self.status.upper()}: {self.target.label} ({self.target.applies_to}) — "
                f"{value} in {self.period}")


def datasets_needed(targets: Iterable[Target]) -> set[str]:
    """The datasets that evaluating these targets reads (trends at week granularity)."""
    needed: set[str] = set()
    for target in targets:
        if target.flow_id is not None:
            needed.add("flow-trend" if target.per == PER_WEEK else "flows")
        elif target.per == PER_WEEK:
            needed.add(KPI_METRICS[target.metric][2] or "flows")
        else:
            needed.update(RANGE_DATASETS)
    return needed


def _range_value(target: Target, data: Mapping[str, Any]) -> float | None:
    if target.flow_id is None:
        values = {k.key: k.value for k in kpi_stats.kpis(data)}
        return values.get(target.metric)
    flows = frame_of(data, "flows")
    row = flows[flows["flow_id"] == target.flow_id]
    if row.empty:
        return 0.0 if not target.is_rate else None  # no views reported: 0 views, no rate
    value = row[FLOW_METRICS[target.metric][2]].iloc[0]
    return None if pd.isna(value) else float(value)


def _week_values(target: Target, data: Mapping[str, Any]) -> pd.DataFrame | None:
    """Window columns and ``value`` for each window of the target's weekly trend (None when the
    trend was not loaded)."""
    trend_name = "flow-trend" if target.flow_id is not None else KPI_METRICS[target.metric][2]
    if data.get(trend_name or "flow-trend") is None:
        return None
    if target.flow_id is not None:
        windows = flow_stats.totals_by_window(data.get("flow-trend"), target.flow_id)
        column = FLOW_METRICS[target.metric][2]
    else:
        trend = KPI_METRICS[target.metric][2]
        totals = {"flow-trend": flow_stats.totals_by_window,
                  "engagement-trend": engagement_stats.active_users_by_window,
                  "self-help-trend": self_help_stats.totals_by_window}[trend or "flow-trend"]
        windows = totals(data.get(trend or "flow-trend"))
        column = _WEEK_COLUMNS[target.metric]
    return windows.assign(value=windows[column]) if len(windows) else windows.assign(value=[])


def _weeks_of(date_range: DateRange) -> list[DateRange]:
    from whatfix_data.windows import split_range

    return [w.date_range for w in split_range(date_range, "week") if not w.partial]


def evaluate(targets: Iterable[Target], data: Mapping[str, Any],
             date_range: DateRange) -> list[Evaluation]:
    """Each target against ``data`` of ``date_range`` (frames by dataset name; trends weekly).

    A range target gives one Evaluation; a weekly target one per complete week (a flow with no
    row in a week had 0 views there). A target whose data is missing gives value None.
    """
    out: list[Evaluation] = []
    weeks = _weeks_of(date_range)
    for target in targets:
        if target.per == PER_RANGE:
            value = _range_value(target, data)
            out.append(_evaluation(target, date_range.label(), date_range, value))
            continue
        if not weeks:
            out.append(Evaluation(target, date_range.label(), date_range.start, date_range.end,
                                  None, False, "no complete week in the range"))
            continue
        values = _week_values(target, data)
        for week in weeks:
            row = values[values["window_start"] == week.start] if values is not None else None
            if values is None or row is None:
                value = None
            elif row.empty or pd.isna(row["value"].iloc[0]):
                value = None if target.is_rate else 0.0  # no row in a week: nothing counted
            else:
                value = float(row["value"].iloc[0])
            label = f"week of {format_day(week.start)}"
            out.append(_evaluation(target, label, week, value))
    return out


def _evaluation(target: Target, label: str, period: DateRange, value: float | None) -> Evaluation:
    breached = value is not None and not target.met_by(value)
    note = "no data for this period" if value is None else None
    return Evaluation(target, label, period.start, period.end, value, breached, note)


def load_and_evaluate(client: Any, targets: list[Target], date_range: DateRange,
                      progress: Any = None) -> list[Evaluation]:
    """Load what the targets need through the client (weekly trends) and evaluate them."""
    from whatfix_data.datasets import load_dataset

    data = {name: load_dataset(client, name, date_range, "week").frame
            for name in sorted(datasets_needed(targets))}
    return evaluate(targets, data, date_range)


def evaluation_frame(evaluations: Iterable[Evaluation]) -> pd.DataFrame:
    """Evaluations as a table: target, applies_to, period, value, status."""
    rows = list(evaluations)
    return pd.DataFrame({
        "target": pd.array([e.target.label for e in rows], dtype="string"),
        "applies_to": pd.array([e.target.applies_to for e in rows], dtype="string"),
        "period": pd.array([e.period for e in rows], dtype="string"),
        "value": pd.array([e.value_label if e.value is not None else e.note for e in rows],
                          dtype="string"),
        "status": pd.array([e.status for e in rows], dtype="string"),
    })


def breaches(evaluations: Iterable[Evaluation]) -> list[Evaluation]:
    """Only the breached evaluations."""
    return [e for e in evaluations if e.breached]


def flow_status(evaluations: Iterable[Evaluation]) -> dict[str, str]:
    """flow_id -> a short status of its targets for a table column, e.g.
    ``breached: Completion rate at least 60.0 % (41.2 %)`` or ``met``."""
    by_flow: dict[str, list[Evaluation]] = {}
    for evaluation in evaluations:
        if evaluation.target.flow_id is not None:
            by_flow.setdefault(evaluation.target.flow_id, []).append(evaluation)
    out = {}
    for flow_id, items in by_flow.items():
        broken = [e for e in items if e.breached]
        if broken:
            worst = broken[0]
            weeks = f", {len(broken)} of {len(items)} weeks" if worst.target.per == PER_WEEK else ""
            out[flow_id] = (f"breached: {worst.target.label} ({worst.value_label}{weeks})")
        elif all(e.value is None for e in items):
            out[flow_id] = "no data"
        else:
            out[flow_id] = "met"
    return out
