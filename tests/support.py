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
