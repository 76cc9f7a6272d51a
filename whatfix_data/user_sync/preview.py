"""Preview: what the sync will do to each valid row, and to each segment's membership.

A row *creates* a user that does not exist yet, *updates* one whose email, name or attributes
differ, and leaves *unchanged* one that already holds every value of the row (no request is
sent for it: that is what makes a second run of the same file send nothing).

Merge rule: the body sent is the user's full record, the current attributes overlaid with the
row's non-empty values. An empty cell keeps the current value; a sync never deletes attributes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from whatfix_data import segments as segment_rules
from whatfix_data.user_sync.validation import MAX_ATTRIBUTES, Validation
from whatfix_data.user_sync.values import comparable

CREATE = "create"
UPDATE = "update"
UNCHANGED = "unchanged"
ACTIONS: tuple[str, ...] = (CREATE, UPDATE, UNCHANGED)
NO_EMAIL_MESSAGE = (
    "email is missing: this userId is not in Whatfix yet, and a new end user needs an email."
)
JOINS = "joins"
LEAVES = "leaves"
SEGMENT_CHANGE_COLUMNS: tuple[str, ...] = (
    "segment_id", "name", "members_now", "joining", "leaving", "members_after",
)


@dataclass
class Plan:
    """The preview of a sync.

    ``actions``: one line per valid row: row, user_id, action (create/update/unchanged),
    changed_fields (list: email, name), changed_attributes (list of names), body (dict to PUT),
    old_values (dict: the current value of each changed field; see :func:`value_changes`).
    ``invalid``: one line per invalid row (row, user_id, message). ``segment_changes``: per
    segment, members now, joining, leaving and after. ``segment_moves``: segment_id, user_id,
    change (joins/leaves) for a drill-down.
    """

    actions: pd.DataFrame
    invalid: pd.DataFrame
    segment_changes: pd.DataFrame
    segment_moves: pd.DataFrame
    total_rows: int

    def count(self, action: str) -> int:
        return int((self.actions["action"] == action).sum())

    @property
    def to_send(self) -> pd.DataFrame:
        """The rows that need a request (create or update), in file order."""
        return self.actions[self.actions["action"] != UNCHANGED]

    def summary(self) -> dict[str, int]:
        """Counts per action plus invalid and total: they add up to total_rows."""
        counts = {action: self.count(action) for action in ACTIONS}
        counts["invalid"] = len(self.invalid)
        counts["total"] = self.total_rows
        return counts


_ABSENT = object()


def _same(new: Any, old: Any) -> bool:
    """Whether the API already holds ``new``; the fast path covers the usual equal values."""
    if type(new) is type(old) and new == old:
        return True
    return old is not _ABSENT and comparable(new) == comparable(old)


def _current_index(end_users: pd.DataFrame) -> dict[str, tuple[Any, Any, Mapping[str, Any]]]:
    """user_id -> (email, name, attributes) of the current end users."""
    if end_users is None or end_users.empty:
        return {}
    emails = [None if pd.isna(v) else v for v in end_users["email"].tolist()]
    names = [None if pd.isna(v) else v for v in end_users["name"].tolist()]
    attributes = [a if isinstance(a, Mapping) else {} for a in end_users["attributes"].tolist()]
    ids = end_users["user_id"].astype(object).tolist()
    return {
        str(uid): (email, name, attrs)
        for uid, email, name, attrs in zip(ids, emails, names, attributes, strict=True)
        if uid is not None and not (isinstance(uid, float) and np.isnan(uid))
    }


def _row_action(
    user_id: str, email: Any, name: Any, attributes: Mapping[str, Any],
    current: tuple[Any, Any, Mapping[str, Any]] | None,
) -> tuple[str, list[str], list[str], dict[str, Any]]:
    """(action, changed fields, changed attribute names, body) for one valid row."""
    if current is None:
        body: dict[str, Any] = {"userId": user_id, "attributes": dict(attributes)}
        fields = [f for f, v in (("email", email), ("name", name)) if v is not None]
        body.update({f: v for f, v in (("email", email), ("name", name)) if v is not None})
        return CREATE, fields, sorted(attributes), body
    now_email, now_name, now_attributes = current
    fields = [
        f for f, new, old in (("email", email, now_email), ("name", name, now_name))
        if new is not None and new != old
    ]
    # Cheap screen first (most values are equal and of the same type), exact rule after.
    suspects = [k for k, v in attributes.items()
                if (old := now_attributes.get(k, _ABSENT)) != v or type(old) is not type(v)]
    changed = sorted(
        k for k in suspects if not _same(attributes[k], now_attributes.get(k, _ABSENT))
    )
    if not fields and not changed:
        return UNCHANGED, [], [], {}
    merged = {**now_attributes, **attributes}
    body = {"userId": user_id, "attributes": merged}
    final_email = email if email is not None else now_email
    final_name = name if name is not None else now_name
    # A user created without an email has "" (or NA): sending that back would be refused.
    body.update({f: v for f, v in (("email", final_email), ("name", final_name))
                 if isinstance(v, str) and v})
    return UPDATE, fields, changed, body


def _old_values(result: tuple[str, list[str], list[str], dict[str, Any]],
                current: tuple[Any, Any, Mapping[str, Any]] | None) -> dict[str, Any]:
    """Field or attribute name -> the value the API holds now, for each changed one (a value
    the user does not have yet is absent)."""
    _, fields, attributes, _ = result
    if current is None:
        return {}
    email, name, now_attributes = current
    old: dict[str, Any] = {f: v for f, v in (("email", email), ("name", name)) if f in fields}
    old.update({k: now_attributes[k] for k in attributes if k in now_attributes})
    return old


def value_text(value: Any) -> str:
    """A field value as shown in the preview: text as is, numbers and booleans as JSON."""
    if value is None or value is _ABSENT:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def value_changes(plan: Plan) -> pd.DataFrame:
    """One line per changed field of each row to send: row, user_id, action, field, old_value,
    new_value (text; an empty old value: the user has none yet)."""
    lines = []
    to_send = plan.to_send
    for row, uid, action, fields, attrs, body, old in zip(
            to_send["row"], to_send["user_id"], to_send["action"], to_send["changed_fields"],
            to_send["changed_attributes"], to_send["body"], to_send["old_values"], strict=True):
        for name in [*fields, *attrs]:
            new = body.get(name) if name in fields else body["attributes"].get(name)
            lines.append((int(row), str(uid), str(action), name, value_text(old.get(name)),
                          value_text(new)))
    columns = ["row", "user_id", "action", "field", "old_value", "new_value"]
    frame = pd.DataFrame(lines, columns=columns)
    return frame.astype({"row": "int64"}) if lines else frame


def build_plan(
    validation: Validation, end_users: pd.DataFrame, segments: pd.DataFrame | None = None
) -> Plan:
    """Diff the valid rows against the current end users (frames of whatfix_data.frames)."""
    current = _current_index(end_users)
    records = validation.records
    results = [
        _row_action(uid, email, name, attrs, current.get(uid))
        for uid, email, name, attrs in zip(
            records["user_id"], records["email"], records["name"], records["attributes"],
            strict=True,
        )
    ]
    actions = pd.DataFrame({
        "row": records["row"].to_numpy(),
        "user_id": pd.Series(records["user_id"].to_numpy(), dtype=object),
        "action": pd.Series([r[0] for r in results], dtype=object),
        "changed_fields": pd.Series([r[1] for r in results], dtype=object),
        "changed_attributes": pd.Series([r[2] for r in results], dtype=object),
        "body": pd.Series([r[3] for r in results], dtype=object),
        "old_values": pd.Series([_old_values(r, current.get(uid)) for r, uid in zip(
            results, records["user_id"], strict=True)], dtype=object),
    })
    actions, refused = _split_unsendable(actions)
    invalid = pd.concat([validation.invalid, refused], ignore_index=True)
    invalid = invalid.sort_values("row", kind="stable").reset_index(drop=True)
    changes, moves = segment_impact(actions, current, segments)
    return Plan(actions=actions, invalid=invalid, segment_changes=changes, segment_moves=moves,
                total_rows=validation.total_rows)


def _split_unsendable(actions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows the API would refuse whatever we do become invalid (never sent): a new user without
    an email, or a record that would exceed MAX_ATTRIBUTES once merged with the current one."""
    sizes = np.array([len(b.get("attributes", {})) for b in actions["body"]], dtype=int)
    over = sizes > MAX_ATTRIBUTES
    no_email = np.array([a == CREATE and not b.get("email")
                         for a, b in zip(actions["action"], actions["body"], strict=True)],
                        dtype=bool)
    refused = over | no_email
    if not refused.any():
        return actions, pd.DataFrame(columns=["row", "user_id", "message"])
    messages = [
        NO_EMAIL_MESSAGE if missing else
        f"with the user's current attributes the user would have {n} attributes; the API "
        f"accepts at most {MAX_ATTRIBUTES}."
        for missing, n in zip(no_email[refused], sizes[refused], strict=True)
    ]
    invalid = pd.DataFrame({
        "row": actions.loc[refused, "row"].to_numpy(),
        "user_id": actions.loc[refused, "user_id"].to_numpy(),
        "message": messages,
    })
    return actions.loc[~refused].reset_index(drop=True), invalid


