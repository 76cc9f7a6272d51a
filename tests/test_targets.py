"""Targets: validation of what a PM types, the per-account store (SQLite, Redis, memory), and the
evaluation against real data from the built-in server (range and per complete week)."""

from __future__ import annotations

import os
import stat
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import FIXED_TODAY

from whatfix_data import targets as T
from whatfix_data.client import WhatfixClient
from whatfix_data.windows import DateRange

# One worker runs this module: its module-scoped fixtures (servers, loaded data, built packs)
# are then made once, not once per xdist worker (tests/run_all.sh: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_targets")

RANGE = DateRange.from_iso("2026-11-01", "2026-11-26")


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize("text", ["abc", "", "  ", "60 percent", "1e", "--5"])
def test_non_numbers_are_refused_with_a_clear_message(text):
    with pytest.raises(T.TargetError) as caught:
        T.make_target("completion_rate", text)
    assert "number" in caught.value.user_message


@settings(max_examples=100, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: not 0 <= v <= 100))
def test_rates_outside_0_to_100_are_refused(value):
    with pytest.raises(T.TargetError, match="between 0 and 100"):
        T.make_target("completion_rate", value)


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=0, max_value=100))
def test_rates_inside_0_to_100_are_kept(value):
    assert T.make_target("task_list_completion", value).threshold == value


@pytest.mark.parametrize("raw, expected", [("60", 60.0), ("60 %", 60.0), (" 1,500 ", 1500.0),
                                           (500, 500.0), ("0", 0.0)])
def test_readable_numbers_are_accepted(raw, expected):
    metric = "completion_rate" if expected <= 100 and raw != 500 else "flow_views"
    assert T.make_target(metric, raw).threshold == expected


def test_other_bad_input():
    with pytest.raises(T.TargetError, match="count of 0 or more"):
        T.make_target("flow_views", "-5")
    with pytest.raises(T.TargetError, match="finite"):
        T.make_target("flow_views", "inf")
    with pytest.raises(T.TargetError, match="Unknown target metric"):
        T.make_target("bogus", "5")
    with pytest.raises(T.TargetError, match="no weekly values"):
        T.make_target("task_list_completion", "40", per="week")


def test_labels_say_what_and_for_whom():
    target = T.make_target("views", "500", per="week", flow_id="flw-1", flow_name="Create invoice")
    assert target.label == "Views at least 500 a week"
    assert target.applies_to == "flow 'Create invoice'"
    assert T.make_target("completion_rate", 60).label == "Completion rate at least 60.0 %"


# ---------------------------------------------------------------------------------- store


def _store_settings(make_settings, spec, account=0):
    return make_settings(account=account, store=spec)


@pytest.mark.parametrize("backend", ["sqlite", "memory", "redis"])
def test_store_keeps_targets_per_account(backend, make_settings, tmp_path, request):
    spec = {"sqlite": str(tmp_path / "store.sqlite"), "memory": "memory"}.get(backend)
    if backend == "redis":
        spec = request.getfixturevalue("redis_url")
    acme = T.TargetStore(_store_settings(make_settings, spec, 0))
    globex = T.TargetStore(_store_settings(make_settings, spec, 1))
    for key in list(acme.keys()) + list(globex.keys()):  # a shared Redis / memory: start clean
        acme.delete(key)
        globex.delete(key)
    rate = T.make_target("completion_rate", "60")
    acme.save(rate)
    acme.save(T.make_target("completion_rate", "65"))  # same metric: replaces
    acme.save(T.make_target("views", "500", per="week", flow_id="flw-1", flow_name="X"))
    assert [t.label for t in acme.targets()] == ["Completion rate at least 65.0 %",
                                                 "Views at least 500 a week"]
    assert globex.targets() == []
    assert acme.delete(rate) and not acme.delete(rate)
    assert [t.flow_id for t in acme.targets()] == ["flw-1"]
    # A new process (a new store object) reads the same records, except in memory.
    again = T.TargetStore(_store_settings(make_settings, spec, 0))
    assert [t.flow_id for t in again.targets()] == ["flw-1"]
    again.delete("views|flw-1")


def test_sqlite_store_file_is_private(make_settings, tmp_path):
    path = tmp_path / "sub" / "store.sqlite"
    T.TargetStore(make_settings(store=str(path))).save(T.make_target("flow_views", 10))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_store_defaults_beside_the_cache(make_settings, tmp_path):
    assert make_settings(cache=str(tmp_path / "c.sqlite")).store_spec == str(
        tmp_path / "whatfix_store.sqlite")
    assert make_settings(cache="redis://x:6379/0").store_spec == "redis://x:6379/0"


