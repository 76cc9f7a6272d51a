"""The cyclic garbage collector's thresholds for a process that parses API pages (app and CLI).

A fetch keeps every parsed page of a list until the list is typed (tens of thousands of dicts
for a per-user list at 200,000 users). With CPython's default thresholds (700, 10, 10) those
young objects are traversed by about 200 collections per Overview, and, as they survive long
enough to count as long-lived, they start a full collection: 0.15-0.2 s with every other thread
stopped, in three of four new-session Overviews at 200,000 users (docs/PERFORMANCE.md, "The
first run's early fetch, the drawing order and the collector"). The records are plain JSON
(no reference cycles: freed by their reference counts), so collecting less often loses nothing:
a first generation of 20,000 objects leaves 4-7 collections per Overview and no full one.
"""

from __future__ import annotations

import gc

# (first generation, second, third): the first raised from 700; the older two as CPython's.
THRESHOLDS = (20_000, 10, 10)


def tune() -> None:
    """Set this process's collector thresholds (idempotent; entry points call it first)."""
    if gc.get_threshold() != THRESHOLDS:
        gc.set_threshold(*THRESHOLDS)
