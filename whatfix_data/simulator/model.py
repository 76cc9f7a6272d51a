"""One account's queryable state: generated data, range queries and end-user upserts.

Range answers come from the compact arrays of `generate.ActivityArrays`: per-item cumulative sums
(one subtraction per item) and day-sorted per-user arrays (`searchsorted` + `np.bincount`).
Upserted users are kept beside the generated columns (overrides and new users), under a lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from whatfix_data import segments as segment_logic
from whatfix_data.simulator import catalog
from whatfix_data.simulator.config import AccountProfile
from whatfix_data.simulator.generate import SELF_HELP_TYPES, GeneratedAccount, generate_account

RANGE_CACHE_SIZE = 16  # per-range results kept, so paging through a range is cheap
RATE_DECIMALS = 2
TIME_DECIMALS = 1


def _stamp(day: date, seconds: int) -> str:
    """ISO 8601 UTC timestamp of a day plus seconds into it."""
    hours, rest = divmod(int(seconds), 3600)
    return f"{day.isoformat()}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


def completion_rate(completions: float, views: float) -> float:
    """completions / views x 100, 0 without views, rounded to RATE_DECIMALS."""
    return round(completions / views * 100.0, RATE_DECIMALS) if views else 0.0


@dataclass(frozen=True)
class DayRange:
    """An inclusive range of history day indexes, already clipped; empty when lo > hi."""

    lo: int
    hi: int

    @property
    def empty(self) -> bool:
        """True when the range does not overlap the history."""
        return self.lo > self.hi


@dataclass
class EngagementRows:
    """Users active in a range with their totals (sorted by user index)."""

    users: np.ndarray
    views: np.ndarray
    completions: np.ndarray
    last_day: np.ndarray


@dataclass
class TaskRows:
    """(user, task list) pairs with activity in a range, and their progress as of its end."""

    keys: np.ndarray
    completed: np.ndarray
    last_day: np.ndarray


class MissingEmailError(ValueError):
    """Creating a user needs an email."""


class AccountData:
    """Queries over one account; thread-safe (reads are lock-free on immutable arrays)."""

    def __init__(self, profile: AccountProfile, today: date) -> None:
        self.profile = profile
        self.today = today
        self.data: GeneratedAccount = generate_account(profile, today)
        self._lock = threading.RLock()
        self._overrides: dict[int, dict[str, Any]] = {}  # generated user index -> record
        self._new_users: dict[str, dict[str, Any]] = {}  # userId -> record (insertion order)
        self._version = 0
        self._segment_cache: tuple[int, list[int]] | None = None
        self._range_cache: OrderedDict[tuple, Any] = OrderedDict()
        self._dates = [self.data.start + timedelta(days=i) for i in range(self.data.days)]
        act, every_day = self.data.activity, np.arange(self.data.days + 1)
        # index of the first record of each day in the day-sorted arrays (and the end)
        self._ud_bounds = np.searchsorted(act.ud_day, every_day, side="left")
        self._te_bounds = np.searchsorted(act.te_day, every_day, side="left")

    # ----- dates -------------------------------------------------------------------------------
    def day_range(self, start: date, end: date) -> DayRange:
        """Day indexes of an inclusive date range, clipped to the history."""
        lo = max((start - self.data.start).days, 0)
        hi = min((end - self.data.start).days, self.data.days - 1)
        return DayRange(lo, hi)

    def day(self, index: int) -> date:
        """The date of a history day index."""
        return self._dates[int(index)]

    # ----- end users ---------------------------------------------------------------------------
    @property
    def user_count(self) -> int:
        """Generated plus created users."""
        return self.data.users.count + len(self._new_users)

    def _generated_user(self, index: int) -> dict[str, Any]:
        users = self.data.users
        first = catalog.FIRST_NAMES[users.first_idx[index]]
        last = catalog.LAST_NAMES[users.last_idx[index]]
        created = _stamp(self.day(users.created_day[index]), users.created_sec[index])
        last_day = int(users.last_active_day[index])
        seen = _stamp(self.day(last_day), users.active_sec[index]) if last_day >= 0 else created
        attributes = {name: _plain(categories[codes[index]])
                      for name, (categories, codes) in users.columns.items()}
        return {"userId": self.user_id(index), "email": self._generated_email(index),
                "name": f"{first} {last}", "attributes": attributes, "createdAt": created,
                "lastSeenAt": seen}

    def _generated_email(self, index: int) -> str:
        users = self.data.users
        first = catalog.FIRST_NAMES[users.first_idx[index]]
        last = catalog.LAST_NAMES[users.last_idx[index]]
        return f"{first}.{last}".lower().replace("'", "") + f"{index + 1}@{users.domain}"

    def user_id(self, index: int) -> str:
        """userId of a generated user."""
        return f"{self.data.users.id_prefix}{index + 1:06d}"

    def _user_index(self, user_id: str) -> int | None:
        prefix = self.data.users.id_prefix
        digits = user_id[len(prefix):]
        if user_id.startswith(prefix) and len(digits) == 6 and digits.isdigit():
            index = int(digits) - 1
            if 0 <= index < self.data.users.count:
                return index
        return None

    def user_record(self, index: int) -> dict[str, Any]:
        """Current record of a generated user (upserts applied)."""
        override = self._overrides.get(index)
        return dict(override) if override else self._generated_user(index)

    def user_email(self, index: int) -> str:
        """Current email of a generated user (without building its whole record: every
        task-completion row names its user's email, a quarter of the server's time)."""
        override = self._overrides.get(index)
        return str(override["email"]) if override else self._generated_email(index)

    def list_users(self, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        """One page of end users (generated first, then created ones) and the total count."""
        with self._lock:
            total = self.user_count
            generated = self.data.users.count
            stop = min(offset + limit, total)
            first = min(offset, generated)
            rows = [self.user_record(i) for i in range(first, min(stop, generated))]
            new = list(self._new_users.values())
            rows += [dict(r) for r in new[max(offset - generated, 0):max(stop - generated, 0)]]
            return rows, total

    def upsert_user(self, user_id: str, fields: dict[str, Any], now: datetime) -> tuple[bool, dict]:
        """Create or update a user; returns (created, record). Fields are already validated."""
        with self._lock:
            index = self._user_index(user_id)
            if index is not None:
                record, created = self.user_record(index), False
            elif user_id in self._new_users:
                record, created = dict(self._new_users[user_id]), False
            else:
                if "email" not in fields:
                    raise MissingEmailError("email is required when creating an end user")
                stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                record = {"userId": user_id, "email": "", "name": "", "attributes": {},
                          "createdAt": stamp, "lastSeenAt": stamp}
                created = True
            record.update({k: v for k, v in fields.items() if k in ("email", "name")})
            if "attributes" in fields:
                record["attributes"] = dict(fields["attributes"])
            if index is not None:
                self._overrides[index] = record
            else:
                self._new_users[user_id] = record
            self._version += 1
            return created, dict(record)

    # ----- content -----------------------------------------------------------------------------
    def content_records(self, kind: str | None, status: str | None) -> list[dict[str, Any]]:
        """Content items (optionally filtered) with all-time viewCount."""
        content = self.data.content
        totals = self.data.activity.cum_views[:, -1]
        rows = []
        for i in range(content.count):
            if (kind and content.types[i] != kind) or (status and content.statuses[i] != status):
                continue
            rows.append({
                "contentId": content.ids[i], "name": content.names[i], "type": content.types[i],
                "status": content.statuses[i], "targetUrl": content.urls[i],
                "createdAt": _stamp(self.day(content.created_day[i]), content.created_sec[i]),
                "modifiedAt": self._modified_at(i),
                "viewCount": int(totals[i]),
            })
        return rows

    def _modified_at(self, index: int) -> str:
        """modifiedAt of an item: never before its createdAt, even on the same day."""
        content = self.data.content
        seconds = content.modified_sec[index]
        if content.modified_day[index] == content.created_day[index]:
            seconds = max(seconds, content.created_sec[index])
        return _stamp(self.day(content.modified_day[index]), seconds)

    def _item_sums(self, span: DayRange) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        act = self.data.activity
        if span.empty:
            zeros = np.zeros(self.data.content.count)
            return zeros.astype(np.int64), zeros.astype(np.int64), zeros
        lo, hi = span.lo, span.hi + 1
        return (act.cum_views[:, hi] - act.cum_views[:, lo],
                act.cum_completions[:, hi] - act.cum_completions[:, lo],
                act.cum_time[:, hi] - act.cum_time[:, lo])

    def _reported(self, kinds: tuple[str, ...], start: date, end: date) -> list[int]:
        """Items of these types live at some point of the range (not Draft, created by its end,
        not archived before its start)."""
        content = self.data.content
        first, last = (start - self.data.start).days, (end - self.data.start).days
        return [i for i in range(content.count) if content.types[i] in kinds
                and content.statuses[i] != "Draft" and content.created_day[i] <= last
                and content.live_to[i] >= first]

    def flow_rows(self, start: date, end: date) -> list[dict[str, Any]]:
        """Flow analytics of a range, in listing order."""
        views, completions, seconds = self._item_sums(self.day_range(start, end))
        content = self.data.content
        rows = []
        for i in self._reported(("Flow",), start, end):
            v, c = int(views[i]), int(completions[i])
            average = round(float(seconds[i]) / c, TIME_DECIMALS) if c else 0.0
            rows.append({"flowId": content.ids[i], "flowName": content.names[i], "views": v,
                         "completions": c, "completionRate": completion_rate(c, v),
                         "avgTimeToComplete": average})
        return rows

    def popular_flow_rows(self, start: date, end: date) -> list[dict[str, Any]]:
        """Flow analytics of a range ranked by views (then completions, then flowId)."""
        rows = self.flow_rows(start, end)
        return sorted(rows, key=lambda r: (-r["views"], -r["completions"], r["flowId"]))

    def self_help_rows(self, start: date, end: date) -> list[dict[str, Any]]:
        """Self-help (Article, Video) views of a range, most viewed first."""
        views, _, _ = self._item_sums(self.day_range(start, end))
        content = self.data.content
        rows = [{"contentId": content.ids[i], "contentName": content.names[i],
                 "contentType": content.types[i], "views": int(views[i])}
                for i in self._reported(SELF_HELP_TYPES, start, end)]
        return sorted(rows, key=lambda r: (-r["views"], r["contentId"]))

    # ----- per-user ranges ---------------------------------------------------------------------
    def _cached(self, key: tuple, compute: Any) -> Any:
        with self._lock:
            if key in self._range_cache:
                self._range_cache.move_to_end(key)
                return self._range_cache[key]
        value = compute()
        with self._lock:
            self._range_cache[key] = value
            while len(self._range_cache) > RANGE_CACHE_SIZE:
                self._range_cache.popitem(last=False)
        return value

    def engagement(self, start: date, end: date) -> EngagementRows:
        """Users with at least one content view in the range, with views, completions, last day."""
        span = self.day_range(start, end)
        return self._cached(("engagement", span), lambda: self._engagement(span))

    def _engagement(self, span: DayRange) -> EngagementRows:
        act, n = self.data.activity, self.data.users.count
        if span.empty or act.ud_day.size == 0:
            empty = np.zeros(0, dtype=np.int64)
            return EngagementRows(empty, empty, empty, empty)
        lo, hi = self._ud_bounds[span.lo], self._ud_bounds[span.hi + 1]
        users = act.ud_user[lo:hi]
        views = np.bincount(users, weights=act.ud_views[lo:hi], minlength=n)
        completions = np.bincount(users, weights=act.ud_completions[lo:hi], minlength=n)
        last = _last_day(act.ud_user, self._ud_bounds, span, n)
        active = np.flatnonzero(views > 0)
        return EngagementRows(active, views[active].astype(np.int64),
                              completions[active].astype(np.int64), last[active])

    def engagement_record(self, rows: EngagementRows, position: int) -> dict[str, Any]:
        """One engagement row as the API returns it."""
        index = int(rows.users[position])
        return {"userId": self.user_id(index), "email": self.user_email(index),
                "contentViewed": int(rows.views[position]),
                "flowsCompleted": int(rows.completions[position]),
                "lastActive": _stamp(self.day(rows.last_day[position]),
                                     self.data.users.active_sec[index])}

    def task_rows(self, start: date, end: date) -> TaskRows:
        """Task-list assignments with activity in the range; progress counted up to its end."""
        span = self.day_range(start, end)
        return self._cached(("tasks", span), lambda: self._task_rows(span))

    def _task_rows(self, span: DayRange) -> TaskRows:
        act = self.data.activity
        if span.empty or act.te_day.size == 0:
            empty = np.zeros(0, dtype=np.int64)
            return TaskRows(empty, empty, empty)
        hi = self._te_bounds[span.hi + 1]
        size = self.data.users.count * max(len(self.data.content.task_lists), 1)
        last = _last_day(act.te_key, self._te_bounds, span, size)
        keys = np.flatnonzero(last >= 0)  # pairs with activity in the range, in key order
        done = np.bincount(act.te_key[:hi], weights=act.te_done[:hi], minlength=size)
        return TaskRows(keys, done[keys].astype(np.int64), last[keys])

    def task_record(self, rows: TaskRows, position: int) -> dict[str, Any]:
        """One task-completion row as the API returns it."""
        content = self.data.content
        lists = max(len(content.task_lists), 1)
        user, slot = divmod(int(rows.keys[position]), lists)
        total = content.task_totals[slot]
        completed = int(rows.completed[position])
        return {"userId": self.user_id(user), "userEmail": self.user_email(user),
                "taskListId": content.ids[content.task_lists[slot]],
                "taskListName": content.names[content.task_lists[slot]],
                "completedTasks": completed, "totalTasks": total,
                "completionRate": completion_rate(completed, total),
                "lastActivityAt": _stamp(self.day(rows.last_day[position]),
                                         self.data.users.active_sec[user])}

    # ----- segments ----------------------------------------------------------------------------
    def segments(self) -> list[dict[str, Any]]:
        """Segments with userCount = users matching all rules right now."""
        with self._lock:
            version = self._version
            cached = self._segment_cache
        if cached is None or cached[0] != version:
            counts = [self._segment_count(s["rules"]) for s in self.data.segments]
            with self._lock:
                self._segment_cache = (version, counts)
        else:
            counts = cached[1]
        return [{**s, "rules": [dict(r) for r in s["rules"]], "userCount": c}
                for s, c in zip(self.data.segments, counts, strict=True)]

    def _segment_count(self, segment_rules: list[dict[str, Any]]) -> int:
        """Users matching every rule, by the semantics of `whatfix_data.segments`.

        Generated users share one attribute layout, so each rule is evaluated once per distinct
        value of its column (categories), then spread over the users by their codes.
        """
        users = self.data.users
        mask = np.ones(users.count, dtype=bool)
        for raw in segment_rules:
            rule = segment_logic.parse_rule(raw)
            if rule is None:
                mask[:] = False
                break
            column = self._column(rule.attribute)
            if column is None:  # nobody has the attribute: the missing-value result for all
                mask &= segment_logic.value_matches(rule.operator, None, rule.value)
                continue
            categories, codes = column
            table = np.asarray([segment_logic.value_matches(rule.operator, _plain(c), rule.value)
                                for c in categories], dtype=bool)
            mask &= table[codes]
        with self._lock:
            overrides = list(self._overrides.items())
            new = list(self._new_users.values())
        for index, record in overrides:
            mask[index] = segment_logic.matches(record.get("attributes") or {}, segment_rules)
        extra = sum(segment_logic.matches(r.get("attributes") or {}, segment_rules) for r in new)
        return int(mask.sum()) + int(extra)

    def _column(self, name: str) -> tuple[list, np.ndarray] | None:
        """An attribute column, found like `segments.lookup_attribute` does (exact, then case)."""
        columns = self.data.users.columns
        if name in columns:
            return columns[name]
        folded = name.casefold()
        return next((c for key, c in columns.items() if key.casefold() == folded), None)


def _last_day(ids: np.ndarray, bounds: np.ndarray, span: DayRange, size: int) -> np.ndarray:
    """Per id, the last day of the span on which it has a record (-1 if none).

    Day by day in increasing order, so later days overwrite earlier ones; within one day every
    write carries the same value, so repeated ids are harmless.
    """
    last = np.full(size, -1, dtype=np.int64)
    for day in range(span.lo, span.hi + 1):
        last[ids[bounds[day]:bounds[day + 1]]] = day
    return last


def _plain(value: Any) -> Any:
    """numpy scalars to plain Python values for JSON."""
    return value.item() if isinstance(value, np.generic) else value
