"""whatfix_data.glossary: every KPI and rate has one distinct name and a one-sentence definition,
read by the pages, the pack and the README (kept equal to the module here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from whatfix_data import glossary, scope
from whatfix_data.analytics import kpis

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_kpi_has_a_definition_and_a_scope():
    items = kpis.kpis({})
    assert [k.key for k in items] == [key for key, _dataset, _unit in kpis.KPI_SOURCES]
    for kpi in items:
        assert kpi.name == glossary.term(kpi.key).name
        assert kpi.definition.endswith(".") and len(kpi.definition.split(". ")) == 1
        assert kpi.scope_label(None) == "All users"
        limited = kpi.scope_label("EMEA")
        assert limited == "Segment: EMEA" if scope.is_per_user(kpi.dataset) else (
            limited.startswith("All users (segment not applied: "))


def test_names_are_distinct_and_each_rate_column_is_defined():
    names = [t.name for t in glossary.TERMS]
    assert len(set(names)) == len(names)
    # The three "completion" measures of the issue have three different names.
    three = {glossary.term(k).name for k in ("task_list_completion", "completed_pct",
                                             "task_completion_pct")}
    assert len(three) == 3 and not any(n.startswith("Task completion") for n in three)
    for key in ("completion_rate_pct", "completed_pct", "avg_progress_pct", "active_pct",
                "task_completion_pct", "share_pct"):
        assert glossary.term(key).unit == glossary.UNIT_PCT
    assert glossary.term("avg_time_to_complete_s").header == "Average time to complete (s)"


def test_the_readme_glossary_is_the_module_table():
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- glossary:start -->\n(.*?)\n<!-- glossary:end -->", text, re.S)
    assert block is not None, "README.md lost its glossary markers"
    assert block.group(1).strip() == glossary.markdown_table()


@pytest.mark.parametrize("dataset", ["flows", "self-help", "content", "popular-flows"])
def test_account_wide_pages_say_why_with_a_segment(dataset):
    note = scope.page_note([dataset], "EMEA")
    assert note.startswith("The segment EMEA does not apply to this page")
    assert scope.reason(dataset) in note
    assert scope.page_note([dataset], None) is None
