"""Generated activity: active days per user, task-list progress, content views and completions.

Users are processed in chunks (bounded temporary arrays); every chunk is reduced at once to
compact per-(user, day) records, and all chunks to the day-sorted `ActivityArrays`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from whatfix_data.simulator.content import EXTRA_VIEW_RATE, TASK_LIST_BY_NAME
from whatfix_data.simulator.tables import ActivityArrays, ContentTable, UserTable

USER_CHUNK = 12_500  # users generated per step: bounds the temporary arrays
CHURN_SHARE = 0.10
DORMANT_SHARE = 0.25
DORMANT_FACTOR = 0.08
EVENTS_PER_ACTIVE_DAY = 1.1  # extra content interactions (Poisson) on top of one
ALL_TASKS_SHARE = 0.55  # share of task-list assignments that get completed entirely
TASK_GAPS = np.array([0, 1, 1, 2, 3])  # active days between two completed tasks
COUNT_MAX = np.iinfo(np.uint16).max  # per user and day counts are stored as uint16


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort-based: faster than np.unique's hashing for big int arrays)."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if ordered.size else ordered


@dataclass
class _Chunk:
    """Activity of one chunk of users before reduction."""

    ud_user: np.ndarray
    ud_day: np.ndarray
    ud_views: np.ndarray
    ud_completions: np.ndarray
    te_user: np.ndarray
    te_list: np.ndarray
    te_day: np.ndarray
    te_done: np.ndarray


def _active_days(rng: np.random.Generator, users: UserTable, lo: int, hi: int,
                 cum_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate active days of users lo..hi-1, sorted by (user, day), drawn by inverse CDF."""
    days = cum_weights.size - 1
    n = hi - lo
    created = users.created_day[lo:hi].astype(np.int64)
    department = users.columns["department"][1][lo:hi]
    busy = np.isin(department, [0, 1])  # Sales and Support live in the product
    propensity = rng.beta(1.5, 7.0, n) * np.where(busy, 1.3, 0.85)
    dormant = rng.random(n) < DORMANT_SHARE  # licensed but hardly use the application
    propensity[dormant] *= DORMANT_FACTOR
    churned = rng.random(n) < CHURN_SHARE
    end = np.where(churned, np.minimum(created + rng.integers(30, days, n), days - 1), days - 1)
    span = cum_weights[end + 1] - cum_weights[created]
    count = np.minimum(rng.poisson(propensity * span), end - created + 1)
    user = np.repeat(np.arange(lo, hi), count)
    draw = cum_weights[np.repeat(created, count)] + rng.random(user.size) * np.repeat(span, count)
    day = np.clip(np.searchsorted(cum_weights, draw, side="right") - 1,
                  np.repeat(created, count), np.repeat(end, count))
    keys = _sorted_unique(user * days + day)
    return keys // days, keys % days


def _task_events(rng: np.random.Generator, users: UserTable, content: ContentTable,
                 active: tuple[np.ndarray, np.ndarray], days: int) -> tuple[np.ndarray, ...]:
    """Task-list progress: starts and task completions, placed on the user's own active days."""
    au, ad = active
    akey = au * days + ad
    out: list[tuple[np.ndarray, ...]] = []
    if au.size == 0:
        return tuple(np.zeros(0, dtype=np.int64) for _ in range(4))
    members = _sorted_unique(au)
    end = np.searchsorted(akey, (members + 1) * days)
    roles = users.columns["role"]
    manager = np.array(["Manager" in r for r in roles[0]])[roles[1][members]]
    sales = users.columns["department"][1][members] == 0
    for position, index in enumerate(content.task_lists):
        name, total, share, _ = TASK_LIST_BY_NAME[content.names[index]]
        eligible = {"Sales onboarding": sales, "Manager essentials": manager}.get(
            name, np.ones(members.size, dtype=bool))
        chosen = eligible & (rng.random(members.size) < share)
        first = np.maximum(users.created_day[members], content.live_from[index])
        start = np.searchsorted(akey, members * days + first)
        start = start + np.where(position == 0, 0, rng.integers(0, 4, members.size))
        chosen &= start < end
        out.append(_task_rows(rng, members[chosen], start[chosen], end[chosen], total, position,
                              ad))
    return tuple(np.concatenate([o[i] for o in out]) for i in range(4))


def _task_rows(rng: np.random.Generator, user: np.ndarray, start: np.ndarray, end: np.ndarray,
               total: int, position: int, ad: np.ndarray) -> tuple[np.ndarray, ...]:
    """One start event per assignment plus one event per completed task (dropped past the end)."""
    n = user.size
    done = np.where(rng.random(n) < ALL_TASKS_SHARE, total, rng.integers(0, total, n))
    gap = TASK_GAPS[rng.integers(0, TASK_GAPS.size, n)]
    rep = np.repeat(np.arange(n), done)
    step = np.arange(rep.size) - np.repeat(np.cumsum(done) - done, done)
    index = start[rep] + step * gap[rep]
    keep = index < end[rep]
    t_user = np.concatenate([user, user[rep][keep]])
    t_day = np.concatenate([ad[start], ad[index[keep]]])
    t_done = np.concatenate([np.zeros(n, dtype=np.int64), np.ones(int(keep.sum()), dtype=np.int64)])
    return t_user, np.full(t_user.size, position), t_day, t_done


