"""The outreach loop: tag the users of one task-list progress bucket with an attribute in Whatfix.

A PM picks a task list and a bucket (by default the users with exactly one task left) and names
an attribute (``nudge_onboarding=2026-12``); a Whatfix segment rule on that attribute then
targets exactly those users. The flow reuses User Sync end to end::

    selection = select_users(tasks, task_list_id, ONE_LEFT)        # who (analytics.tasks)
    tag = parse_attribute("nudge_onboarding=2026-12")              # which attribute
    current = user_sync.load_current(client)                       # end users + segments, fresh
    plan = build_plan(selection, tag, current)                     # user_sync.preview: the diff
    user_sync.apply_plan(plan, user_sync.end_user_writer(client), ...)   # bounded, resumable

Each selected user is one "row": updated (the attribute is set, every other attribute kept),
unchanged (already tagged: nothing sent, so a re-run sends nothing), invalid (not an end user in
Whatfix: tagging would create a user) or failed. The page (Task Lists) and the CLI
(``tag-users``) share this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from whatfix_data import segments as segment_rules
from whatfix_data.analytics import tasks as task_stats
from whatfix_data.errors import InvalidRequestError
from whatfix_data.user_sync import CurrentState, Plan
from whatfix_data.user_sync import build_plan as build_sync_plan
from whatfix_data.user_sync.validation import Validation
from whatfix_data.user_sync.values import type_column

ONE_LEFT = "one-left"
# Bucket slug (CLI and page) -> the analytics bucket it selects (None: exactly one task left).
BUCKETS: dict[str, str | None] = {
    ONE_LEFT: None,
    "not-started": task_stats.BUCKETS[0],
    "under-half": task_stats.BUCKETS[1],
    "half-or-more": task_stats.BUCKETS[2],
    "completed": task_stats.BUCKETS[3],
}
BUCKET_LABELS: dict[str, str] = {
    ONE_LEFT: "Exactly one task left",
    "not-started": f"Not started ({task_stats.BUCKETS[0]})",
    "under-half": f"Started, under half done ({task_stats.BUCKETS[1]})",
    "half-or-more": f"Half or more done ({task_stats.BUCKETS[2]})",
    "completed": f"Completed ({task_stats.BUCKETS[3]})",
}
RESERVED_NAMES = frozenset({"userid", "email", "name", "attributes", "createdat", "lastseenat"})
RULE_SEGMENT_ID = "(rule on the new attribute)"
MAX_ATTRIBUTE_NAME_CHARS = 100
MAX_VALUE_CHARS = 500
_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
NOT_AN_END_USER = (
    "Not an end user in Whatfix (the task-list report names a user the end-user list does not "
    "have): tagging would create a user, so it is skipped."
)
SELECTION_COLUMNS: tuple[str, ...] = (
    "user_id", "user_email", "task_list_id", "task_list_name", "completed_tasks", "total_tasks",
    "tasks_left", "progress_pct", "last_activity_at",
)


class OutreachError(InvalidRequestError):
    """An outreach request that cannot be run as given (bucket, task list or attribute)."""


@dataclass(frozen=True)
class Tag:
    """The attribute to set: its name and typed value (the User Sync typing rules)."""

    name: str
    value: Any

    @property
    def label(self) -> str:
        return f"{self.name} = {self.value!r}"


def parse_attribute(text: str) -> Tag:
    """``name=value`` as a Tag; OutreachError says what is wrong with it."""
    name, sep, raw = str(text).partition("=")
    name, raw = name.strip(), raw.strip()
    if not sep or not name or not raw:
        raise OutreachError(f"Give the attribute as name=value (e.g. nudge_onboarding=2026-12), "
                            f"not {str(text)[:60]!r}.")
    return make_tag(name, raw)


def make_tag(name: str, raw_value: str) -> Tag:
    """A Tag from a name and the value as typed (``2026-12`` stays text, ``true`` a boolean)."""
    name, raw_value = str(name).strip(), str(raw_value).strip()
    if not _NAME_PATTERN.fullmatch(name) or len(name) > MAX_ATTRIBUTE_NAME_CHARS:
        raise OutreachError(
            f"The attribute name {name[:60]!r} cannot be used: start with a letter or _, then "
            f"letters, digits, _ . or - (at most {MAX_ATTRIBUTE_NAME_CHARS} characters).")
    if name.casefold() in RESERVED_NAMES:
        raise OutreachError(f"{name!r} is an end-user field, not an attribute: choose another "
                            "name, e.g. nudge_onboarding.")
    if not raw_value or len(raw_value) > MAX_VALUE_CHARS:
        raise OutreachError(f"The attribute value must be 1 to {MAX_VALUE_CHARS} characters.")
    if any(ord(ch) < 32 for ch in raw_value):
        raise OutreachError("The attribute value holds control characters; type it again.")
    return Tag(name, type_column(pd.Series([raw_value], dtype=object)).iloc[0])


def check_bucket(bucket: str) -> str:
    if bucket not in BUCKETS:
        raise OutreachError(f"Unknown bucket {bucket!r}: choose one of {', '.join(BUCKETS)}.")
    return bucket


def select_users(tasks: pd.DataFrame | None, task_list_id: str, bucket: str = ONE_LEFT,
                 ) -> pd.DataFrame:
    """The users of one task list in one bucket (one row per user, SELECTION_COLUMNS), most
    recently active first. OutreachError for an unknown task list or bucket."""
    check_bucket(bucket)
    rows = task_stats.progress(tasks)
    known = rows["task_list_id"].dropna().astype(str)
    if str(task_list_id) not in set(known):
        listed = ", ".join(sorted(set(known))[:10]) or "none in this date range"
        raise OutreachError(f"No task list {str(task_list_id)[:60]!r} has activity in this date "
                            f"range; task lists: {listed}.")
    rows = rows[rows["task_list_id"].astype(str) == str(task_list_id)]
    wanted = BUCKETS[bucket]
    keep = task_stats.one_left(rows) if wanted is None else (rows["bucket"] == wanted).fillna(False)
    chosen = rows[keep.to_numpy(dtype=bool) & rows["user_id"].notna().to_numpy()]
    chosen = chosen.sort_values(["last_activity_at", "user_id"], ascending=[False, True],
                                na_position="last").drop_duplicates("user_id")
    return chosen[list(SELECTION_COLUMNS)].reset_index(drop=True)


def _validation(selection: pd.DataFrame, tag: Tag, end_users: pd.DataFrame) -> Validation:
    """The selection as User Sync's validated rows: row n is the n-th selected user."""
    ids = selection["user_id"].astype(str).tolist()
    rows = list(range(1, len(ids) + 1))
    existing = set(end_users["user_id"].dropna().astype(str)) if not end_users.empty else set()
    known = [uid in existing for uid in ids]
    records = pd.DataFrame({
        "row": pd.Series([r for r, k in zip(rows, known, strict=True) if k], dtype="int64"),
        "user_id": pd.Series([u for u, k in zip(ids, known, strict=True) if k], dtype=object),
    })
    records["email"] = pd.Series([None] * len(records), dtype=object)
    records["name"] = pd.Series([None] * len(records), dtype=object)
    records["attributes"] = pd.Series([{tag.name: tag.value} for _ in range(len(records))],
                                      dtype=object)
    invalid = pd.DataFrame({
        "row": pd.Series([r for r, k in zip(rows, known, strict=True) if not k], dtype="int64"),
        "user_id": pd.Series([u for u, k in zip(ids, known, strict=True) if not k], dtype=object),
    })
    invalid["message"] = NOT_AN_END_USER
    problems = invalid.assign(column="userId", problem=NOT_AN_END_USER)[
        ["row", "user_id", "column", "problem"]]
    return Validation(records=records, problems=problems, invalid=invalid, total_rows=len(ids))


