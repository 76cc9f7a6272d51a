"""Dataset loaders against the built-in server: fixed columns, consistent trends, bad input."""

from __future__ import annotations

import csv
import io
import math
import time
from datetime import date

import pandas as pd
import pytest

from whatfix_data import frames, registry
from whatfix_data.client import WhatfixClient
from whatfix_data.datasets import (
    COMPARED_DATASETS,
    DASHBOARD_DATASETS,
    DATASETS,
    clear_account,
    load_dashboard,
    load_dataset,
    load_end_users,
    load_engagement,
    load_flows,
    load_popular_flows,
    load_popular_flows_csv,
    load_segments,
    load_self_help,
    load_task_completion,
    load_trend,
)
from whatfix_data.errors import AuthenticationError, BadResponseError
from whatfix_data.simulator import SimulatorConfig, start_background
from whatfix_data.user_sync import account_changed, put_end_user
from whatfix_data.windows import DateRange, split_range

# One worker runs this module: its module-scoped fixtures (servers, loaded data, built packs)
# are then made once, not once per xdist worker (tests/run_all.sh: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_datasets")

TODAY = date(2026, 11, 27)
RANGE = DateRange(date(2026, 9, 1), date(2026, 11, 26))
SHORT = DateRange(date(2026, 10, 5), date(2026, 10, 25))


@pytest.fixture(scope="module")
def client(make_settings):
    with WhatfixClient(make_settings()) as shared:
        yield shared


@pytest.fixture(scope="module")
def state_server():
    """A private server for the scenario tests (the shared sim_server stays as generated)."""
    server = start_background(SimulatorConfig(seed=7, users=2000, today=TODAY))
    yield server
    server.stop()


@pytest.fixture()
def uncached(make_settings, state_server):
    """A client of the private server without cache; scenarios cleared around the test."""
    state_server.reset()
    with WhatfixClient(make_settings(server=state_server, cache="off")) as fresh:
        yield fresh
    state_server.reset()


@pytest.mark.parametrize("name", DATASETS)
def test_every_dataset_has_its_fixed_columns(client, name: str) -> None:
    dataset = load_dataset(client, name, SHORT, "week")
    assert dataset.name == name
    assert list(dataset.frame.columns) == frames.columns(name)
    assert len(dataset.frame) > 0
    assert dataset.meta.rows in (None, len(dataset.frame)) or name.endswith("trend")


def test_flow_trend_adds_up_to_the_whole_range(client) -> None:
    whole = load_flows(client, RANGE).frame.set_index("flow_id")
    trend = load_trend(client, "flows", RANGE, "week")
    windows = split_range(RANGE, "week")
    assert trend.frame["window_label"].nunique() == len(windows)
    assert trend.frame["partial"].any()  # 1 Sep 2026 is a Tuesday: first week is partial
    summed = trend.frame.groupby("flow_id")[["views", "completions"]].sum()
    assert summed["views"].to_dict() == whole["views"].to_dict()
    assert summed["completions"].to_dict() == whole["completions"].to_dict()


def test_self_help_trend_adds_up_to_the_whole_range(client) -> None:
    whole = load_self_help(client, RANGE).frame.set_index("content_id")["views"]
    trend = load_trend(client, "self-help", RANGE, "month").frame
    assert trend.groupby("content_id")["views"].sum().to_dict() == whole.to_dict()


def test_engagement_trend_counts_active_users_per_window(client) -> None:
    progress: list[tuple[int, int]] = []
    trend = load_trend(client, "engagement", SHORT, "week",
                       progress=lambda done, total: progress.append((done, total)))
    windows = split_range(SHORT, "week")
    assert list(trend.frame.columns) == [*frames.columns("engagement-trend")[:4], "active_users"]
    assert len(trend.frame) == len(windows) == progress[-1][0] == progress[-1][1]
    for window, active in zip(windows, trend.frame["active_users"], strict=True):
        assert active == len(load_engagement(client, window.date_range).frame) > 0
    assert trend.meta.requests == len(windows)  # one cheap request per window


def test_popular_flows_csv_is_the_apis_own_file(client) -> None:
    raw = load_popular_flows_csv(client, SHORT)
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
    ranked = load_popular_flows(client, SHORT).frame
    assert len(rows) == len(ranked)
    assert list(ranked["rank"]) == list(range(1, len(ranked) + 1))
    name_column = next(name for name in rows[0] if "name" in name.lower())
    assert [row[name_column] for row in rows] == list(ranked["flow_name"])


