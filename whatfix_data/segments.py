"""Segment rules evaluated locally: matching, membership, readable sentences, reconciliation.

The rule semantics (documented in docs/SEGMENT_RULES.md; a server computing ``userCount`` with
``matches``/``value_matches`` agrees with the local membership by construction):

* A segment's rules are combined with AND; a segment with no rules matches every user.
* Attribute names are looked up exactly first, then case-insensitively (``Role`` finds ``role``).
* A missing attribute (absent key, ``None``, NaN, or an empty list) matches no positive
  operator (``equals``, ``contains``, ``startsWith``, ``endsWith``, ``in``); the negative
  operators ``notEquals`` and ``notIn`` are always the exact logical negation of ``equals`` and
  ``in``, so they match users without the attribute.
* Strings compare case-insensitively (``str.casefold``) after trimming surrounding whitespace.
* Numbers: when either side is a real number (``int``/``float``, not ``bool``), the other side is
  parsed as a number and compared numerically, so ``"5" == 5`` and ``5 == 5.0``. Two strings are
  compared as strings: ``"5.0" != "5"``.
* Booleans compare with booleans and with the strings ``"true"``/``"false"`` (any case); a boolean
  is never equal to a number.
* ``contains``, ``startsWith`` and ``endsWith`` work on the text form of the value
  (``5`` -> ``"5"``, ``True`` -> ``"true"``).
* ``in`` / ``notIn`` take a list of values; a scalar rule value is a one-element list, and a string
  rule value containing commas is split on the commas (``"Admin, Manager"``).
* A list rule value given to ``equals``/``contains``/``startsWith``/``endsWith`` matches when any of
  its items matches.
* A list-valued attribute (e.g. ``tags: ["beta", "emea"]``) matches a positive operator when any of
  its items matches.
* An unknown operator, or a rule that is not a mapping, matches nobody (``rule_problems`` says
  so).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from whatfix_data.json_keys import json_key

OPERATORS: tuple[str, ...] = (
    "equals",
    "notEquals",
    "contains",
    "startsWith",
    "endsWith",
    "in",
    "notIn",
)
# Negative operators are evaluated as NOT(positive counterpart).
NEGATIONS: dict[str, str] = {"notEquals": "equals", "notIn": "in"}

MEMBERSHIP_COLUMNS: tuple[str, ...] = ("segment_id", "user_id")
RECONCILIATION_COLUMNS: tuple[str, ...] = (
    "segment_id",
    "name",
    "user_count",
    "local_count",
    "difference",
    "matches",
)
LIST_SEPARATOR = ","
PERCENT = 100.0
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_TRUE_FALSE = {"true": True, "false": False}

_MISSING = object()


@dataclass(frozen=True)
class Rule:
    """One parsed rule: attribute name, operator and the rule's value as given."""

    attribute: str
    operator: str
    value: Any


# --------------------------------------------------------------------------- value normalisation


def _is_missing(value: Any) -> bool:
    """True for values that count as 'attribute not set'."""
    if value is None or value is _MISSING or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, (list, tuple)) and len(value) == 0


def _is_number(value: Any) -> bool:
    """True for real numbers (bool is not a number here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_number(value: Any) -> float | None:
    """Parse a value as a finite number, or None when it is not one."""
    if _is_number(value):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, str) and _NUMBER_RE.match(value.strip()):
        parsed = float(value.strip())
        return parsed if math.isfinite(parsed) else None
    return None


def _text(value: Any) -> str:
    """The case-folded, trimmed text form of a scalar value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_number(value):
        number = float(value)
        if number.is_integer() and abs(number) < 1e16:
            return str(int(number))
        return repr(number)
    return str(value).strip().casefold()