def _content_events(rng: np.random.Generator, content: ContentTable, active: tuple, tasks: tuple
                    ) -> tuple[np.ndarray, ...]:
    """Content interactions (user, day, item, views, completions, seconds) of the active days."""
    au, ad = active
    per_day = 1 + rng.poisson(EVENTS_PER_ACTIVE_DAY, au.size)
    user = np.repeat(au.astype(np.int32), per_day)
    day = np.repeat(ad.astype(np.int32), per_day)
    # inverse CDF of popularity (what rng.choice(p=...) does, without its checks and copies)
    cdf = np.cumsum(content.popularity / content.popularity.sum())
    item = np.searchsorted(cdf, rng.random(user.size), side="right").astype(np.int32)
    item = np.minimum(item, content.count - 1, out=item)
    live = (day >= content.live_from[item]) & (day <= content.live_to[item])
    user, day, item = user[live], day[live], item[live]
    rate = np.asarray([EXTRA_VIEW_RATE[t] for t in content.types])
    views = 1 + rng.poisson(rate[item])
    completions = np.zeros(item.size, dtype=np.int64)
    seconds = np.zeros(item.size)
    flows = np.flatnonzero(content.p_before[item] > 0)  # only flows can be completed
    f_item, f_day = item[flows], day[flows]
    p_done = np.where(f_day >= content.change_day[f_item], content.p_after[f_item],
                      content.p_before[f_item])
    completions[flows] = rng.binomial(views[flows], p_done)
    done = flows[completions[flows] > 0]
    seconds[done] = (completions[done] * content.mean_time[item[done]]
                     * rng.lognormal(0.0, 0.3, done.size))
    t_user, t_list, t_day, _ = tasks
    t_item = np.asarray(content.task_lists, dtype=np.int32)[t_list] if t_list.size else t_list
    return (np.concatenate([user, t_user]), np.concatenate([day, t_day]),
            np.concatenate([item, t_item]), np.concatenate([views, np.ones(t_user.size, int)]),
            np.concatenate([completions, np.zeros(t_user.size, int)]),
            np.concatenate([seconds, np.zeros(t_user.size)]))


def _chunk(rng: np.random.Generator, users: UserTable, content: ContentTable, lo: int, hi: int,
           cum_weights: np.ndarray, totals: list[np.ndarray]) -> _Chunk:
    days = cum_weights.size - 1
    active = _active_days(rng, users, lo, hi, cum_weights)
    tasks = _task_events(rng, users, content, active, days)
    user, day, item, views, completions, seconds = _content_events(rng, content, active, tasks)
    cells = content.count * days
    flat = item * days + day
    totals[0] += np.bincount(flat, weights=views, minlength=cells)
    totals[1] += np.bincount(flat, weights=completions, minlength=cells)
    totals[2] += np.bincount(flat, weights=seconds, minlength=cells)
    key = user * days + day
    order = np.argsort(key, kind="stable")  # mostly sorted already: only task events move
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else key
    keys = key[starts]
    ud_user, ud_day = keys // days, keys % days
    np.maximum.at(users.last_active_day, ud_user, ud_day.astype(np.int16))
    ud_views = np.add.reduceat(views[order], starts) if key.size else views
    ud_completions = np.add.reduceat(completions[order], starts) if key.size else completions
    t_user, t_list, t_day, t_done = tasks
    # compact dtypes right away: the chunks wait in memory until all users are generated
    return _Chunk(ud_user.astype(np.int32), ud_day.astype(np.int16),
                  np.minimum(ud_views, COUNT_MAX).astype(np.uint16),
                  np.minimum(ud_completions, COUNT_MAX).astype(np.uint16),
                  t_user.astype(np.int32), t_list.astype(np.int8), t_day.astype(np.int16),
                  t_done.astype(np.uint8))


def _reduce(chunks: list[_Chunk], totals: list[np.ndarray], content: ContentTable, days: int,
            lists: int) -> ActivityArrays:
    """Concatenate the chunks, sort by day, build per-item cumulative sums."""
    def cat(name: str) -> np.ndarray:
        arrays = [getattr(c, name) for c in chunks]
        return np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)

    ud_day = cat("ud_day")
    order = np.argsort(ud_day, kind="stable")
    te_day = cat("te_day")
    t_order = np.argsort(te_day, kind="stable")
    te_key = cat("te_user") * max(lists, 1) + cat("te_list")

    def cumulative(flat: np.ndarray, dtype: type) -> np.ndarray:
        grid = flat.reshape(content.count, days)
        out = np.zeros((content.count, days + 1), dtype=dtype)
        np.cumsum(grid, axis=1, out=out[:, 1:])
        return out

    return ActivityArrays(
        cum_views=cumulative(np.rint(totals[0]).astype(np.int64), np.int64),
        cum_completions=cumulative(np.rint(totals[1]).astype(np.int64), np.int64),
        cum_time=cumulative(totals[2], np.float64),
        ud_day=ud_day[order].astype(np.int16), ud_user=cat("ud_user")[order].astype(np.int32),
        ud_views=cat("ud_views")[order].astype(np.uint16),
        ud_completions=cat("ud_completions")[order].astype(np.uint16),
        te_day=te_day[t_order].astype(np.int16), te_key=te_key[t_order].astype(np.int32),
        te_done=cat("te_done")[t_order].astype(np.uint8),
    )


def generate_activity(rng: np.random.Generator, users: UserTable, content: ContentTable,
                      cum_weights: np.ndarray) -> ActivityArrays:
    """All activity of an account; also fills `users.last_active_day`."""
    days = cum_weights.size - 1
    totals = [np.zeros(content.count * days) for _ in range(3)]
    chunks = []
    if content.count:
        for lo in range(0, users.count, USER_CHUNK):
            hi = min(lo + USER_CHUNK, users.count)
            chunks.append(_chunk(rng, users, content, lo, hi, cum_weights, totals))
    return _reduce(chunks, totals, content, days, len(content.task_lists))
