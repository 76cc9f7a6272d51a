"""Analytics on data from the built-in server over real HTTP (plain requests, no client code).

The server derives every endpoint from one per-day truth, so window totals must add up to the
range totals, and KPIs must agree with the API's own reports.
"""

from __future__ import annotations

from datetime import date

import pytest
import requests

from whatfix_data import analytics
from whatfix_data.analytics import flows as fl
from whatfix_data.analytics import self_help as sh
from whatfix_data.frames import to_frame, trend_frame
from whatfix_data.windows import DateRange, split_range

RANGE = DateRange(date(2026, 10, 1), date(2026, 11, 27))
TIMEOUT_S = 30


@pytest.fixture(scope="module")
def api(sim_server, demo_account):
    session = requests.Session()
    session.headers.update(
        {
            "x-whatfix-integration-key": demo_account.integration_key,
            "x-whatfix-user": demo_account.user_email,
        }
    )
    base = f"{sim_server.base_url}/{demo_account.account_id}"

    def get(path: str, **params) -> dict:
        response = session.get(base + path, params=params, timeout=TIMEOUT_S)
        response.raise_for_status()
        return response.json()

    yield get
    session.close()


def test_weekly_windows_add_up_to_the_range(api):
    whole = to_frame("flows", api("/analytics/flows", **RANGE.params())["data"]).frame
    windows = split_range(RANGE, "week")
    trend = trend_frame(
        [(w, to_frame("flows", api("/analytics/flows", **w.params())["data"])) for w in windows],
        "flows",
    )
    totals = fl.totals_by_window(trend)
    assert len(totals) == len(windows) and totals["partial"].tolist()[-1] is True
    assert int(totals["views"].sum()) == int(whole["views"].sum()) > 0
    assert int(totals["completions"].sum()) == int(whole["completions"].sum())

    help_whole = to_frame("self-help", api("/analytics/self-help", **RANGE.params())["data"])
    help_trend = trend_frame(
        [
            (w, to_frame("self-help", api("/analytics/self-help", **w.params())["data"]))
            for w in windows
        ],
        "self-help",
    )
    assert int(sh.totals_by_window(help_trend)["views"].sum()) == int(
        help_whole.frame["views"].sum()
    )


def test_kpis_agree_with_the_popular_flows_report(api):
    flows = to_frame("flows", api("/analytics/flows", **RANGE.params())["data"])
    report = to_frame(
        "popular-flows",
        api("/reports/summary/mostPopularFlows", format="json", **RANGE.params())["data"],
    )
    assert flows.findings == [] and report.findings == []
    items = {k.key: k for k in analytics.compute_kpis({"flows": flows})}
    assert items["flow_views"].value == int(report.frame["views"].sum())
    assert items["flow_completions"].value == int(report.frame["completions"].sum())
    best, worst = fl.best_and_worst_flows(flows.frame)
    assert len(best) and len(worst)
    assert best["completion_rate_pct"].min() >= worst["completion_rate_pct"].max()
