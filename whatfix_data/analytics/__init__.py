"""Analytics: pure functions from typed frames to the numbers, tables and sentences shown.

Modules: ``kpis`` (headline KPIs with deltas), ``comparison`` (trend windows paired window by
window with the comparison's; where the account's data begins), ``flows`` (best/worst,
comparison, per-window totals, edit impact), ``self_help``, ``engagement`` (active users,
distributions, top and dormant users), ``tasks`` (buckets, progress, one task left), ``content``
(inventory, hygiene) and ``takeaways`` (one-line sentences). Rates are percentages 0..100;
column names carry their unit (``_pct``, ``_pts``, ``_s``, ``_days``). Segment membership lives
in ``whatfix_data.segments``.

Usage: ``from whatfix_data import analytics``; ``analytics.kpis.kpis(current, previous)``, or the
shortcuts re-exported here.
"""

from whatfix_data.analytics import (
    comparison,
    content,
    engagement,
    flows,
    kpis,
    self_help,
    takeaways,
    tasks,
)
from whatfix_data.analytics.content import ContentHygiene
from whatfix_data.analytics.flows import (
    EditImpact,
    best_and_worst_flows,
    edit_impact,
    edit_impacts,
    flow_comparison,
)
from whatfix_data.analytics.kpis import Kpi, kpi_frame

compute_kpis = kpis.kpis
content_inventory = content.inventory
content_hygiene = content.hygiene

__all__ = [
    "ContentHygiene",
    "EditImpact",
    "Kpi",
    "best_and_worst_flows",
    "comparison",
    "compute_kpis",
    "content",
    "content_hygiene",
    "content_inventory",
    "edit_impact",
    "edit_impacts",
    "engagement",
    "flow_comparison",
    "flows",
    "kpi_frame",
    "kpis",
    "self_help",
    "takeaways",
    "tasks",
]
