"""pages/flows.py through AppTest: per-flow charts, trend with edit markers, comparison, report."""

from __future__ import annotations

import csv
import io
import os

import pytest
import requests
from test_app import assert_clean, figure_titles, figures, plain

pytestmark = pytest.mark.slow


def test_flows_page_has_charts_tables_and_the_report(app_env, open_page):
    at = open_page("pages/flows.py")
    assert_clean(at)
    titles = " | ".join(figure_titles(at)).lower()
    for expected in ("views", "completion rate", "time to complete"):
        assert expected in titles, titles
    assert len(at.dataframe) >= 3, "flows, comparison and popular-flows tables"
    labels = [b.label for b in at.download_button]
    assert "Download the report as the API's CSV" in labels
    bars = [trace for fig in figures(at) for trace in fig["data"] if trace.get("type") == "bar"]
    assert any(trace.get("x") or trace.get("y") for trace in bars), "charts carry data"


def test_choosing_another_flow_redraws_its_trend(app_env, open_page):
    at = open_page("pages/flows.py")
    picker = at.selectbox(key="flow")
    first = [t for t in figure_titles(at) if "trend" in t.lower() or "over time" in t.lower()]
    picker.select_index(1).run()
    assert_clean(at)
    second = [t for t in figure_titles(at) if "trend" in t.lower() or "over time" in t.lower()]
    assert first != second


