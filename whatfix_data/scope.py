"""Which numbers a segment can limit: per-user and account-wide datasets, in words.

The Whatfix API reports some datasets per user (engagement, task completion, the end-user list)
and others only per flow, item or period (flows, self help, content, the popular-flows report).
A segment is a set of users, so it can limit the first kind only. Which kind a dataset is, and
why an account-wide one stays so, is its `whatfix_data.registry` spec (``per_user``,
``scope_reason``). Pages, KPI cards and the review pack read :func:`is_per_user` and
:func:`scope_label` from here, so they all say the same.
"""

from __future__ import annotations

from whatfix_data import registry

ALL_USERS = "All users"
GENERIC_REASON = "the API has no per-user data for it"


def is_per_user(dataset: str) -> bool:
    """True when a segment can limit the dataset's rows (they are per user)."""
    spec = registry.find(dataset)
    return spec is not None and spec.per_user


def reason(dataset: str) -> str:
    """Why a dataset stays account-wide ("the API reports flow views per flow, not per user")."""
    spec = registry.find(dataset)
    return (spec.scope_reason if spec is not None else "") or GENERIC_REASON


def scope_label(dataset: str, segment_name: str | None) -> str:
    """Whom a number from ``dataset`` covers, in words.

    ``"Segment: EMEA Sales"`` for a per-user dataset with a segment; ``"All users"`` without a
    segment; ``"All users (segment not applied: the API reports ...)"`` for an account-wide
    dataset while a segment is picked.
    """
    if segment_name is None:
        return ALL_USERS
    if is_per_user(dataset):
        return f"Segment: {segment_name}"
    return f"{ALL_USERS} (segment not applied: {reason(dataset)})"


def short_label(dataset: str, segment_name: str | None) -> str:
    """The scope in a few words, for a slide footer: "Segment: EMEA Sales", "All users" or
    "All users (segment EMEA Sales not applicable)"."""
    if segment_name is None:
        return ALL_USERS
    if is_per_user(dataset):
        return f"Segment: {segment_name}"
    return f"{ALL_USERS} (segment {segment_name} not applicable)"


def page_note(datasets: tuple[str, ...] | list[str], segment_name: str | None) -> str | None:
    """One sentence for a page (or slide) whose numbers come from ``datasets``, when a segment is
    picked: which are limited to it and which stay account-wide, and why. None without a segment.
    """
    if segment_name is None:
        return None
    limited = [d for d in datasets if is_per_user(d)]
    wide = [d for d in datasets if not is_per_user(d)]
    if not wide:
        return f"Every number here is limited to the segment {segment_name}."
    reasons = sorted({reason(d) for d in wide})
    if not limited:
        return (f"The segment {segment_name} does not apply to this page: every number here "
                f"covers all users, because {'; '.join(reasons)}.")
    return (f"Per-user numbers here are limited to the segment {segment_name}; the others cover "
            f"all users, because {'; '.join(reasons)}.")