# --------------------------------------------------------------------------- segment impact


def _value_key(value: Any) -> Any:
    """A hashable key that keeps True, 1, 1.0 and "1" apart (they differ in the rules)."""
    try:
        hash(value)
    except TypeError:
        return ("repr", repr(value))
    return (type(value).__name__, value)


def member_mask(attributes: list[Mapping[str, Any]], rules: Any) -> np.ndarray:
    """Membership of each user in one segment, by ``whatfix_data.segments.matches``.

    Evaluated once per distinct combination of the values the rules read (a few hundred for
    tens of thousands of users), so the cost is one dictionary lookup per user.
    """
    parsed = [segment_rules.parse_rule(r) for r in rules] if isinstance(rules, list) else None
    if parsed is None or any(rule is None for rule in parsed):
        return np.array([segment_rules.matches(a, rules) for a in attributes], dtype=bool)
    names = sorted({rule.attribute for rule in parsed})
    cache: dict[tuple, bool] = {}
    mask = np.zeros(len(attributes), dtype=bool)
    for position, attrs in enumerate(attributes):
        values = [segment_rules.lookup_attribute(attrs, name) for name in names]
        key = tuple(_value_key(v) for v in values)
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = segment_rules.matches(dict(zip(names, values, strict=True)),
                                                     rules)
        mask[position] = hit
    return mask