def test_empty_account_gives_empty_typed_frames(make_settings) -> None:
    with WhatfixClient(make_settings(account=2)) as empty:
        for name in ("end-users", "content", "segments", "flows", "engagement", "flow-trend"):
            dataset = load_dataset(empty, name, SHORT, "week")
            assert dataset.frame.empty
            assert list(dataset.frame.columns) == frames.columns(name)


def test_dashboard_loads_current_and_previous_period(client) -> None:
    data = load_dashboard(client, SHORT, "week", comparison="previous")
    assert set(data.current) == set(DASHBOARD_DATASETS)
    assert set(data.comparison) == set(COMPARED_DATASETS)
    assert data.comparison_range == DateRange(date(2026, 9, 14), date(2026, 10, 4))
    assert data.comparison["flows"].frame["views"].sum() > 0


def _assert_never_wrong(bad: pd.DataFrame, good: pd.DataFrame) -> None:
    """Every value present in `bad` equals the clean value: missing is allowed, wrong is not
    (a missing name is shown as its id: the spec's name_fallback)."""
    assert list(bad.columns) == list(good.columns)
    assert len(bad) == len(good)
    fallbacks = dict(s.name_fallback for s in registry.SPECS if s.name_fallback)
    for column in bad.columns:
        ids = bad[fallbacks[column]] if column in fallbacks else [None] * len(bad)
        for mine, truth, row_id in zip(bad[column], good[column], ids, strict=True):
            if mine is None or mine is pd.NA or mine is pd.NaT or (row_id is not None
                                                                    and mine == row_id):
                continue
            if isinstance(mine, float) and math.isnan(mine):
                continue
            assert mine == truth, f"{column}: {mine!r} != {truth!r}"


@pytest.mark.parametrize(
    "scenario", ["missing_fields", "extra_fields", "wrong_types", "impossible_values"]
)
@pytest.mark.parametrize(
    ("operation", "loader"),
    [("getFlowAnalytics", load_flows), ("getEndUserEngagement", load_engagement),
     ("getUserTaskCompletion", load_task_completion)],
)
def test_bad_records_end_in_a_correct_frame(uncached, state_server, scenario, operation,
                                            loader) -> None:
    good = loader(uncached, SHORT)
    state_server.set_scenario(scenario, operation=operation)
    bad = loader(uncached, SHORT)
    _assert_never_wrong(bad.frame, good.frame)
    if scenario == "extra_fields":
        pd.testing.assert_frame_equal(bad.frame, good.frame)
    if scenario == "impossible_values":
        assert bad.findings, "impossible values must be reported"


@pytest.mark.parametrize("scenario", ["non_json", "truncated_json"])
def test_unreadable_bodies_are_clear_errors(uncached, state_server, scenario) -> None:
    state_server.set_scenario(scenario, operation="getSelfHelpAnalytics")
    with pytest.raises(BadResponseError):
        load_self_help(uncached, SHORT)


def test_total_drift_never_loses_or_doubles_a_row(uncached, state_server) -> None:
    good = load_engagement(uncached, RANGE).frame
    state_server.set_scenario("total_drift", operation="getEndUserEngagement")
    drifted = load_engagement(uncached, RANGE).frame
    assert drifted["user_id"].is_unique
    assert set(good["user_id"]) <= set(drifted["user_id"])  # nothing lost...
    assert len(drifted) == len(good) + 1  # ...and the record that arrived is counted once


def test_twenty_percent_faults_give_the_same_totals(make_settings, client) -> None:
    faulty = start_background(SimulatorConfig(seed=7, users=2000, today=TODAY, fault_rate=0.2))
    try:
        with WhatfixClient(make_settings(server=faulty, retries=6)) as flaky:
            noisy = {name: load_dataset(flaky, name, SHORT, "week").frame
                     for name in ("flows", "engagement", "task-completion", "flow-trend")}
        assert sum(faulty.stats()["faults"].values()) > 0
    finally:
        faulty.stop()
    for name, frame in noisy.items():
        pd.testing.assert_frame_equal(frame, load_dataset(client, name, SHORT, "week").frame)


