"""The dataset registry against the API contract, the CLI and the layers that read it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from whatfix_data import frames, registry, scope
from whatfix_data.cli import build_parser
from whatfix_data.registry import SPECS, DatasetSpec

SPEC_FILE = Path(__file__).resolve().parents[1] / "whatfix_data" / "openapi.yml"
OPENAPI: dict[str, Any] = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
# Read from their own path (a trend or a count reads its base's path).
FETCHED = [s for s in SPECS if not s.is_trend and s.kind != registry.COUNT]
TRENDS = [s for s in SPECS if s.is_trend]
KINDS_OF_COLUMNS = {"string", "int", "float", "ts", "cat", "dict", "list"}


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (#/components/...) to the node it names."""
    while "$ref" in node:
        target: Any = OPENAPI
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _operation(spec: DatasetSpec) -> dict[str, Any]:
    return OPENAPI["paths"]["/{accountId}" + spec.path]["get"]


def _parameters(spec: DatasetSpec) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in map(_resolve, _operation(spec)["parameters"])}


def _record_fields(spec: DatasetSpec) -> set[str]:
    body = _operation(spec)["responses"]["200"]["content"]["application/json"]["schema"]
    items = _resolve(_resolve(_resolve(body)["properties"]["data"])["items"])
    return set(items["properties"])


@pytest.mark.parametrize("spec", FETCHED, ids=lambda s: s.name)
def test_every_fetched_dataset_is_a_get_operation_of_the_contract(spec: DatasetSpec) -> None:
    assert "/{accountId}" + spec.path in OPENAPI["paths"]
    assert "get" in OPENAPI["paths"]["/{accountId}" + spec.path]
    params = _parameters(spec)
    assert ("page" in params) == spec.paginated  # the kind says how it is fetched
    assert ("startDate" in params and "endDate" in params) == spec.dated
    for name, value in spec.params:  # extra params are documented, with an allowed value
        assert name in params
        assert value in params[name]["schema"].get("enum", [value])


@pytest.mark.parametrize("spec", FETCHED, ids=lambda s: s.name)
def test_every_typed_column_is_a_field_of_the_response_schema(spec: DatasetSpec) -> None:
    fields = _record_fields(spec)
    for col in spec.columns:
        if spec.ranked and col.name == registry.RANK:
            continue  # the rank is the record's position in the report
        assert col.source in fields, f"{spec.name}.{col.name}: {col.source} not in the spec"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_spec_is_complete_and_self_consistent(spec: DatasetSpec) -> None:
    assert spec.kind in registry.KINDS
    assert spec.label and spec.label == registry.labels()[spec.name]
    assert registry.get(spec.name) is spec
    names = {c.name for c in registry.columns_of(spec.name)}
    if spec.is_trend:
        base = registry.get(spec.trend_base)
        assert not base.is_trend and base.dated
        assert registry.trend(spec.trend_key) is spec is registry.trend(spec.name)
        assert spec.path == "" and spec.columns == ()  # a trend reads its base
        if spec.window_count:  # one totalCount request per window: the base must be paginated
            assert base.paginated
        return
    if spec.kind == registry.COUNT:  # one totalCount request for the range, from its base
        base = registry.get(spec.trend_base)
        assert base.paginated and base.dated and spec.dated and not spec.paginated
        assert spec.path == "" and [c.name for c in spec.columns] == [spec.window_count]
        return
    assert spec.ids and set(spec.ids) <= names
    assert len(spec.api_ids) == len(spec.ids)
    assert set(spec.name_fallback) <= names and len(spec.name_fallback) in (0, 2)
    assert set(spec.rate_check) <= names and len(spec.rate_check) in (0, 3)
    for col in spec.columns:
        assert col.kind in KINDS_OF_COLUMNS
        assert bool(col.categories) == (col.kind == "cat")
        assert not col.non_negative or col.kind in ("int", "float")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_frames_read_the_spec(spec: DatasetSpec) -> None:
    columns = [c.name for c in registry.columns_of(spec.name)]
    expected = [*registry.WINDOW_COLUMNS, *columns] if spec.is_trend else columns
    assert frames.columns(spec.name) == expected


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_scope_reads_the_spec(spec: DatasetSpec) -> None:
    assert scope.is_per_user(spec.name) == spec.per_user
    if spec.per_user:  # a segment limits rows by user id
        assert "user_id" in {c.name for c in registry.columns_of(spec.name)}
        assert scope.scope_label(spec.name, "EMEA") == "Segment: EMEA"
    else:
        assert scope.reason(spec.name) == (spec.scope_reason or scope.GENERIC_REASON)
        assert scope.reason(spec.name) in scope.scope_label(spec.name, "EMEA")


def test_every_exported_name_is_a_choice_of_the_export_command() -> None:
    parser = build_parser()
    common = ["--start", "2026-10-01", "--end", "2026-10-31", "--out", "out"]
    for name in registry.EXPORTED:
        assert parser.parse_args(["export", name, *common]).dataset == name
    for name in set(registry.NAMES) - set(registry.EXPORTED):
        with pytest.raises(SystemExit):
            parser.parse_args(["export", name, *common])


def test_the_dashboard_tables_agree() -> None:
    assert set(registry.COMPARED) <= set(registry.DASHBOARD)  # a delta needs its current value
    assert not registry.LISTS & set(registry.COMPARED)  # a list has no period to compare
    assert set(frames.NON_NEGATIVE) == {
        c.name for s in SPECS for c in s.columns if c.non_negative}
    assert len(registry.NAMES) == len(SPECS)  # no name twice


def test_an_unknown_name_is_a_clear_error() -> None:
    assert registry.find("nope") is None
    with pytest.raises(ValueError, match="Unknown dataset 'nope': expected one of end-users"):
        registry.get("nope")
    with pytest.raises(ValueError, match="no trend for 'flows-x'"):
        registry.trend("flows-x")