def _scalar_equals(left: Any, right: Any) -> bool:
    """Equality between two non-missing scalars under the documented type rules."""
    if isinstance(left, bool) or isinstance(right, bool):
        other = right if isinstance(left, bool) else left
        flag = left if isinstance(left, bool) else right
        if isinstance(other, bool):
            return other == flag
        if isinstance(other, str):
            return _TRUE_FALSE.get(other.strip().casefold()) is flag
        return False
    if _is_number(left) or _is_number(right):
        a, b = _as_number(left), _as_number(right)
        return a is not None and b is not None and a == b
    return _text(left) == _text(right)


def _rule_values(operator: str, value: Any) -> list[Any]:
    """The list of candidate values a rule compares against."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return [v for v in value if not _is_missing(v)]
    if _is_missing(value):
        return []
    if operator in ("in", "notIn") and isinstance(value, str) and LIST_SEPARATOR in value:
        return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]
    return [value]


def _attribute_values(value: Any) -> list[Any]:
    """The scalar items of an attribute value (a list attribute gives each item)."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return [v for v in value if not _is_missing(v)]
    return [] if _is_missing(value) else [value]


_TEXT_TESTS: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda text, needle: needle in text,
    "startsWith": lambda text, needle: text.startswith(needle),
    "endsWith": lambda text, needle: text.endswith(needle),
}


def _positive_match(operator: str, attribute_value: Any, rule_value: Any) -> bool:
    """Evaluate a positive operator (equals, in, contains, startsWith, endsWith)."""
    items = _attribute_values(attribute_value)
    candidates = _rule_values(operator, rule_value)
    if not items or not candidates:
        return False
    if operator in ("equals", "in"):
        return any(_scalar_equals(a, c) for a in items for c in candidates)
    test = _TEXT_TESTS[operator]
    return any(test(_text(a), _text(c)) for a in items for c in candidates)


def value_matches(operator: str, attribute_value: Any, rule_value: Any) -> bool:
    """Whether one attribute value satisfies ``operator`` with ``rule_value``.

    Unknown operators match nothing. Missing values: see the module docstring.
    """
    if operator in NEGATIONS:
        return not _positive_match(NEGATIONS[operator], attribute_value, rule_value)
    if operator not in OPERATORS:
        return False
    return _positive_match(operator, attribute_value, rule_value)


# --------------------------------------------------------------------------- rules and matching


def parse_rule(rule: Any) -> Rule | None:
    """A Rule from a rule mapping, or None when it is not a usable rule mapping."""
    if not isinstance(rule, Mapping):
        return None
    attribute = rule.get("attribute")
    operator = rule.get("operator")
    if not isinstance(attribute, str) or not attribute.strip() or not isinstance(operator, str):
        return None
    return Rule(attribute=attribute.strip(), operator=operator.strip(), value=rule.get("value"))


def rule_problems(rules: Any) -> list[str]:
    """Human-readable problems with a segment's rules (empty list when all are usable)."""
    if rules is None or _is_nan(rules):
        return []
    if not isinstance(rules, (list, tuple)):
        return [f"rules is a {type(rules).__name__}, expected a list of rules"]
    problems: list[str] = []
    for position, raw in enumerate(rules, start=1):
        rule = parse_rule(raw)
        if rule is None:
            problems.append(f"rule {position} has no attribute or operator")
        elif rule.operator not in OPERATORS:
            problems.append(f"rule {position} uses unknown operator {rule.operator!r}")
    return problems


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def lookup_attribute(attributes: Any, name: str) -> Any:
    """An attribute's value: exact key first, then a case-insensitive key; None when absent."""
    if not isinstance(attributes, Mapping):
        return None
    if name in attributes:
        return attributes[name]
    folded = name.casefold()
    for key, value in attributes.items():
        if isinstance(key, str) and key.casefold() == folded:
            return value
    return None


def _parsed_rules(rules: Any) -> list[Rule | None]:
    """Parse a rules value; None entries stand for unusable rules (which match nobody)."""
    if rules is None or _is_nan(rules):
        return []
    if not isinstance(rules, (list, tuple)):
        return [None]
    return [parse_rule(raw) for raw in rules]


