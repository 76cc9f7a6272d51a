"""Generated content: nine types, three statuses, lifecycles, popularity, flow behaviour."""

from __future__ import annotations

import re

import numpy as np

from whatfix_data.simulator import catalog
from whatfix_data.simulator.config import PROFILE_EMPTY, PROFILE_PRIMARY, AccountProfile
from whatfix_data.simulator.tables import ContentTable

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
TASK_LIST_BY_NAME = {t[0]: t for t in catalog.TASK_LISTS}


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


def generate_content(profile: AccountProfile, rng: np.random.Generator, days: int) -> ContentTable:
    """The content items of an account, in listing order (none for the empty account)."""
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
            rows.append({"kind": kind, "name": name, "status": statuses[i], "share": shares[i]})
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
            days_ago = TASK_LIST_BY_NAME[row["name"]][3]
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
        task_lists=[i for i, _ in tasks],
        task_totals=[TASK_LIST_BY_NAME[r["name"]][1] for _, r in tasks],
        changed_flow=changed,
    )


def _target_url(host: str, row: dict) -> str:
    if row["kind"] in SELF_HELP_TYPES or row["kind"] in ("Popup", "Beacon", "Survey"):
        return f"{host}/*"
    return f"{host}/{_slug(row['name'])}/*"
