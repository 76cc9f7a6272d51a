"""pages/data_health.py through AppTest: freshness per dataset, findings, cache, refresh."""

from __future__ import annotations

import pytest
from test_app import assert_clean

pytestmark = pytest.mark.slow


def test_data_health_page(app_env, open_page):
    at = open_page("pages/data_health.py")
    assert_clean(at)
    status = at.dataframe[0].value
    assert len(status) == 8
    assert set(status["state"]) == {"fresh"}
    listed = status.dropna(subset=["total_count"])
    assert (listed["rows"] == listed["total_count"]).all()
    reports = status[status["total_count"].isna()]
    assert len(reports) == 3 and reports["message"].str.contains("no total").all()
    assert any("Cache backend" in m.value for m in at.markdown)
    at.button(key="refresh_all").click().run()
    assert_clean(at)
    assert any("Caches cleared" in t.value for t in at.toast)