def matches(
    attributes: Mapping[str, Any] | None, rules: Sequence[Mapping[str, Any]] | None
) -> bool:
    """Whether a user with these attributes belongs to a segment with these rules (AND)."""
    for rule in _parsed_rules(rules):
        if rule is None:
            return False
        value = lookup_attribute(attributes, rule.attribute)
        if not value_matches(rule.operator, value, rule.value):
            return False
    return True


# --------------------------------------------------------------------------- vectorised membership


@dataclass(frozen=True)
class _ValueColumn:
    """One attribute over every user, factorized: ``codes[i]`` indexes ``distinct``.

    Rules are evaluated once per distinct value (roles, regions and plans have few) and the
    results spread to the users with one numpy take, instead of once per user.
    """

    codes: np.ndarray
    distinct: list[Any]

    def mask(self, rule: Rule) -> np.ndarray:
        """Boolean membership of every user for one rule on this attribute."""
        table = np.fromiter((value_matches(rule.operator, value, rule.value)
                             for value in self.distinct), dtype=bool, count=len(self.distinct))
        return table[self.codes]


def _attribute_values_of(attributes: list[Any], name: str) -> list[Any]:
    """Each user's value of attribute ``name`` (``lookup_attribute``: exact, then case-blind)."""
    return [a[name] if type(a) is dict and name in a else lookup_attribute(a, name)
            for a in attributes]


def _value_column(attributes: list[Any], name: str) -> _ValueColumn:
    values = _attribute_values_of(attributes, name)
    # A str key never equals json_key's tuples: strings skip the call (most attribute values).
    keys = pd.Series([v if type(v) is str else json_key(v) for v in values], dtype=object)
    codes, _ = pd.factorize(keys, use_na_sentinel=False)
    _, first = np.unique(codes, return_index=True)  # codes are numbered in order of appearance
    return _ValueColumn(codes=codes, distinct=[values[i] for i in first])


def _segment_mask(attributes: list[Any], rules: Any,
                  columns: dict[str, _ValueColumn]) -> np.ndarray:
    """Boolean membership of every user in one segment; ``columns`` caches the attributes."""
    mask = np.ones(len(attributes), dtype=bool)
    for rule in _parsed_rules(rules):
        if rule is None:
            return np.zeros(len(attributes), dtype=bool)
        if rule.attribute not in columns:
            columns[rule.attribute] = _value_column(attributes, rule.attribute)
        mask &= columns[rule.attribute].mask(rule)
    return mask


def empty_membership() -> pd.DataFrame:
    """An empty membership frame with the fixed columns."""
    return pd.DataFrame(
        {"segment_id": pd.Series([], dtype="string"), "user_id": pd.Series([], dtype="string")}
    )


