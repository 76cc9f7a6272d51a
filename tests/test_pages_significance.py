"""Real change or noise on the pages (AppTest): every KPI delta says whether it is larger than
chance, the flow comparison has verdict columns, the method is one sentence in the help, and
the best/worst lists name their minimum number of views."""

from __future__ import annotations

import pytest
from streamlit.proto.Metric_pb2 import Metric
from test_app import assert_clean, plain

from whatfix_data.significance import METHOD, SHORT_WORDS

pytestmark = pytest.mark.slow


def test_kpi_deltas_carry_a_verdict_and_the_method(app_env, open_page):
    at = open_page("pages/overview.py")
    assert_clean(at)
    deltas = [m for m in at.metric if m.delta]
    assert len(deltas) == 6
    for metric in deltas:
        assert any(metric.delta.endswith(f"· {word}") for word in SHORT_WORDS.values()), \
            metric.delta
        assert METHOD in plain(metric.proto.help)
        if not metric.delta.endswith("real change"):  # noise is drawn grey, not as news
            assert metric.proto.color == Metric.MetricColor.GRAY
    captions = " ".join(plain(c.value) for c in at.caption)
    assert "Flows with at least 100 views are ranked" in captions


def test_minimum_views_setting_is_shown(app_env, open_page, monkeypatch):
    monkeypatch.setenv("WHATFIX_MIN_FLOW_VIEWS", "45")
    at = open_page("pages/overview.py")
    captions = " ".join(plain(c.value) for c in at.caption)
    assert "Flows with at least 45 views are ranked" in captions


def test_flow_comparison_has_verdict_columns(app_env, open_page):
    at = open_page("pages/flows.py")
    assert_clean(at)
    compared = next(d.value for d in at.dataframe if "views_previous" in d.value.columns)
    assert {"views_verdict", "completion_rate_verdict"} <= set(compared.columns)
    verdicts = set(compared["completion_rate_verdict"].dropna())
    assert verdicts and all(v.startswith(("real change", "within noise")) or
                            v.endswith("too few to judge") for v in verdicts)
    assert any(METHOD in plain(c.value) for c in at.caption)