def rule_segment(tag: Tag, end_users: pd.DataFrame) -> pd.DataFrame:
    """A one-row segments frame for the rule "``tag.name`` equals ``tag.value``" (not in
    Whatfix: the rule a PM would create), with its members now by local evaluation."""
    rules = [{"attribute": tag.name, "operator": "equals", "value": tag.value}]
    frame = pd.DataFrame({
        "segment_id": pd.array([RULE_SEGMENT_ID], dtype="string"),
        "name": pd.array([f"New rule {tag.label} (to create in Whatfix)"], dtype="string"),
        "description": pd.array([None], dtype="string"),
        "user_count": pd.array([0], dtype="Int64"),
        "rules": pd.Series([rules], dtype=object),
    })
    members = segment_rules.membership(end_users, frame)
    frame["user_count"] = pd.array([len(members)], dtype="Int64")
    return frame


def build_plan(selection: pd.DataFrame, tag: Tag, current: CurrentState) -> Plan:
    """The User Sync plan that sets ``tag`` on every selected end user (see the module doc).

    Its segment changes cover the account's segments and the rule on the tag itself
    (:func:`rule_segment`), so the preview says who a segment on it would target.
    """
    segments = pd.concat([current.segments, rule_segment(tag, current.end_users)],
                         ignore_index=True)
    return build_sync_plan(_validation(selection, tag, current.end_users), current.end_users,
                           segments)


def preview_sentence(plan: Plan, tag: Tag) -> str:
    """One line for the page and the CLI: how many users get the attribute, how many not."""
    counts = plan.summary()
    return (f"Set {tag.label} on {counts['update']:,} of {counts['total']:,} selected users; "
            f"{counts['unchanged']:,} already have it (nothing sent), {counts['invalid']:,} "
            "are not end users in Whatfix (skipped).")


def outcomes_with_users(outcomes: pd.DataFrame, selection: pd.DataFrame) -> pd.DataFrame:
    """The outcomes (row, userId, outcome, message) with the user's email and progress."""
    extra = selection[["user_id", "user_email", "completed_tasks", "total_tasks"]].astype(
        {"user_id": str}).rename(columns={"user_id": "userId"})
    return outcomes.merge(extra, on="userId", how="left")
