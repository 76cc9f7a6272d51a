"""Every dashboard figure: pure functions from a DataFrame to a plotly Figure.

Pages and the review pack call these; nothing here fetches data or imports Streamlit.
`style` holds the shared palette, layout, escaping, empty state and file names.
"""

from whatfix_data.charts import style
from whatfix_data.charts.annotations import add_annotations
from whatfix_data.charts.builders import Measure, distribution_bars, ranked_bars
from whatfix_data.charts.content import content_inventory
from whatfix_data.charts.engagement import (
    content_viewed_histogram,
    flows_completed_histogram,
    top_users,
)
from whatfix_data.charts.flows import (
    add_modification_markers,
    best_worst_flows,
    flow_comparison,
    flow_completion_rate,
    flow_time_to_complete,
    flow_trend,
    flow_views_completions,
    min_views_note,
)
from whatfix_data.charts.segments import segment_engagement, segment_membership, segment_metric
from whatfix_data.charts.self_help import self_help_by_item, self_help_by_type
from whatfix_data.charts.style import (
    OKABE_ITO,
    PALETTE,
    config_for,
    empty_figure,
    escape_text,
    figure_filename,
    figure_title,
    is_empty_figure,
    period_label,
)
from whatfix_data.charts.target_line import add_target_line, target_lines
from whatfix_data.charts.task_lists import completion_by_segment, task_list_distribution
from whatfix_data.charts.timeline import trend_lines
from whatfix_data.charts.trends import (
    active_users_trend,
    completion_rate_trend,
    flow_activity_trend,
    self_help_views_trend,
)

__all__ = [
    "OKABE_ITO",
    "PALETTE",
    "Measure",
    "active_users_trend",
    "add_annotations",
    "add_modification_markers",
    "add_target_line",
    "best_worst_flows",
    "completion_by_segment",
    "completion_rate_trend",
    "config_for",
    "content_inventory",
    "content_viewed_histogram",
    "distribution_bars",
    "empty_figure",
    "escape_text",
    "figure_filename",
    "figure_title",
    "flow_activity_trend",
    "flow_comparison",
    "flow_completion_rate",
    "flow_time_to_complete",
    "flow_trend",
    "flow_views_completions",
    "flows_completed_histogram",
    "is_empty_figure",
    "min_views_note",
    "period_label",
    "ranked_bars",
    "segment_engagement",
    "segment_membership",
    "segment_metric",
    "self_help_by_item",
    "self_help_by_type",
    "self_help_views_trend",
    "style",
    "target_lines",
    "task_list_distribution",
    "top_users",
    "trend_lines",
]