def test_repeat_load_is_memoized_but_still_checks_credentials(make_sim_server, make_settings):
    server = make_sim_server()
    settings = make_settings(server=server, credential_check_s=1)
    with WhatfixClient(settings) as first:
        fresh = load_dataset(first, "flow-trend", SHORT, "week")
    with WhatfixClient(settings) as second:
        before = server.stats()["requests"]
        again = load_dataset(second, "flow-trend", SHORT, "week")
        again.frame["scribble"] = 1  # a caller's change must not leak into the memo
        third = load_dataset(second, "flow-trend", SHORT, "week")
    assert server.stats()["requests"] == before  # no request at all for an ended range
    assert again.meta.from_cache and again.meta.network_requests == 0
    pd.testing.assert_frame_equal(third.frame, fresh.frame)
    server.revoke_key(settings.integration_key)
    with pytest.raises(AuthenticationError):
        WhatfixClient(settings)
    with WhatfixClient(settings, verify=False) as trusting, pytest.raises(AuthenticationError):
        time.sleep(1.05)  # past the re-check interval
        load_dataset(trusting, "flow-trend", SHORT, "week")  # memo hits re-check the key


def test_a_memo_hit_shares_the_rows_instead_of_copying_them(client) -> None:
    import tracemalloc

    def allocated(action) -> tuple[object, int]:
        tracemalloc.start()
        try:
            result = action()
            return result, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    first = load_dataset(client, "engagement", SHORT)
    _, copying = allocated(lambda: first.frame.copy())  # what a second copy of the rows costs
    again, hit = allocated(lambda: load_dataset(client, "engagement", SHORT))
    assert again.meta.network_requests == 0 and len(again.frame) == len(first.frame) > 1000
    assert hit < copying / 3, (hit, copying)  # the hit shares the rows
    before = int(first.frame["content_viewed"].sum())
    again.frame.loc[again.frame.index[0], "content_viewed"] = -10**9  # copy-on-write: own copy
    assert int(load_dataset(client, "engagement", SHORT).frame["content_viewed"].sum()) == before
    assert int(first.frame["content_viewed"].sum()) == before


def test_ranges_with_today_and_disabled_cache_are_not_kept_forever(make_settings) -> None:
    today_range = DateRange(date(2026, 11, 20), TODAY)
    with WhatfixClient(make_settings(ttl_today_s=1), today=lambda: TODAY) as client:
        load_dataset(client, "flows", today_range)
        assert load_dataset(client, "flows", today_range).meta.network_requests == 0
        time.sleep(1.05)
        assert load_dataset(client, "flows", today_range).meta.network_requests == 1
    with WhatfixClient(make_settings(cache="off")) as client:
        load_dataset(client, "flows", SHORT)
        assert load_dataset(client, "flows", SHORT).meta.network_requests == 1


def test_a_user_sync_drops_the_memoized_user_list(make_sim_server, make_settings) -> None:
    server = make_sim_server()
    with WhatfixClient(make_settings(server=server)) as client:
        before = load_dataset(client, "end-users", None)
        assert load_dataset(client, "end-users", None).meta.network_requests == 0
        status, _ = put_end_user(client, "brand-new-user", {"email": "new@acme.example"})
        assert status == 201
        account_changed(client)  # what user_sync.refresh_cache does first, once per sync
        client.get_all_pages("/end-users", kind="list", id_field="userId", refresh=True)
        after = load_dataset(client, "end-users", None)
    assert len(after.frame) == len(before.frame) + 1
    assert "brand-new-user" in set(after.frame["user_id"])


def test_clearing_one_account_keeps_the_others_memo_and_cache(tmp_path, make_sim_server,
                                                             make_settings) -> None:
    server = make_sim_server()
    cache_file = str(tmp_path / "shared.sqlite")
    acme, globex = (
        WhatfixClient(make_settings(server=server, account=account, cache=cache_file,
                                    credential_check_s=0))
        for account in (0, 1)
    )
    with acme, globex:
        for client in (acme, globex):
            load_dataset(client, "flows", SHORT)
            load_dataset(client, "segments", None)
        assert clear_account(acme) >= 2
        server.reset()
        assert load_dataset(globex, "flows", SHORT).meta.from_cache
        assert load_dataset(globex, "segments", None).meta.from_cache
        assert globex.get_json("/analytics/flows", SHORT.params()).meta.from_cache  # HTTP too
        assert server.stats()["requests"] == 0
        refreshed = load_dataset(acme, "flows", SHORT)
        assert not refreshed.meta.from_cache and refreshed.meta.network_requests == 1
        assert server.stats()["requests"] == 1


