"""The first run of an app process: the default Overview's first wave starts before the imports.

`whatfix_data.views.start_first_view` (called by app.py while `ui` is not imported yet) fetches
the Overview's KPI datasets and the segment list; the page's own loads join those fetches. Run
in fresh processes (here `ui` is imported), each with an empty memory cache, against a server
of their own, over real HTTP.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest
from test_cli_warm import APP, REPO_ROOT, TIMEOUT_S, _env

from whatfix_data import views
from whatfix_data.commands import warm as warm_command
from whatfix_data.windows import DateRange

pytestmark = pytest.mark.slow


# A new process opens the app once, as the first visitor of a new server process does; it
# prints whether the run raised and which threads it started.
FIRST_RUN = """
import json, sys, threading
from streamlit.testing.v1 import AppTest
started = []
original = threading.Thread.start
def start(thread):
    started.append(thread.name)
    return original(thread)
threading.Thread.start = start
at = AppTest.from_file(sys.argv[1], default_timeout=float(sys.argv[2]))
if len(sys.argv) > 3:
    at.query_params["ref"] = sys.argv[3]  # a link with a query: not the default view's URL
at.run()
print(json.dumps({"exception": [str(e.value) for e in at.exception],
                  "first_view": "whatfix-first-view" in started}))
"""


def _first_run(server, *query: str) -> tuple[dict, dict[str, int]]:
    """(what the run printed, the server's requests per operation during it)."""
    before = server.stats()["byOperation"]
    done = subprocess.run([sys.executable, "-c", FIRST_RUN, str(APP), str(TIMEOUT_S), *query],
                          env={**_env(server, "memory"), "WHATFIX_WARM_ON_START": "0"},
                          cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-2000:]
    after = server.stats()["byOperation"]
    spent = {name: after[name] - before.get(name, 0) for name in after
             if after[name] != before.get(name, 0)}
    return json.loads(done.stdout.strip().splitlines()[-1]), spent


def test_the_first_run_fetches_the_overview_early_and_nothing_twice(make_sim_server):
    fresh_server = make_sim_server(seed=5, users=1500)  # its counts are this test's
    early, early_requests = _first_run(fresh_server)
    assert early["exception"] == [] and early["first_view"]
    # The same first visit through a link with a query (no early fetch): a fresh process and
    # cache, so it asks the API for everything again.
    plain, plain_requests = _first_run(fresh_server, "review")
    assert plain["exception"] == [] and not plain["first_view"]
    # The page joined the early fetches: the same requests per operation, but the credential
    # check of the early fetch's own client.
    assert set(early_requests) == set(plain_requests), (early_requests, plain_requests)
    for operation, count in plain_requests.items():
        allowed = 1 if operation == "listSegments" else 0
        assert 0 <= early_requests[operation] - count <= allowed, (operation, early_requests,
                                                                   plain_requests)
    assert plain_requests["getUserTaskCompletion"] >= 2  # both periods' rows, paged


def test_no_credentials_means_no_early_fetch():
    assert views.start_first_view({}, {}) is None


def test_the_default_periods_are_the_dashboards_default_view():
    periods = views.default_periods(date(2026, 11, 27))
    assert periods == (DateRange(date(2026, 10, 29), date(2026, 11, 27)),
                       DateRange(date(2026, 9, 24), date(2026, 10, 23)))
    assert views.DEFAULT_PRESET == warm_command.DEFAULT_PRESET


def test_the_warm_fetches_the_overview_first_and_no_per_user_list_it_does_not_show():
    date_range = DateRange(date(2026, 10, 29), date(2026, 11, 27))
    first, rest = warm_command.jobs_for(date_range, "previous")
    first_names = {name for name, _ in first}
    cards, trends = views.overview_waves(views.default_periods(date(2026, 11, 27)), None)
    assert {name for name, _ in cards + trends} <= first_names
    assert "engagement" not in first_names  # the Engagement page's rows, 100 users a request
    assert "end-users" not in first_names
    assert {name for name, _ in rest} >= {"engagement", "end-users"}
