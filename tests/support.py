"""Plain helpers shared by test modules (import these, never `conftest`: tests/ and tests/e2e/
each have a conftest.py, so `from conftest import ...` picks whichever was imported first)."""

from __future__ import annotations

from datetime import date

# A fixed "today" keeps every number in the suite reproducible.
FIXED_TODAY = date(2026, 11, 27)
SEED = 7


def sim_headers(account) -> dict[str, str]:
    """The two auth headers of a demo account."""
    return {"x-whatfix-integration-key": account.integration_key,
            "x-whatfix-user": account.user_email}


# ------------------------------------------------------------------------ segment scope on pages

SEGMENT_NOT_APPLIED = "All users (segment not applied: the API reports"


def pick_segment(at, index: int = 1) -> str:
    """Pick a segment in the sidebar of an AppTest run; returns its name."""
    segment = at.selectbox(key="f_segment")
    name = segment.options[index]
    segment.select_index(index).run()
    return name


def unescaped(text: str) -> str:
    """Markdown text as the reader sees it."""
    import re

    return re.sub(r"\\(.)", r"\1", text)


def captions(at) -> list[str]:
    """Every caption of a run, as the reader sees it."""
    return [unescaped(c.value) for c in at.caption]


def kpi_scopes(at) -> dict[str, str]:
    """KPI label -> the scope caption drawn under its card (each card has its own column)."""
    scopes = {}
    for column in at.columns:
        if len(column.metric) == 1 and len(column.caption) == 1:
            scopes[column.metric[0].label] = unescaped(column.caption[0].value)
    return scopes
