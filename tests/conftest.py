"""Shared fixtures: one built-in Whatfix server per test session, reached over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from whatfix_data.simulator import SimulatorConfig, start_background

# A fixed "today" keeps every number in the suite reproducible.
FIXED_TODAY = date(2026, 11, 27)
SEED = 7


@pytest.fixture(scope="session")
def sim_server() -> Iterator[object]:
    """The built-in server with its demo accounts, no latency and no faults."""
    server = start_background(SimulatorConfig(seed=SEED, users=2000, today=FIXED_TODAY))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def demo_account(sim_server):
    """The primary demo account of the session server (account_id, integration_key, user_email)."""
    return sim_server.accounts[0]
