"""The project's copy of the API contract stays identical to the shared one, and the built-in
server serves exactly the operations it describes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROJECT_SPEC = ROOT / "whatfix_data" / "openapi.yml"
SHARED_SPEC = ROOT.parent / "shared" / "spec" / "whatfix-openapi.yml"
EXPECTED_OPERATIONS = {
    "listEndUsers", "upsertEndUser", "listContent", "getFlowAnalytics", "getEndUserEngagement",
    "getSelfHelpAnalytics", "getUserTaskCompletion", "getMostPopularFlows", "listSegments",
}


@pytest.mark.skipif(not SHARED_SPEC.exists(), reason="no shared/ folder beside this checkout")
def test_project_copy_is_identical_to_the_shared_contract() -> None:
    assert PROJECT_SPEC.read_bytes() == SHARED_SPEC.read_bytes()


def test_the_contract_has_the_nine_operations() -> None:
    spec = yaml.safe_load(PROJECT_SPEC.read_text())
    operations = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert operations == EXPECTED_OPERATIONS
