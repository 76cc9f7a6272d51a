"""Schemathesis runs the Whatfix spec against the built-in server (real HTTP, in pytest)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from whatfix_data.simulator import SimServer, SimulatorConfig, start_background

# One worker runs this module: its module-scoped fixtures (servers, loaded data, built packs)
# are then made once, not once per xdist worker (tests/run_all.sh: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_simulator_schemathesis")

SPEC = Path(__file__).resolve().parents[1] / "whatfix_data" / "openapi.yml"
MAX_EXAMPLES = 40  # per operation: the nine operations take a few seconds
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
CONFIG = SchemathesisConfig.from_str(
    f"""
[generation]
mode = "positive"
max-examples = {MAX_EXAMPLES}
"""
)
schema = schemathesis.openapi.from_path(SPEC, config=CONFIG)


def _valid_for_the_spec(case: schemathesis.Case, account_id: str, today: date) -> None:
    """Point the case at the demo account, and order a generated date pair.

    The spec documents no 400 for most operations, so the two inputs it cannot express
    (another tenant's account id, a start date after the end date) are normalized here; both
    are covered by their own tests in test_simulator_http.py.
    """
    case.path_parameters = {**(case.path_parameters or {}), "accountId": account_id}
    query = case.query or {}
    start, end = query.get("startDate"), query.get("endDate")
    if isinstance(start, str) and isinstance(end, str) and start > end:
        query["startDate"], query["endDate"] = end, start
    if isinstance(start, str) and end is None and start > today.isoformat():
        query["endDate"] = start  # the default end (today) would precede this start
    case.query = query


@pytest.fixture(scope="module")
def spec_server() -> Iterator[SimServer]:
    """A private server: the generated PUTs must not change the shared session server."""
    server = start_background(SimulatorConfig(seed=11, users=400, today=date(2026, 11, 27)))
    try:
        yield server
    finally:
        server.stop()


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_spec_conformance(case: schemathesis.Case, spec_server: SimServer) -> None:
    """No server error; status codes, content types and bodies as documented."""
    sim_server, demo_account = spec_server, spec_server.accounts[0]
    _valid_for_the_spec(case, demo_account.account_id, sim_server.today)
    headers = {"x-whatfix-integration-key": demo_account.integration_key,
               "x-whatfix-user": demo_account.user_email}
    response = case.call_and_validate(base_url=sim_server.base_url, headers=headers,
                                      checks=CHECKS)
    assert response.status_code in (200, 201, 400)
