"""pages/overview.py through AppTest: KPI cards with deltas, trends, best and worst flows."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from test_app import assert_clean, figure_titles, figures, metric_values

pytestmark = pytest.mark.slow

KPIS = {"Flow views", "Flow completions", "Flow completion rate", "Active users", "Self-help views",
        "Finished task-list enrolments"}


def test_overview_shows_kpis_trends_and_best_flows(app_env, open_page):
    at = open_page("pages/overview.py")
    assert_clean(at)
    assert set(metric_values(at)) == KPIS
    assert all(m.delta for m in at.metric), "deltas against the previous period"
    assert "%" in metric_values(at)["Flow completion rate"]
    titles = " | ".join(figure_titles(at))
    for expected in ("views", "completion rate", "active users", "self-help", "best"):
        assert expected in titles.lower(), titles
    labels = [b.label for b in at.download_button]
    assert "PNG" in labels and "SVG" in labels and "Download XLSX" in labels


def test_the_sections_keep_their_order_though_the_trends_are_drawn_last(app_env, open_page):
    """The trends (the second wave of data) are drawn after the sections below them, into a
    place kept for them: on the page they still come between the targets and the best flows,
    and their charts before the best-and-worst chart."""
    at = open_page("pages/overview.py")
    assert_clean(at)
    headers = [h.value for h in at.subheader]
    wanted = ["Targets", "Trends", "Best and worst flows", "Notes on the charts", "Review pack"]
    assert [h for h in headers if h in wanted] == wanted, headers
    titles = [t.lower() for t in figure_titles(at)]
    best = next(i for i, t in enumerate(titles) if "best" in t)
    trend_charts = [i for i, t in enumerate(titles) if "self-help views" in t or "active users"
                    in t]
    assert trend_charts and max(trend_charts) < best, titles


def test_no_comparison_means_no_deltas(app_env, open_page):
    at = open_page("pages/overview.py", query={"compare": "No comparison"})
    assert_clean(at)
    assert not any(m.delta for m in at.metric)


def test_the_review_pack_is_built_on_one_click(app_env, open_page):
    at = open_page("pages/overview.py")
    at.radio(key="pack_format").set_value("zip")
    at.button(key="pack_build").click().run()
    assert_clean(at)
    download = [b for b in at.download_button if b.label.startswith("Download the")]
    assert [b.label for b in download] == ["Download the ZIP of charts (PNG, SVG) and tables (CSV)"]


def _pack_caption(at) -> str:
    return next(c.value for c in at.caption if c.value.startswith("A deck for your review"))


def test_the_review_pack_caption_names_the_chosen_segment(app_env, open_page):
    at = open_page()
    assert "It covers all users." in _pack_caption(at)
    segment = at.selectbox(key="segment")
    name = segment.options[1]
    segment.select_index(1).run()
    assert_clean(at)
    caption = _pack_caption(at).replace("\\", "")  # names are markdown-escaped
    assert f"limited to the segment **{name}**" in caption
    assert "all users" in caption  # the active-users trend still counts everyone


def _trend(at, title: str) -> dict:
    return next(fig for fig in figures(at) if fig["layout"]["title"]["text"].startswith(title))


def _caption(at, start: str) -> str:
    return next(c.value for c in at.caption if c.value.startswith(start))


def test_last_quarter_monthly_pairs_july_with_april(app_env, open_page):
    at = open_page("pages/overview.py",
                   query={"range": "Last quarter", "gran": "Monthly"})
    assert_clean(at)
    assert _caption(at, "Last quarter") == (
        "Last quarter (1 Jul – 30 Sep 2026) vs previous quarter (1 Apr – 30 Jun 2026)")
    fig = _trend(at, "Flow views and completions over time")
    current = next(t for t in fig["data"] if t["name"] == "Flow views")
    compared = [t for t in fig["data"] if (t.get("meta") or {}).get("comparison")]
    assert current["x"] == ["2026-07-01", "2026-08-01", "2026-09-01"]
    assert len(compared) == 2  # views and completions of the previous quarter
    for trace in compared:
        assert trace["x"] == current["x"]  # drawn under July, August, September
        assert [c[0] for c in trace["customdata"]] == ["2026-04", "2026-05", "2026-06"]
    assert "Previous quarter (1 Apr – 30 Jun 2026)" in compared[0]["name"]
    # Same period last year: July faces July of 2025.
    at.selectbox(key="compare").set_value("year").run()
    assert_clean(at)
    fig = _trend(at, "Flow views and completions over time")
    compared = [t for t in fig["data"] if (t.get("meta") or {}).get("comparison")]
    assert [c[0] for c in compared[0]["customdata"]] == ["2025-07", "2025-08", "2025-09"]


def test_a_range_before_the_data_says_no_data_yet(app_env, open_page, make_settings):
    from whatfix_data.analytics.comparison import data_start
    from whatfix_data.client import WhatfixClient
    from whatfix_data.datasets import load_content
    from whatfix_data.windows import format_day

    with WhatfixClient(make_settings()) as client:
        begins = data_start(load_content(client).frame)
    early = {"range": "Custom range", "start": "2015-02-01", "end": "2015-02-28"}
    at = open_page("pages/overview.py", query=early)
    assert_clean(at)
    notes = {m.label: m.delta for m in at.metric}
    assert set(notes.values()) == {f"No data yet (from {format_day(begins)})"}, notes
    sentence = f"No data yet: the account's data begins on {format_day(begins)}."
    assert all(m.help.startswith(sentence) for m in at.metric)
    # A range just after the data begins: its comparison starts before it, so no percentage.
    start, end = begins + timedelta(days=20), begins + timedelta(days=40)
    at = open_page("pages/overview.py", query={"range": "Custom range", "start": start.isoformat(),
                                               "end": end.isoformat()})
    assert_clean(at)
    deltas = {m.label: m.delta for m in at.metric}
    assert set(deltas.values()) == {"Comparison starts before data"}, deltas  # no "+205 %"
    assert all("starts before the account's data" in m.help for m in at.metric)


def test_one_day_ranks_consistently_and_says_daily(app_env, open_page):
    # A quiet Sunday of the demo data: some flow views, no flow with enough of them to rank.
    day = {"range": "Custom range", "start": "2026-11-22", "end": "2026-11-22"}
    at = open_page("pages/overview.py", query=day)
    assert_clean(at)
    assert "Automatic: daily for 1 day." in [c.value for c in at.sidebar.caption]
    views = metric_values(at)["Flow views"]
    assert views != "0"
    best = _trend(at, "Best and worst flows")
    message = " ".join(a["text"] for a in best["layout"]["annotations"])
    # Nothing ranked, and the message agrees with the KPI card instead of "No flow views".
    assert f"{views} flow views in this range" in message, message
    # The caption under Automatic follows the range: 7 days after one day.
    at.selectbox(key="range").set_value("last_7_days").run()
    assert "Automatic: daily for 7 days." in [c.value for c in at.sidebar.caption]
    at.selectbox(key="range").set_value("last_90_days").run()
    assert "Automatic: weekly for 90 days." in [c.value for c in at.sidebar.caption]


def test_with_a_segment_every_number_says_whom_it_covers(app_env, open_page):
    from support import SEGMENT_NOT_APPLIED, captions, kpi_scopes, pick_segment

    from whatfix_data import glossary

    at = open_page()
    assert set(kpi_scopes(at).values()) == {"All users"}
    name = pick_segment(at)
    assert_clean(at)
    scopes = kpi_scopes(at)
    assert set(scopes) == KPIS
    for label in ("Active users", "Finished task-list enrolments"):
        assert scopes[label] == f"Segment: {name}"
    for label in ("Flow views", "Flow completions", "Flow completion rate", "Self-help views"):
        assert scopes[label].startswith(SEGMENT_NOT_APPLIED), scopes[label]
    shown = captions(at)
    # Each trend tab says whom it counts: the active-users trend is the segment's own.
    assert shown.count(f"Segment: {name}") == 3, shown
    assert sum(c.startswith(SEGMENT_NOT_APPLIED) for c in shown) >= 7, shown
    assert any("Per-user numbers here are limited to the segment" in c for c in shown)
    # Every card carries its one-sentence definition as help.
    definitions = {t.name: t.definition for t in glossary.TERMS}
    for metric in at.metric:
        assert metric.help.startswith(definitions[metric.label])


def test_the_best_and_worst_flows_state_the_minimum_views(app_env, open_page, monkeypatch):
    from support import captions

    monkeypatch.setenv("WHATFIX_MIN_FLOW_VIEWS", "150")
    at = open_page(query={"range": "Custom range", "start": "2026-07-01", "end": "2026-09-30"})
    assert_clean(at)
    assert any(c.startswith("Flows with at least 150 views are ranked") for c in captions(at))
    best_worst = next(f for f in figures(at) if f["layout"]["title"]["text"].startswith("Best"))
    assert "Flows with at least 150 views" in best_worst["layout"]["title"]["subtitle"]["text"]
    shown = [views for table in at.dataframe if "flow_name" in table.value
             for views in table.value["views"].tolist()]
    assert shown and min(shown) >= 150


def test_without_a_segment_the_active_users_card_is_one_request_per_period(
        make_sim_server, point_app, open_page, make_settings):
    from whatfix_data.analytics.kpis import active_users
    from whatfix_data.client import WhatfixClient
    from whatfix_data.datasets import load_engagement
    from whatfix_data.windows import DateRange, comparison_range, split_range

    server = make_sim_server(users=3000)  # its own scope: nothing of it is cached yet
    point_app(server.base_url, server.accounts[0])
    days = {"range": "Custom range", "start": "2026-11-01", "end": "2026-11-14", "gran": "Daily",
            "compare": "Previous period"}
    at = open_page("pages/overview.py", query=days)
    assert_clean(at)
    current = DateRange(date(2026, 11, 1), date(2026, 11, 14))
    before = comparison_range(current, "previous", granularity="day")
    engagement_requests = server.stats()["byOperation"].get("getEndUserEngagement", 0)
    with WhatfixClient(make_settings(server)) as client:
        now, then = (load_engagement(client, r).frame for r in (current, before))
    pages = -(-len(now) // 100) + -(-len(then) // 100)
    assert pages > 2, "the lists are long enough that their pages would show"
    windows = len(split_range(current, "day")) + len(split_range(before, "day"))
    # The daily active-users trend (one request per window) and one count per period.
    assert engagement_requests == windows + 2
    card = next(m for m in at.metric if m.label == "Active users")
    assert card.value == f"{active_users(now):,}"  # the API's count is the listed users
    change = active_users(now) - active_users(then)
    assert card.delta.startswith("+" if change >= 0 else "-"), (card.delta, change)
    assert "in the period" in card.help  # what it counts; the caption names the period
    assert any(current.label() in c.value for c in at.caption), "the page says which period"


def test_with_a_segment_the_active_users_card_counts_its_members(
        make_sim_server, point_app, open_page, make_settings):
    from support import pick_segment

    from whatfix_data import segments as segment_rules
    from whatfix_data.analytics.kpis import active_users
    from whatfix_data.client import WhatfixClient
    from whatfix_data.datasets import load_end_users, load_engagement, load_segments
    from whatfix_data.windows import DateRange

    server = make_sim_server(users=600)
    point_app(server.base_url, server.accounts[0])
    at = open_page("pages/overview.py", query={"range": "Custom range",
                                               "start": "2026-11-01", "end": "2026-11-14",
                                               "compare": "No comparison"})
    name = pick_segment(at)
    assert_clean(at)
    with WhatfixClient(make_settings(server)) as client:
        segs = load_segments(client).frame
        members = segment_rules.membership(load_end_users(client).frame, segs)
        engagement = load_engagement(client, DateRange(date(2026, 11, 1),
                                                       date(2026, 11, 14))).frame
    segment_id = segs.loc[segs["name"] == name, "segment_id"].iloc[0]
    expected = active_users(segment_rules.filter_to_segment(engagement, members, segment_id))
    assert metric_values(at)["Active users"] == f"{expected:,}"