def test_refresh_bypasses_both_caches_and_stores_the_fresh_lists(make_sim_server,
                                                                 make_settings) -> None:
    import requests
    from support import sim_headers

    server = make_sim_server()
    account = server.accounts[0]
    with WhatfixClient(make_settings(server=server)) as client:
        before = load_dataset(client, "end-users", None)
        load_dataset(client, "segments", None)
        # A change made elsewhere (another tool): neither cache of this process knows about it.
        added = requests.put(f"{server.base_url}/{account.account_id}/end-users/made-elsewhere",
                             json={"email": "elsewhere@acme.example"},
                             headers=sim_headers(account), timeout=10)
        assert added.status_code == 201
        assert len(load_dataset(client, "end-users", None).frame) == len(before.frame)
        fresh = load_end_users(client, refresh=True)
        segments = load_segments(client, refresh=True)
        assert fresh.meta.network_requests == fresh.meta.requests > 0
        assert segments.meta.network_requests == segments.meta.requests > 0
        assert "made-elsewhere" in set(fresh.frame["user_id"])
        memoized = load_dataset(client, "end-users", None)  # the memo holds the fresh list...
        cached = load_end_users(client)  # ...and so does the HTTP cache
    assert memoized.meta.network_requests == 0 and len(memoized.frame) == len(before.frame) + 1
    assert cached.meta.from_cache and len(cached.frame) == len(before.frame) + 1


def test_a_refresh_through_cut_bodies_is_a_clear_error(make_sim_server, make_settings) -> None:
    from whatfix_data.errors import ApiUnavailableError

    server = make_sim_server()
    server.state.control.fault_kinds = ("dropped",)
    server.state.control.fault_rate = 1.0
    settings = make_settings(server=server, retries=1, credential_check_s=0)
    with WhatfixClient(settings) as client, pytest.raises(ApiUnavailableError):
        load_end_users(client, refresh=True)  # what a sync's preview reads first


def test_popular_flows_csv_of_the_built_in_server_is_unchanged_by_the_guard(client) -> None:
    path = registry.get("popular-flows").path
    raw = client.get_bytes(path, {**SHORT.params(), "format": "csv"}).payload
    assert load_popular_flows_csv(client, SHORT) == raw  # benign names: the API's own bytes


def test_popular_flows_csv_with_formula_cells_is_neutralised_and_agrees_with_the_json() -> None:
    from hostile_api import FORMULA_NAMES, popular_csv, start_hostile_api

    from whatfix_data.config import load_settings
    from whatfix_data.exports import FORMULA_TRIGGERS
    from whatfix_data.user_sync.reading import unneutralise

    raw_rows = list(csv.DictReader(io.StringIO(popular_csv().decode())))
    assert sum(row["flowName"].startswith(FORMULA_TRIGGERS) for row in raw_rows) == len(
        FORMULA_NAMES)  # the server does send formulas
    api = start_hostile_api()
    try:
        with WhatfixClient(load_settings(env=api.env())) as hostile:
            guarded = load_popular_flows_csv(hostile, SHORT)
            ranked = load_popular_flows(hostile, SHORT).frame
    finally:
        api.stop()
    rows = list(csv.DictReader(io.StringIO(guarded.decode("utf-8"))))
    for row in rows:
        for value in row.values():
            assert not value.startswith(FORMULA_TRIGGERS) or value.lstrip("+-").replace(
                ".", "", 1).isdigit(), value  # only plain numbers may start with + or -
            assert "\x00" not in value and "\u202e" not in value
    assert [row["flowId"] for row in rows] == list(ranked["flow_id"])
    assert [int(row["views"]) for row in rows] == list(ranked["views"])
    assert [float(row["completionRate"]) for row in rows] == list(ranked["completion_rate_pct"])
    named = [(unneutralise(row["flowName"]), name) for row, name in
             zip(rows, ranked["flow_name"], strict=True) if row["flowName"]]
    assert named and all(csv_name == json_name for csv_name, json_name in named)


@pytest.mark.parametrize("name", ["end-users", "engagement", "task-completion", "flow-trend"])
def test_a_load_reports_its_progress_up_to_the_total(uncached, name) -> None:
    reports: list[tuple[int, int]] = []
    dataset = load_dataset(uncached, name, RANGE, "week",
                           progress=lambda done, total: reports.append((done, total)))
    totals = {total for _, total in reports}
    assert len(totals) == 1  # one total for the whole load
    total = totals.pop()
    expected = len(split_range(RANGE, "week")) if name.endswith("-trend") else len(dataset.frame)
    assert total == expected  # rows of the list, or periods of a trend
    assert sorted(reports) == reports and reports[-1] == (total, total)