def membership(end_users: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """Long frame (segment_id, user_id) of every user matching every segment's rules.

    ``end_users`` needs ``user_id`` and ``attributes``; ``segments`` needs ``segment_id`` and
    ``rules`` (the frames produced by ``whatfix_data.frames``). Users without an id are skipped.
    """
    if end_users.empty or segments.empty:
        return empty_membership()
    users = end_users[end_users["user_id"].notna()]
    user_ids = users["user_id"].astype("string").to_numpy(dtype=object)
    attributes = users["attributes"].tolist()
    columns: dict[str, _ValueColumn] = {}
    segment_ids: list[np.ndarray] = []
    member_ids: list[np.ndarray] = []
    for segment_id, rules in zip(segments["segment_id"], segments["rules"], strict=True):
        if _is_missing_id(segment_id):
            continue
        members = user_ids[_segment_mask(attributes, rules, columns)]
        member_ids.append(members)
        segment_ids.append(np.full(len(members), str(segment_id), dtype=object))
    if not member_ids:
        return empty_membership()
    return pd.DataFrame({
        "segment_id": pd.array(np.concatenate(segment_ids), dtype="string"),
        "user_id": pd.array(np.concatenate(member_ids), dtype="string"),
    })


def _is_missing_id(value: Any) -> bool:
    return value is None or value is pd.NA or _is_nan(value)


def membership_counts(member_frame: pd.DataFrame, segments: pd.DataFrame) -> pd.Series:
    """Local member count per segment_id (every segment present, 0 when nobody matches)."""
    counts = member_frame.groupby("segment_id", observed=True).size()
    ids = segments["segment_id"].dropna().astype("string")
    return counts.reindex(ids, fill_value=0).astype("Int64")


def reconcile(segments: pd.DataFrame, member_frame: pd.DataFrame) -> pd.DataFrame:
    """Local membership counts beside the API's ``userCount``.

    Columns: segment_id, name, user_count (API), local_count, difference (local - API; NA when the
    API gave no count), matches (bool; False when the API count is missing).
    """
    if segments.empty:
        return pd.DataFrame(
            {
                "segment_id": pd.Series([], dtype="string"),
                "name": pd.Series([], dtype="string"),
                "user_count": pd.Series([], dtype="Int64"),
                "local_count": pd.Series([], dtype="Int64"),
                "difference": pd.Series([], dtype="Int64"),
                "matches": pd.Series([], dtype="bool"),
            }
        )
    base = segments[segments["segment_id"].notna()]
    counts = membership_counts(member_frame, base)
    local = counts.reindex(base["segment_id"].astype("string")).to_numpy()
    frame = pd.DataFrame(
        {
            "segment_id": base["segment_id"].astype("string").to_numpy(),
            "name": base["name"].astype("string").to_numpy(),
            "user_count": base["user_count"].astype("Int64").to_numpy(),
            "local_count": pd.array(local, dtype="Int64"),
        }
    )
    frame["difference"] = (frame["local_count"] - frame["user_count"]).astype("Int64")
    frame["matches"] = frame["difference"].eq(0).fillna(False).astype(bool)
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------- readable sentences

_PHRASES: dict[str, str] = {
    "equals": "is",
    "notEquals": "is not",
    "contains": "contains",
    "startsWith": "starts with",
    "endsWith": "ends with",
    "in": "is one of",
    "notIn": "is not one of",
}
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def attribute_label(name: str) -> str:
    """A readable attribute name: ``departmentName`` -> ``Department name``."""
    words = _CAMEL_RE.sub(" ", name).replace("_", " ").replace("-", " ").split()
    if not words:
        return name
    text = " ".join(words).lower()
    return text[0].upper() + text[1:]


def _value_text(value: Any, quote: bool) -> str:
    """A value as shown in a sentence: strings quoted when ``quote``, numbers and booleans bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_number(value):
        return _text(value)
    if _is_missing(value):
        return "(no value)"
    return f"'{value}'" if quote else str(value)


def _join_values(values: Iterable[Any], quote: bool) -> str:
    texts = [_value_text(v, quote) for v in values]
    return ", ".join(texts) if texts else "(no values)"


def rule_sentence(rule: Any) -> str:
    """One rule as a sentence fragment, e.g. ``Region starts with 'EU'``."""
    parsed = parse_rule(rule)
    if parsed is None:
        return "(invalid rule)"
    label = attribute_label(parsed.attribute)
    if parsed.operator not in OPERATORS:
        return f"{label} (unknown operator '{parsed.operator}') {_value_text(parsed.value, True)}"
    phrase = _PHRASES[parsed.operator]
    values = _rule_values(parsed.operator, parsed.value)
    if parsed.operator in ("in", "notIn"):
        return f"{label} {phrase} {_join_values(values, False)}"
    if len(values) > 1:
        return f"{label} {phrase} any of {_join_values(values, True)}"
    return f"{label} {phrase} {_value_text(parsed.value, True)}"


def rules_sentence(rules: Any) -> str:
    """All rules of a segment as one sentence joined with 'and'; 'All users' when there are none."""
    parsed = _parsed_rules(rules)
    if not parsed:
        return "All users"
    if not isinstance(rules, (list, tuple)):
        return "(invalid rules)"
    return " and ".join(rule_sentence(rule) for rule in rules)


# --------------------------------------------------------------------------- per-segment breakdowns


def members_of(member_frame: pd.DataFrame, segment_id: str | None) -> pd.Index:
    """The user ids of one segment (an empty index when nobody matches)."""
    if segment_id is None:
        return pd.Index([], dtype="string")
    selected = member_frame.loc[member_frame["segment_id"] == segment_id, "user_id"]
    return pd.Index(selected.unique(), dtype="string")


def filter_to_segment(
    frame: pd.DataFrame,
    member_frame: pd.DataFrame,
    segment_id: str | None,
    user_column: str = "user_id",
) -> pd.DataFrame:
    """Rows of a per-user frame whose user belongs to ``segment_id``; all rows when it is None."""
    if segment_id is None:
        return frame
    ids = members_of(member_frame, segment_id)
    return frame[frame[user_column].isin(ids)].reset_index(drop=True)


def segment_breakdown(
    segments: pd.DataFrame,
    member_frame: pd.DataFrame,
    engagement: pd.DataFrame | None = None,
    task_completion: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per-segment engagement and task completion of the locally computed members.

    Columns: segment_id, name, members, active_users (members with an engagement row showing any
    content viewed or flow completed), active_pct (of members), content_viewed, flows_completed,
    content_viewed_per_member, flows_completed_per_member, task_rows, task_completion_pct (mean
    completion of the members' task-list rows), task_lists_completed (rows at 100%).
    """
    base = segments[segments["segment_id"].notna()][["segment_id", "name"]].copy()
    base["segment_id"] = base["segment_id"].astype("string")
    base["name"] = base["name"].astype("string")
    members = membership_counts(member_frame, base).rename("members")
    out = base.merge(members, left_on="segment_id", right_index=True, how="left")
    out = out.merge(_engagement_by_segment(member_frame, engagement), on="segment_id", how="left")
    out = out.merge(_tasks_by_segment(member_frame, task_completion), on="segment_id", how="left")
    out = _fill_breakdown(out)
    return out.reset_index(drop=True)


def _per_member(member_frame: pd.DataFrame, per_user: pd.DataFrame) -> pd.DataFrame:
    """``per_user``'s row (one per user, indexed by user_id) beside each membership row, with its
    segment_id; members without a row are left out. One hash lookup per membership row instead
    of a many-to-many merge on the id strings."""
    positions = per_user.index.get_indexer(member_frame["user_id"])
    found = positions >= 0
    rows = per_user.iloc[positions[found]].reset_index(drop=True)
    rows.insert(0, "segment_id", member_frame["segment_id"].to_numpy()[found])
    return rows


def _engagement_by_segment(member_frame: pd.DataFrame, engagement: pd.DataFrame | None):
    columns = ["segment_id", "active_users", "content_viewed", "flows_completed"]
    if engagement is None or engagement.empty or member_frame.empty:
        return pd.DataFrame(
            {c: pd.Series([], dtype="string" if c == "segment_id" else "Int64") for c in columns}
        )
    per_user = engagement.groupby("user_id", observed=True)[
        ["content_viewed", "flows_completed"]
    ].sum(min_count=1)
    joined = _per_member(member_frame, per_user)
    viewed = joined["content_viewed"].fillna(0)
    completed = joined["flows_completed"].fillna(0)
    joined["active"] = (viewed > 0) | (completed > 0)
    grouped = joined.groupby("segment_id", observed=True).agg(
        active_users=("active", "sum"),
        content_viewed=("content_viewed", "sum"),
        flows_completed=("flows_completed", "sum"),
    )
    return grouped.reset_index()


def _tasks_by_segment(member_frame: pd.DataFrame, tasks: pd.DataFrame | None) -> pd.DataFrame:
    if tasks is None or tasks.empty or member_frame.empty:
        return pd.DataFrame(
            {
                "segment_id": pd.Series([], dtype="string"),
                "task_rows": pd.Series([], dtype="Int64"),
                "task_completion_pct": pd.Series([], dtype="Float64"),
                "task_lists_completed": pd.Series([], dtype="Int64"),
            }
        )
    rows = pd.DataFrame({"user_id": tasks["user_id"], "pct": task_progress_pct(tasks)})
    rows["done"] = (rows["pct"] >= PERCENT).fillna(False).astype(bool)
    # Per user first (sums and counts add up per segment), so the join is one row per member.
    per_user = rows.groupby("user_id", observed=True).agg(
        task_rows=("pct", "size"), pct_sum=("pct", "sum"), pct_known=("pct", "count"),
        task_lists_completed=("done", "sum"))
    joined = _per_member(member_frame, per_user)
    grouped = joined.groupby("segment_id", observed=True)[
        ["task_rows", "pct_sum", "pct_known", "task_lists_completed"]].sum()
    known = grouped["pct_known"].astype("Float64")
    grouped["task_completion_pct"] = grouped["pct_sum"].astype("Float64") / known.where(known > 0)
    return grouped[["task_rows", "task_completion_pct", "task_lists_completed"]].reset_index()


def task_progress_pct(tasks: pd.DataFrame) -> pd.Series:
    """Progress (%) of each task-completion row: completed / total tasks, else the API's
    completion rate. The one rule for task progress (analytics.tasks.progress reads it too)."""
    rate = tasks["completion_rate_pct"].astype("Float64")
    if "completed_tasks" not in tasks or "total_tasks" not in tasks:
        return rate
    total = tasks["total_tasks"].astype("Float64")
    from_counts = tasks["completed_tasks"].astype("Float64") * PERCENT / total.where(total > 0)
    return from_counts.fillna(rate)


def _fill_breakdown(out: pd.DataFrame) -> pd.DataFrame:
    """Fixed dtypes, zero counts for empty segments, and the per-member ratios."""
    for column in (
        "members",
        "active_users",
        "content_viewed",
        "flows_completed",
        "task_rows",
        "task_lists_completed",
    ):
        out[column] = pd.array(out[column].fillna(0), dtype="Int64")
    out["task_completion_pct"] = out["task_completion_pct"].astype("Float64").round(1)
    members = out["members"].astype("Float64")
    safe = members.where(members > 0)
    out["active_pct"] = (out["active_users"] / safe * 100).round(1).astype("Float64")
    out["content_viewed_per_member"] = (out["content_viewed"] / safe).round(2).astype("Float64")
    out["flows_completed_per_member"] = (out["flows_completed"] / safe).round(2).astype("Float64")
    order = [
        "segment_id",
        "name",
        "members",
        "active_users",
        "active_pct",
        "content_viewed",
        "flows_completed",
        "content_viewed_per_member",
        "flows_completed_per_member",
        "task_rows",
        "task_completion_pct",
        "task_lists_completed",
    ]
    return out[order]


def segment_table(segments: pd.DataFrame, member_frame: pd.DataFrame) -> pd.DataFrame:
    """Segments for display: segment_id, name, rules (as a sentence), description, then the
    reconciliation columns (user_count, local_count, difference, matches)."""
    recon = reconcile(segments, member_frame)
    base = segments[segments["segment_id"].notna()]
    sentences = [rules_sentence(rules) for rules in base["rules"]]
    recon.insert(2, "rules", pd.array(sentences, dtype="string"))
    recon.insert(3, "description", base["description"].astype("string").to_numpy())
    return recon