def test_the_report_table_has_the_rows_of_the_apis_csv(app_env, sim_server, demo_account,
                                                       open_page):
    at = open_page("pages/flows.py")
    report = next(d.value for d in at.dataframe if "rank" in d.value.columns)
    start, end = at.date_input(key="start").value, at.date_input(key="end").value
    response = requests.get(
        f"{sim_server.base_url}/{demo_account.account_id}/reports/summary/mostPopularFlows",
        params={"format": "csv", "startDate": start.isoformat(), "endDate": end.isoformat()},
        headers={"x-whatfix-integration-key": demo_account.integration_key,
                 "x-whatfix-user": demo_account.user_email},
        timeout=30,
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == len(report)
    id_column = next(c for c in rows[0] if c.lower() in ("flowid", "flow_id"))
    views_column = next(c for c in rows[0] if c.lower() == "views")
    assert [r[id_column] for r in rows] == list(report["flow_id"])
    assert [int(r[views_column]) for r in rows] == [int(v) for v in report["views"]]


def test_comparison_legends_name_the_periods(app_env, open_page):
    at = open_page("pages/flows.py")
    names = {trace.get("name") for fig in figures(at) for trace in fig["data"]}
    assert "Last 30 days (29 Oct – 27 Nov 2026)" in names, names
    # A daily trend: the previous 30 days moved to the same weekdays (5 whole weeks back).
    assert "Previous 30 days, weekday-aligned (24 Sep – 23 Oct 2026)" in names, names
    # The flow trend's raw data holds the comparison window by window, beside the current one.
    raw = next(d.value for d in at.dataframe if "comparison_window_label" in d.value.columns)
    assert len(raw) == 30 and raw["comparison_window_label"].iloc[0] == "2026-09-24"
    assert {"comparison_views", "comparison_partial"} <= set(raw.columns)
    at.selectbox(key="compare").select("year").run()
    assert_clean(at)
    names = {trace.get("name") for fig in figures(at) for trace in fig["data"]}
    assert "Same period last year, weekday-aligned (30 Oct – 28 Nov 2025)" in names, names


# ------------------------------------------------------------------------- failures, explained once


def _boxes_by_section(at) -> dict[str, list[tuple[str, str]]]:
    """Subheader -> the (kind, text) of the error/info/warning boxes under it, in page order."""
    sections: dict[str, list[tuple[str, str]]] = {"": []}
    current = ""

    def walk(node) -> None:
        nonlocal current
        for child in getattr(node, "children", {}).values():
            kind = getattr(child, "type", "")
            if kind == "subheader":
                current = child.value
                sections[current] = []
            elif kind in ("error", "info", "warning", "exception"):
                text = getattr(child, "value", None) or getattr(child, "message", "")
                sections[current].append((kind, str(text)))
            walk(child)

    walk(at.main)
    return sections


@pytest.fixture()
def dying_api(monkeypatch):
    """The hostile API, pointed at by the app; it dies after answering the credential check."""
    from hostile_api import start_hostile_api

    api = start_hostile_api(die_after=1)
    for name in [n for n in os.environ if n.startswith("WHATFIX_")]:
        monkeypatch.delenv(name)
    for name, value in api.env().items():
        monkeypatch.setenv(name, value)
    try:
        yield api
    finally:
        api.stop()


def test_an_api_killed_mid_load_shows_exactly_one_error_per_section(dying_api, open_page):
    at = open_page("pages/flows.py")
    assert not at.exception
    sections = _boxes_by_section(at)
    for title in ("Flow performance", "Flow trend", "Compared with another period",
                  "Most popular flows report"):
        boxes = sections[title]
        assert [kind for kind, _ in boxes] == ["error"], (title, boxes)
        assert "unavailable" in boxes[0][1]  # the real reason
    shown = " ".join(text for boxes in sections.values() for _, text in boxes)
    assert "No flow had views" not in shown  # no empty state for a failure
    assert "unexpected error" not in shown
    assert dying_api.counts == {"/segments": 1}  # the check passed, then the API was gone


def _strings(value) -> list[str]:
    """Every string inside a JSON value (figure specs nest labels in lists and dicts)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def test_hostile_names_render_on_the_flows_page(monkeypatch, open_page):
    from hostile_api import NUL_NAME, RTL_NAME, start_hostile_api

    api = start_hostile_api()
    for name in [n for n in os.environ if n.startswith("WHATFIX_")]:
        monkeypatch.delenv(name)
    for name, value in api.env().items():
        monkeypatch.setenv(name, value)
    try:
        at = open_page("pages/flows.py")
    finally:
        api.stop()
    assert_clean(at)
    texts = set(_strings(figures(at)))  # every label, hover text and tick of every chart
    assert NUL_NAME.replace("\x00", "") in texts and RTL_NAME.replace("\u202e", "") in texts
    assert not any("\x00" in text or "\u202e" in text for text in texts)
    options = at.selectbox(key="flow").options
    assert "flow-null" in options and not any("\x00" in option for option in options)


def test_a_redis_that_stops_leaves_the_pages_working_with_a_warning(monkeypatch, app_env,
                                                                     open_page, tmp_path):
    import shutil
    import socket
    import subprocess
    import time

    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (tests/run_all.sh installs it)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.exceptions.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        monkeypatch.setenv("WHATFIX_CACHE", url)
        # The shared client of this account may have been built by an earlier test of this
        # process with another cache: start from a process that has seen this setting only.
        import streamlit as st

        from whatfix_data import datasets

        st.cache_resource.clear()
        st.cache_data.clear()
        datasets.clear_memo()
        at = open_page("pages/flows.py")
        assert_clean(at)
        assert not at.warning
        process.kill()
        process.wait(timeout=10)
        # Another range, and no in-process copy of it: the HTTP layer, and so the dead Redis, is
        # asked for every dataset.
        datasets.clear_memo()
        st.cache_data.clear()
        at.selectbox(key="range").set_value("last_90_days").run()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    warnings = [plain(w.value) for w in at.warning]
    assert len([w for w in warnings if "WHATFIX_CACHE" in w]) == 1, warnings
    assert len(figures(at)) >= 3  # the charts are there, from live requests


def test_with_a_segment_the_page_says_it_covers_all_users(app_env, open_page):
    from support import captions, pick_segment

    at = open_page("pages/flows.py")
    assert not any("does not apply to this page" in c for c in captions(at))
    name = pick_segment(at)
    assert_clean(at)
    assert any(c.startswith(f"The segment {name} does not apply to this page") and
               "flow views per flow, not per user" in c for c in captions(at)), captions(at)


def test_the_completion_rate_tab_keeps_the_worst_flows_and_states_the_cut(app_env, open_page):
    from support import captions

    at = open_page("pages/flows.py", query={"range": "Custom range", "start": "2026-07-01",
                                            "end": "2026-09-30"})
    assert_clean(at)
    rate = next(f for f in figures(at) if f["layout"]["title"]["text"] == "Completion rate by flow")
    subtitle = rate["layout"]["title"]["subtitle"]["text"]
    assert "flows with at least 100 views" in subtitle.lower()
    shown = rate["data"][0]["x"]
    assert shown == sorted(shown, reverse=True)
    assert any(c.startswith("Flows with at least 100 views are ranked") for c in captions(at))
