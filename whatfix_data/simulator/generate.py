"""Deterministic generation of one account's data: users, content and per-day, per-user activity.

Everything is drawn from one numpy Generator seeded by (seed, account kind, today), so a given
`--seed`, `--users` and `--today` always give the same data. Content lives in `content.py`,
activity in `activity.py`; this module makes the users and puts the account together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from whatfix_data.simulator import catalog
from whatfix_data.simulator.activity import generate_activity
from whatfix_data.simulator.config import PROFILE_EMPTY, PROFILE_PRIMARY, AccountProfile
from whatfix_data.simulator.content import CONTENT_TYPES, SELF_HELP_TYPES, generate_content
from whatfix_data.simulator.tables import ActivityArrays, ContentTable, UserTable

__all__ = ["CONTENT_TYPES", "HISTORY_DAYS", "SELF_HELP_TYPES", "GeneratedAccount",
           "generate_account"]

HISTORY_DAYS = 730  # two years of history, ending `today` (inclusive)
INITIAL_COHORT_SHARE = 0.30  # users created in the first weeks (the rollout)
INITIAL_COHORT_DAYS = 45
WEEKDAY_FACTORS = (1.05, 1.0, 1.0, 0.97, 0.88, 0.22, 0.16)  # Monday .. Sunday
GROWTH_FLOOR = 0.55  # activity two years ago relative to today
WORKDAY_START_S = 9 * 3600
WORKDAY_LENGTH_S = 9 * 3600
MORNING_START_S = 7 * 3600
MORNING_LENGTH_S = 2 * 3600


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
    content = generate_content(profile, rng, days)
    activity = generate_activity(rng, users, content, cum_weights)
    return GeneratedAccount(profile, start, days, users, content, activity, _segments(profile),
                            weights)
