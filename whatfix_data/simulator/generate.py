"""Deterministic generation of one account's data: users, content and per-day, per-user activity.

Everything is drawn from one numpy Generator seeded by (seed, account kind, today), so a given
`--seed`, `--users` and `--today` always give the same data. Users are processed in chunks to bound
peak memory; activity is reduced at once to the compact arrays of `ActivityArrays`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from whatfix_data.simulator import catalog
from whatfix_data.simulator.config import PROFILE_EMPTY, PROFILE_PRIMARY, AccountProfile

HISTORY_DAYS = 730  # two years of history, ending `today` (inclusive)
USER_CHUNK = 12_500  # users generated per step: bounds the temporary arrays
INITIAL_COHORT_SHARE = 0.30  # users created in the first weeks (the rollout)
INITIAL_COHORT_DAYS = 45
CHURN_SHARE = 0.10
DORMANT_SHARE = 0.25
DORMANT_FACTOR = 0.08
WEEKDAY_FACTORS = (1.05, 1.0, 1.0, 0.97, 0.88, 0.22, 0.16)  # Monday .. Sunday
GROWTH_FLOOR = 0.55  # activity two years ago relative to today
EVENTS_PER_ACTIVE_DAY = 1.1  # extra content interactions (Poisson) on top of one
SECONDS_PER_DAY = 86_400
WORKDAY_START_S = 9 * 3600
WORKDAY_LENGTH_S = 9 * 3600
MORNING_START_S = 7 * 3600
MORNING_LENGTH_S = 2 * 3600

CONTENT_TYPES = ("Flow", "Tooltip", "SmartTip", "Beacon", "Popup", "Survey", "Article", "Video",
                 "TaskList")
SELF_HELP_TYPES = ("Article", "Video")
TYPE_PREFIX = {"Flow": "flw", "Tooltip": "tip", "SmartTip": "stp", "Beacon": "bcn",
               "Popup": "pop", "Survey": "srv", "Article": "art", "Video": "vid",
               "TaskList": "tsk"}
TYPE_NAMES = {"Flow": catalog.FLOW_NAMES, "Tooltip": catalog.TOOLTIP_NAMES,
              "SmartTip": catalog.SMART_TIP_NAMES, "Beacon": catalog.BEACON_NAMES,
              "Popup": catalog.POPUP_NAMES, "Survey": catalog.SURVEY_NAMES,
              "Article": catalog.ARTICLE_NAMES, "Video": catalog.VIDEO_NAMES,
              "TaskList": tuple(t[0] for t in catalog.TASK_LISTS)}
SECONDARY_TYPE_COUNTS = {"Flow": 24, "Tooltip": 14, "SmartTip": 9, "Beacon": 5, "Popup": 4,
                         "Survey": 3, "Article": 15, "Video": 6, "TaskList": 3}
# share of all random (non task-list) views that goes to each type
TYPE_VIEW_SHARE = {"Flow": 0.38, "Tooltip": 0.20, "SmartTip": 0.10, "Beacon": 0.04,
                   "Popup": 0.05, "Survey": 0.03, "Article": 0.13, "Video": 0.07, "TaskList": 0.0}
EXTRA_VIEW_RATE = {"Flow": 0.12, "Tooltip": 0.6, "SmartTip": 0.4, "Beacon": 0.1, "Popup": 0.05,
                   "Survey": 0.05, "Article": 0.3, "Video": 0.2, "TaskList": 0.0}
DRAFT_SHARE = 0.10
ARCHIVED_SHARE = 0.10
RARE_FLOWS = 4  # flows that are rarely completed (long, confusing ones)
CHANGED_FLOW_DAYS_AGO = 75  # the redesigned flow was modified this many days before today
CHANGED_FLOW_RATES = (0.34, 0.72)  # its completion probability before / after the change
ALL_TASKS_SHARE = 0.55  # share of task-list assignments that get completed entirely
TASK_GAPS = np.array([0, 1, 1, 2, 3])  # active days between two completed tasks
COUNT_MAX = np.iinfo(np.uint16).max  # per user and day counts are stored as uint16


@dataclass
class UserTable:
    """Generated end users, columnar; attributes are (categories, codes) per attribute."""

    count: int
    id_prefix: str
    domain: str
    first_idx: np.ndarray
    last_idx: np.ndarray
    created_day: np.ndarray
    created_sec: np.ndarray
    active_sec: np.ndarray
    last_active_day: np.ndarray  # -1 when the user was never active
    columns: dict[str, tuple[list, np.ndarray]] = field(default_factory=dict)


@dataclass
class ContentTable:
    """Generated content items, in listing order."""

    ids: list[str]
    names: list[str]
    types: list[str]
    statuses: list[str]
    urls: list[str]
    created_day: np.ndarray
    created_sec: np.ndarray
    modified_day: np.ndarray
    modified_sec: np.ndarray
    live_from: np.ndarray
    live_to: np.ndarray
    popularity: np.ndarray
    p_before: np.ndarray
    p_after: np.ndarray
    change_day: np.ndarray
    mean_time: np.ndarray
    task_lists: list[int]  # content index of each task list
    task_totals: list[int]
    changed_flow: int | None = None  # content index of the flow redesigned at its modifiedAt

    @property
    def count(self) -> int:
        """Number of content items."""
        return len(self.ids)


@dataclass
class ActivityArrays:
    """Activity reduced for range queries.

    Per content item: cumulative sums over days (column d+1 = total of days 0..d).
    Per user and day: arrays sorted by day (then user). Task events: sorted by day.
    """

    cum_views: np.ndarray
    cum_completions: np.ndarray
    cum_time: np.ndarray
    ud_day: np.ndarray
    ud_user: np.ndarray
    ud_views: np.ndarray
    ud_completions: np.ndarray
    te_day: np.ndarray
    te_key: np.ndarray  # user * number_of_task_lists + task list position
    te_done: np.ndarray


@dataclass
class GeneratedAccount:
    """All generated data of one account."""

    profile: AccountProfile
    start: date
    days: int
    users: UserTable
    content: ContentTable
    activity: ActivityArrays
    segments: list[dict]
    day_weights: np.ndarray


def _rng(profile: AccountProfile, today: date) -> np.random.Generator:
    kind_salt = {"primary": 1, "secondary": 2}.get(profile.kind, 3)
    return np.random.default_rng([profile.seed, kind_salt, today.toordinal()])


def _day_weights(start: date, days: int, rng: np.random.Generator) -> np.ndarray:
    """Relative activity per day: weekday rhythm, growth over two years, holiday dip, noise."""
    offsets = np.arange(days)
    weekday = (start.weekday() + offsets) % 7
    factors = np.asarray(WEEKDAY_FACTORS)[weekday]
    growth = GROWTH_FLOOR + (1 - GROWTH_FLOOR) * offsets / max(days - 1, 1)
    holiday = np.ones(days)
    for i in range(days):
        day = start + timedelta(days=i)
        if (day.month == 12 and day.day >= 24) or (day.month == 1 and day.day == 1):
            holiday[i] = 0.35
    noise = rng.lognormal(0.0, 0.08, days)
    return factors * growth * holiday * noise


def _choice_codes(rng: np.random.Generator, shares: list[float], size: int) -> np.ndarray:
    probs = np.asarray(shares, dtype=float)
    return rng.choice(len(probs), size=size, p=probs / probs.sum()).astype(np.uint8)


def _user_attributes(rng: np.random.Generator, n: int) -> dict[str, tuple[list, np.ndarray]]:
    """Attribute columns as (categories, codes); role depends on department, locale on region."""
    departments = list(catalog.DEPARTMENTS)
    dept = _choice_codes(rng, [catalog.DEPARTMENTS[d][0] for d in departments], n)
    roles = sorted({r for d in departments for r in catalog.DEPARTMENTS[d][1]})
    role = np.zeros(n, dtype=np.uint8)
    for code, name in enumerate(departments):
        members = np.flatnonzero(dept == code)
        options = [roles.index(r) for r in catalog.DEPARTMENTS[name][1]]
        role[members] = np.asarray(options)[rng.integers(0, len(options), members.size)]
    regions = list(catalog.REGIONS)
    region = _choice_codes(rng, [catalog.REGIONS[r][0] for r in regions], n)
    countries = sorted({c for r in regions for c, _, _ in catalog.REGIONS[r][1]})
    locales = sorted({loc for r in regions for _, loc, _ in catalog.REGIONS[r][1]})
    country = np.zeros(n, dtype=np.uint8)
    locale = np.zeros(n, dtype=np.uint8)
    for code, name in enumerate(regions):
        members = np.flatnonzero(region == code)
        options = catalog.REGIONS[name][1]
        pick = _choice_codes(rng, [o[2] for o in options], members.size)
        country[members] = np.asarray([countries.index(o[0]) for o in options])[pick]
        locale[members] = np.asarray([locales.index(o[1]) for o in options])[pick]
    plans = list(catalog.PLANS)
    return {
        "role": (roles, role),
        "department": (departments, dept),
        "region": (regions, region),
        "country": (countries, country),
        "locale": (locales, locale),
        "plan": (plans, _choice_codes(rng, list(catalog.PLANS.values()), n)),
        "seats": (list(catalog.SEAT_SIZES), _choice_codes(rng, list(catalog.SEAT_SHARES), n)),
        "beta": ([False, True], (rng.random(n) < catalog.BETA_SHARE).astype(np.uint8)),
    }


def _users(profile: AccountProfile, rng: np.random.Generator, weights: np.ndarray) -> UserTable:
    n, days = profile.users, weights.size
    initial = rng.random(n) < INITIAL_COHORT_SHARE
    later = rng.choice(days, size=n, p=weights / weights.sum())
    created = np.where(initial, rng.integers(0, INITIAL_COHORT_DAYS, n), later).astype(np.int16)
    primary = profile.kind == PROFILE_PRIMARY
    return UserTable(
        count=n,
        id_prefix="ac-" if primary else "gx-",
        domain="acme.example" if primary else "globex.example",
        first_idx=rng.integers(0, len(catalog.FIRST_NAMES), n).astype(np.uint8),
        last_idx=rng.integers(0, len(catalog.LAST_NAMES), n).astype(np.uint8),
        created_day=created,
        created_sec=(MORNING_START_S + rng.integers(0, MORNING_LENGTH_S, n)).astype(np.int32),
        active_sec=(WORKDAY_START_S + rng.integers(0, WORKDAY_LENGTH_S, n)).astype(np.int32),
        last_active_day=np.full(n, -1, dtype=np.int16),
        columns=_user_attributes(rng, n),
    )


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _type_counts(profile: AccountProfile) -> dict[str, int]:
    if profile.kind == PROFILE_EMPTY:
        return dict.fromkeys(CONTENT_TYPES, 0)
    if profile.kind == PROFILE_PRIMARY:
        return {t: len(TYPE_NAMES[t]) for t in CONTENT_TYPES}
    return dict(SECONDARY_TYPE_COUNTS)


def _statuses(rng: np.random.Generator, kind: str, count: int) -> list[str]:
    """Mostly Published; TaskLists are always Published (their progress must stay visible)."""
    if kind == "TaskList":
        return ["Published"] * count
    draw = rng.random(count)
    statuses = np.where(draw < DRAFT_SHARE, "Draft",
                        np.where(draw < DRAFT_SHARE + ARCHIVED_SHARE, "Archived", "Published"))
    if count >= 3:  # every type with enough items shows all three statuses
        for position, status in ((0, "Published"), (-1, "Draft"), (-2, "Archived")):
            if status not in statuses:
                statuses[position] = status
    return [str(s) for s in statuses]


def _zipf(rng: np.random.Generator, count: int) -> np.ndarray:
    weights = 1.0 / (np.arange(count) + 1.0)
    return rng.permutation(weights) if count else weights


def _content(profile: AccountProfile, rng: np.random.Generator, days: int) -> ContentTable:
    host = catalog.APP_HOSTS.get(profile.kind, "https://app.example")
    rows: list[dict] = []
    for kind, count in _type_counts(profile).items():
        names = list(TYPE_NAMES[kind])
        if profile.kind != PROFILE_PRIMARY:
            names = [names[i] for i in sorted(rng.permutation(len(names))[:count])]
        statuses = _statuses(rng, kind, count)
        shares = _zipf(rng, count)
        shares = shares / shares.sum() * TYPE_VIEW_SHARE[kind] if count else shares
        for i, name in enumerate(names[:count]):
            rows.append({"kind": kind, "name": name, "status": statuses[i], "share": shares[i],
                         "task": i if kind == "TaskList" else None})
    return _content_table(rows, rng, days, host)


def _content_days(rng: np.random.Generator, rows: list[dict], days: int) -> tuple[np.ndarray, ...]:
    """createdAt / modifiedAt days and the days each item can be viewed (live_from..live_to)."""
    n = len(rows)
    early = rng.random(n) < 0.6
    created = np.where(early, rng.integers(0, 90, n), rng.integers(90, max(days - 30, 91), n))
    modified = np.zeros(n, dtype=np.int64)
    live_from, live_to = created.copy(), np.full(n, days - 1)
    for i, row in enumerate(rows):
        if row["kind"] == "TaskList":
            days_ago = catalog.TASK_LISTS[catalog.TASK_LISTS.index(
                next(t for t in catalog.TASK_LISTS if t[0] == row["name"]))][3]
            created[i] = days - 1 - days_ago if days_ago else rng.integers(0, 30)
            live_from[i] = created[i]
        if row["status"] == "Draft":
            created[i] = rng.integers(days - 60, days)
            live_from[i], live_to[i] = days, -1
        elif row["status"] == "Archived":
            created[i] = min(created[i], days - 120)
            live_from[i] = created[i]
            live_to[i] = rng.integers(created[i] + 60, days - 1)
        modified[i] = live_to[i] if row["status"] == "Archived" else rng.integers(created[i], days)
    return created, modified, live_from, live_to


def _content_table(rows: list[dict], rng: np.random.Generator, days: int, host: str
                   ) -> ContentTable:
    n = len(rows)
    created, modified, live_from, live_to = _content_days(rng, rows, days)
    is_flow = np.array([r["kind"] == "Flow" for r in rows], dtype=bool)
    published = np.array([r["status"] == "Published" for r in rows], dtype=bool)
    popularity = np.array([r["share"] for r in rows], dtype=float)
    archived = np.array([r["status"] == "Archived" for r in rows], dtype=bool)
    popularity[~published & ~archived] = 0.0
    p_flow = rng.uniform(0.45, 0.88, n)
    flow_idx = np.flatnonzero(is_flow)
    if flow_idx.size > RARE_FLOWS + 2:
        rare = rng.choice(flow_idx, RARE_FLOWS, replace=False)
        p_flow[rare] = rng.uniform(0.06, 0.15, RARE_FLOWS)
    change_day = np.full(n, days, dtype=np.int64)
    p_after = p_flow.copy()
    changed = None
    live_flows = flow_idx[published[flow_idx]]
    if live_flows.size >= 2:
        changed = int(live_flows[np.argsort(-popularity[live_flows])[1]])  # second most popular
        created[changed] = min(created[changed], 40)
        live_from[changed] = created[changed]
        modified[changed] = change_day[changed] = days - 1 - CHANGED_FLOW_DAYS_AGO
        p_flow[changed], p_after[changed] = CHANGED_FLOW_RATES
    ids, seen = [], set()
    for row in rows:
        ident = f"{TYPE_PREFIX[row['kind']]}-{int(rng.integers(0, 16**8)):08x}"
        while ident in seen:
            ident += "a"
        seen.add(ident)
        ids.append(ident)
    tasks = [(i, r) for i, r in enumerate(rows) if r["kind"] == "TaskList"]
    totals = {t[0]: t[1] for t in catalog.TASK_LISTS}
    return ContentTable(
        ids=ids, names=[r["name"] for r in rows], types=[r["kind"] for r in rows],
        statuses=[r["status"] for r in rows],
        urls=[_target_url(host, r) for r in rows],
        created_day=created.astype(np.int64), created_sec=rng.integers(8 * 3600, 18 * 3600, n),
        modified_day=modified, modified_sec=rng.integers(8 * 3600, 18 * 3600, n),
        live_from=live_from.astype(np.int64), live_to=live_to.astype(np.int64),
        popularity=popularity, p_before=np.where(is_flow, p_flow, 0.0),
        p_after=np.where(is_flow, p_after, 0.0), change_day=change_day,
        mean_time=np.where(is_flow, rng.uniform(35, 420, n), 0.0),
        task_lists=[i for i, _ in tasks], task_totals=[totals[r["name"]] for _, r in tasks],
        changed_flow=changed,
    )


def _target_url(host: str, row: dict) -> str:
    if row["kind"] in SELF_HELP_TYPES or row["kind"] in ("Popup", "Beacon", "Survey"):
        return f"{host}/*"
    return f"{host}/{_slug(row['name'])}/*"


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
        name, total, share, _ = next(t for t in catalog.TASK_LISTS if t[0] == content.names[index])
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


def _segments(profile: AccountProfile) -> list[dict]:
    if profile.kind == PROFILE_EMPTY:
        return []
    prefix = "seg-ac" if profile.kind == PROFILE_PRIMARY else "seg-gx"
    return [
        {"segmentId": f"{prefix}-{i + 1:03d}", "name": name, "description": description,
         "rules": [{"attribute": a, "operator": o, "value": v} for a, o, v in rules]}
        for i, (name, description, rules) in enumerate(catalog.SEGMENTS)
    ]


def generate_account(profile: AccountProfile, today: date) -> GeneratedAccount:
    """Generate one account's data for the history ending `today`."""
    rng = _rng(profile, today)
    days = HISTORY_DAYS
    start = today - timedelta(days=days - 1)
    weights = _day_weights(start, days, rng)
    cum_weights = np.concatenate([[0.0], np.cumsum(weights)])
    users = _users(profile, rng, weights)
    content = _content(profile, rng, days)
    totals = [np.zeros(content.count * days) for _ in range(3)]
    chunks = []
    if content.count:
        for lo in range(0, users.count, USER_CHUNK):
            hi = min(lo + USER_CHUNK, users.count)
            chunks.append(_chunk(rng, users, content, lo, hi, cum_weights, totals))
    activity = _reduce(chunks, totals, content, days, len(content.task_lists))
    return GeneratedAccount(profile, start, days, users, content, activity, _segments(profile),
                            weights)