def _rule_attributes(rules: Any) -> frozenset[str] | None:
    """Case-folded attribute names a segment's rules read; None when a rule cannot be parsed
    (then every sent user is evaluated, which is always correct, only slower)."""
    if rules is None or (isinstance(rules, float) and np.isnan(rules)):
        return frozenset()
    if not isinstance(rules, list | tuple):
        return None
    names = set()
    for raw in rules:
        rule = segment_rules.parse_rule(raw)
        if rule is None:
            return None
        names.add(rule.attribute.casefold())
    return frozenset(names)


def segment_impact(
    actions: pd.DataFrame,
    current: Mapping[str, tuple[Any, Any, Mapping[str, Any]]],
    segments: pd.DataFrame | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-segment membership change caused by the rows to send, by local rule evaluation.

    Only sent users can move: a created user is evaluated after the sync, an updated one before
    and after, and only for segments whose rules read one of the attributes that change.
    """
    empty_moves = pd.DataFrame({"segment_id": pd.Series([], dtype="string"),
                                "user_id": pd.Series([], dtype="string"),
                                "change": pd.Series([], dtype=object)})
    if segments is None or segments.empty:
        return pd.DataFrame(columns=list(SEGMENT_CHANGE_COLUMNS)), empty_moves
    sending = actions[actions["action"] != UNCHANGED]
    ids = sending["user_id"].astype(str).tolist()
    after_attrs = [b["attributes"] for b in sending["body"]]
    created = (sending["action"] == CREATE).to_numpy()
    changed = [frozenset(name.casefold() for name in names)
               for names in sending["changed_attributes"]]
    parts = []
    for segment_id, rules in zip(segments["segment_id"], segments["rules"], strict=True):
        if segment_id is None or segment_id is pd.NA:
            continue
        reads = _rule_attributes(rules)
        picked = [i for i in range(len(ids))
                  if created[i] or reads is None or not reads.isdisjoint(changed[i])]
        if not picked:
            continue
        after = member_mask([after_attrs[i] for i in picked], rules)
        before = member_mask([current[ids[i]][2] if ids[i] in current else None
                              for i in picked], rules)
        before &= ~created[picked]  # a user that does not exist yet is in no segment
        moved = after != before
        if moved.any():
            picked_ids = np.array([ids[i] for i in picked], dtype=object)
            parts.append(pd.DataFrame({
                "segment_id": str(segment_id),
                "user_id": picked_ids[moved],
                "change": np.where(after[moved], JOINS, LEAVES).astype(object),
            }))
    if not parts:
        return _change_table(segments, empty_moves), empty_moves
    moves = pd.concat(parts, ignore_index=True).astype({"segment_id": "string",
                                                         "user_id": "string"})
    return _change_table(segments, moves), moves


def _change_table(segments: pd.DataFrame, moves: pd.DataFrame) -> pd.DataFrame:
    """Per segment: members now (the API's userCount), joining, leaving, members after."""
    base = segments[segments["segment_id"].notna()]
    ids = base["segment_id"].astype(str)
    joins = moves[moves["change"] == JOINS].groupby("segment_id").size()
    leaves = moves[moves["change"] == LEAVES].groupby("segment_id").size()
    joining = ids.map(joins).fillna(0).astype("int64").to_numpy()
    leaving = ids.map(leaves).fillna(0).astype("int64").to_numpy()
    now = pd.array(base["user_count"], dtype="Int64") if "user_count" in base else None
    table = pd.DataFrame({
        "segment_id": ids.to_numpy(),
        "name": base["name"].astype(str).to_numpy() if "name" in base else ids.to_numpy(),
        "members_now": now if now is not None else pd.array([pd.NA] * len(ids), dtype="Int64"),
        "joining": joining,
        "leaving": leaving,
    })
    table["members_after"] = (table["members_now"] + table["joining"] - table["leaving"])
    return table.astype({"members_after": "Int64"})
