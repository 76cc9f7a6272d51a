"""Targets in the dashboard through AppTest: set on the Overview and on Flows, shown in the
tables, on the charts and in the breach list, deleted; bad input gives one clear message."""

from __future__ import annotations

import pytest
from test_app import assert_clean, errors, figures, plain

pytestmark = pytest.mark.slow


@pytest.fixture()
def targets_env(app_env, monkeypatch, tmp_path):
    """The app on the session server, with its own store file."""
    monkeypatch.setenv("WHATFIX_STORE", str(tmp_path / "store.sqlite"))
    return tmp_path / "store.sqlite"


def _set_kpi_target(at, metric: str, text: str, per: str = "range"):
    at.selectbox(key="ov_target_metric").set_value(metric)
    at.text_input(key="ov_target_threshold").input(text)
    at.radio(key="ov_target_per").set_value(per)
    at.button(key="ov_target_save").click().run()
    return at


def _target_lines(fig: dict) -> list[dict]:
    return [s for s in fig["layout"].get("shapes", []) if s.get("name") == "target"]


def _targets_table(at):
    frames = [d.value for d in at.dataframe if "target" in d.value.columns
              and "status" in d.value.columns]
    return frames[0] if frames else None


@pytest.mark.parametrize("text, message", [("abc", "is not a number"),
                                           ("140", "between 0 and 100"),
                                           ("", "as a number")])
def test_bad_targets_give_one_clear_message(targets_env, open_page, text, message):
    at = _set_kpi_target(open_page("pages/overview.py"), "completion_rate", text)
    assert not at.exception
    assert message in errors(at) and len(at.error) == 1
    assert _targets_table(at) is None  # nothing saved


def test_set_show_and_delete_a_kpi_target(targets_env, open_page):
    at = _set_kpi_target(open_page("pages/overview.py"), "completion_rate", "99")
    assert_clean(at)
    saved = [plain(s.value) for s in at.success]
    assert any("Target saved: Completion rate at least 99.0 %" in text for text in saved)
    table = _targets_table(at)
    assert list(table["target"]) == ["Completion rate at least 99.0 %"]
    assert list(table["status"]) == ["breached"]
    assert any("1 target breach(es) in this range" in plain(w.value) for w in at.warning)
    rate_chart = [f for f in figures(at) if "completion rate" in
                  f["layout"].get("title", {}).get("text", "").lower() and _target_lines(f)]
    assert rate_chart and _target_lines(rate_chart[0])[0]["y0"] == 99.0
    # Delete it: the table, the warning and the line are gone.
    at.button(key="ov_targets_delete_completion_rate|").click().run()
    assert_clean(at)
    assert _targets_table(at) is None
    assert not any(_target_lines(f) for f in figures(at))


def test_a_met_weekly_target_is_listed_as_met(targets_env, open_page):
    at = _set_kpi_target(open_page("pages/overview.py"), "flow_views", "1", per="week")
    assert_clean(at)
    table = _targets_table(at)
    assert set(table["status"]) == {"met"} and len(table) >= 1
    assert any("Every target is met" in plain(s.value) for s in at.success)


def test_flow_target_on_the_flows_page(targets_env, open_page):
    at = open_page("pages/flows.py")
    flow_id = at.selectbox(key="flow").value
    at.selectbox(key="flow_target_metric").set_value("completion_rate")
    at.text_input(key="flow_target_threshold").input("100")
    at.button(key="flow_target_save").click().run()
    assert_clean(at)
    flows_table = next(d.value for d in at.dataframe if "avg_time_to_complete_s" in d.value
                       and "target" in d.value.columns)
    flagged = flows_table.set_index("flow_id").loc[flow_id, "target"]
    assert flagged.startswith("breached: Completion rate at least 100.0 %")
    # The trend of the flow, shown as completion rate, has the line at 100.
    at.radio(key="trend_metric").set_value("completion_rate_pct").run()
    trend = [f for f in figures(at) if _target_lines(f)]
    assert trend and _target_lines(trend[0])[0]["y0"] == 100.0
    # The Overview lists the flow's breach too.
    at.switch_page("pages/overview.py")
    at.run()
    table = _targets_table(at)
    assert any(a.startswith("flow '") for a in table["applies_to"])


def test_a_broken_store_is_one_message_and_the_charts_stay(app_env, open_page, monkeypatch,
                                                            tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("WHATFIX_STORE", str(blocker / "store.sqlite"))
    at = open_page("pages/overview.py")
    assert not at.exception
    assert len(at.error) == 1 and "WHATFIX_STORE" in errors(at)
    assert len(figures(at)) >= 4  # the trends and best/worst are still drawn
