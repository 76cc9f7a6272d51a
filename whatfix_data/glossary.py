"""The one table of definitions: every KPI and rate the dashboard and the pack show.

Each :class:`Term` has a display name (distinct for distinct measures), its unit, one sentence
that defines it and the dataset it comes from (which decides its segment scope, see
:mod:`whatfix_data.scope`). KPI cards and table headers on the pages, the pack's glossary slide
and the README's glossary all read :data:`TERMS`; a test keeps the README in step.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

UNIT_COUNT = "count"
UNIT_PCT = "%"
UNIT_SECONDS = "s"
UNIT_RATIO = "per member"


@dataclass(frozen=True)
class Term:
    """One measure: ``key`` is the KPI key or the frame column it names."""

    key: str
    name: str
    unit: str
    definition: str
    dataset: str

    @property
    def header(self) -> str:
        """Table header: the name with its unit, e.g. "Users who finished (%)"."""
        suffix = {UNIT_PCT: " (%)", UNIT_SECONDS: " (s)"}.get(self.unit, "")
        return f"{self.name}{suffix}"


TERMS: tuple[Term, ...] = (
    # ------------------------------------------------------------------ headline KPIs
    Term("flow_views", "Flow views", UNIT_COUNT,
         "How many times any flow was started in the period, summed over all flows.", "flows"),
    Term("flow_completions", "Flow completions", UNIT_COUNT,
         "How many times any flow was played to its last step in the period, summed over all "
         "flows.", "flows"),
    Term("completion_rate", "Flow completion rate", UNIT_PCT,
         "Flow completions divided by flow views over all flows together (weighted by views, "
         "not the average of each flow's rate).", "flows"),
    Term("active_users", "Active users", UNIT_COUNT,
         "Distinct users who viewed any content or completed any flow in the period.",
         "engagement"),
    Term("self_help_views", "Self-help views", UNIT_COUNT,
         "How many times Self Help content was opened in the period, summed over all items.",
         "self-help"),
    Term("task_list_completion", "Finished task-list enrolments", UNIT_PCT,
         "Of all (user, task list) pairs with activity in the period, the share where the user "
         "has done every task of the list; a user on three lists counts three times.",
         "task-completion"),
    # ------------------------------------------------------------------ per-flow columns
    Term("completion_rate_pct", "Completion rate", UNIT_PCT,
         "Completions of this flow divided by its views in the period.", "flows"),
    Term("avg_time_to_complete_s", "Average time to complete", UNIT_SECONDS,
         "Mean time from a flow's first step to its last, over its completions, in seconds.",
         "flows"),
    # ------------------------------------------------------------------ per-task-list columns
    Term("completed_pct", "Users who finished", UNIT_PCT,
         "Of the users on this task list, the share who have done every one of its tasks.",
         "task-completion"),
    Term("avg_progress_pct", "Average progress", UNIT_PCT,
         "The mean, over the users on this task list, of the share of its tasks each has done.",
         "task-completion"),
    Term("one_task_left", "Users with one task left", UNIT_COUNT,
         "Users who have done all but exactly one task of this list.", "task-completion"),
    # ------------------------------------------------------------------ per-segment columns
    Term("task_completion_pct", "Members' average task progress", UNIT_PCT,
         "The mean, over every (member, task list) pair of the segment, of the share of the "
         "list's tasks done.", "task-completion"),
    Term("task_lists_completed", "Members' finished task lists", UNIT_COUNT,
         "(member, task list) pairs of the segment where every task is done.",
         "task-completion"),
    Term("active_pct", "Active members", UNIT_PCT,
         "Members of the segment who viewed content or completed a flow in the period, as a "
         "share of all its members.", "engagement"),
    Term("content_viewed_per_member", "Content viewed per member", UNIT_RATIO,
         "Content views of the segment's members divided by its number of members.",
         "engagement"),
    Term("flows_completed_per_member", "Flows completed per member", UNIT_RATIO,
         "Flow completions of the segment's members divided by its number of members.",
         "engagement"),
    # ------------------------------------------------------------------ self help
    Term("share_pct", "Share of views", UNIT_PCT,
         "This row's views as a share of all self-help views in the period.", "self-help"),
)
_BY_KEY: dict[str, Term] = {t.key: t for t in TERMS}


def term(key: str) -> Term:
    """The term of a KPI key or column; KeyError when it has no definition."""
    return _BY_KEY[key]


def find(key: str) -> Term | None:
    """The term of a KPI key or column, or None."""
    return _BY_KEY.get(key)


def definition(key: str) -> str:
    """The one-sentence definition of a KPI key or column."""
    return term(key).definition


def column_header(column: str) -> str | None:
    """A table header from the glossary ("Users who finished (%)"), None for other columns."""
    found = _BY_KEY.get(column)
    return None if found is None else found.header


def glossary_frame() -> pd.DataFrame:
    """The glossary as a table (measure, unit, definition), in glossary order."""
    return pd.DataFrame(
        {
            "measure": pd.array([t.name for t in TERMS], dtype="string"),
            "unit": pd.array([t.unit for t in TERMS], dtype="string"),
            "definition": pd.array([t.definition for t in TERMS], dtype="string"),
        }
    )


def markdown_table() -> str:
    """The glossary as the Markdown table in README.md (a test compares them)."""
    lines = ["| Measure | Unit | Definition |", "|---|---|---|"]
    lines += [f"| {t.name} | {t.unit} | {t.definition} |" for t in TERMS]
    return "\n".join(lines)