def test_unwritable_store_is_a_clear_message(make_settings, tmp_path):
    from whatfix_data.errors import ConfigurationError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigurationError, match="WHATFIX_STORE"):
        T.TargetStore(make_settings(store=str(blocker / "store.sqlite")))


def test_a_corrupt_record_is_skipped(make_settings, tmp_path):
    store = T.TargetStore(make_settings(store=str(tmp_path / "s.sqlite")))
    store.records.put(T.KIND, "junk", {"metric": "completion_rate", "threshold": "abc"})
    store.save(T.make_target("flow_views", 5))
    assert [t.metric for t in store.targets()] == ["flow_views"]


# ----------------------------------------------------------------------------- evaluation


@pytest.fixture(scope="module")
def loaded(make_settings):
    """Range and weekly data of the demo account for RANGE, through real HTTP."""
    from whatfix_data.datasets import load_dataset

    with WhatfixClient(make_settings(today=FIXED_TODAY)) as client:
        names = ["flows", "engagement", "self-help", "task-completion", "flow-trend",
                 "engagement-trend", "self-help-trend"]
        return {n: load_dataset(client, n, RANGE, "week").frame for n in names}


def test_range_targets_breached_and_met(loaded):
    from whatfix_data.analytics.kpis import kpis

    rate = {k.key: k.value for k in kpis(loaded)}["completion_rate"]
    low, high = T.make_target("completion_rate", rate - 5), T.make_target("completion_rate",
                                                                           rate + 5)
    met, breached = T.evaluate([low, high], loaded, RANGE)
    assert (met.breached, breached.breached) == (False, True)
    assert met.value == pytest.approx(rate) and met.period == RANGE.label()
    at_most = T.make_target("completion_rate", rate - 5, direction=T.AT_MOST)
    assert T.evaluate([at_most], loaded, RANGE)[0].breached


def test_weekly_targets_judge_complete_weeks_only(loaded):
    from whatfix_data.analytics.flows import totals_by_window

    weekly = totals_by_window(loaded["flow-trend"])
    complete = weekly[~weekly["partial"].astype(bool)]
    threshold = float(complete["views"].median())
    results = T.evaluate([T.make_target("flow_views", threshold, per="week")], loaded, RANGE)
    # 1..26 Nov 2026: the complete ISO weeks start 2, 9 and 16 Nov; 1 Nov and 23-26 are cut.
    assert [r.period_start.isoformat() for r in results] == ["2026-11-02", "2026-11-09",
                                                           "2026-11-16"]
    for result in results:
        row = complete[complete["window_start"] == result.period_start]
        assert result.value == float(row["views"].iloc[0])
        assert result.breached == (result.value < threshold)


def test_flow_targets_and_their_table_status(loaded):
    flows = loaded["flows"].sort_values("views", ascending=False)
    top = flows.iloc[0]
    above = T.make_target("completion_rate", min(100, float(top["completion_rate_pct"]) + 1),
                          flow_id=top["flow_id"], flow_name=top["flow_name"])
    results = T.evaluate([above], loaded, RANGE)
    assert results[0].breached
    status = T.flow_status(results)
    assert status[top["flow_id"]].startswith("breached: Completion rate at least")
    missing = T.make_target("views", 1, flow_id="flw-never-seen")
    assert T.evaluate([missing], loaded, RANGE)[0].value == 0.0  # no row: no views


def test_no_complete_week_and_missing_data(loaded):
    short = DateRange.from_iso("2026-11-24", "2026-11-26")
    (result,) = T.evaluate([T.make_target("flow_views", 5, per="week")], loaded, short)
    assert result.value is None and not result.breached
    assert result.note == "no complete week in the range"
    (unloaded,) = T.evaluate([T.make_target("active_users", 5, per="week")], {}, RANGE)[:1]
    assert unloaded.value is None and unloaded.status == "no data"


@settings(max_examples=100, deadline=None)
@given(start=st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 11, 1)),
       days=st.integers(min_value=1, max_value=120))
def test_weekly_targets_cover_exactly_the_complete_weeks_of_any_range(start, days):
    from datetime import timedelta

    date_range = DateRange(start, start + timedelta(days=days - 1))
    results = T.evaluate([T.make_target("flow_views", 10, per="week")], {}, date_range)
    complete = [r for r in results if r.note != "no complete week in the range"]
    for result in complete:
        assert result.period_start.weekday() == 0
        assert (result.period_end - result.period_start).days == 6
        assert date_range.start <= result.period_start and result.period_end <= date_range.end
    # Every Monday whose week fits in the range is judged, once.
    mondays = [d for d in date_range.dates() if d.weekday() == 0
               and d + timedelta(days=6) <= date_range.end]
    assert [r.period_start for r in complete] == mondays
    assert bool(complete) == bool(mondays)
