"""pages/task_lists.py outreach section through AppTest: choose, preview, tag, re-run."""

from __future__ import annotations

import pytest
from test_app import assert_clean

from whatfix_data import user_sync
from whatfix_data.client import WhatfixClient
from whatfix_data.config import Settings

pytestmark = pytest.mark.slow


def _tagged(server) -> set[str]:
    account = server.accounts[0]
    settings = Settings(base_url=server.base_url, account_id=account.account_id,
                        integration_key=account.integration_key, user=account.user_email,
                        cache="memory")
    with WhatfixClient(settings) as client:
        users = user_sync.load_current(client).end_users
    return {str(u) for u, a in zip(users["user_id"], users["attributes"], strict=True)
            if isinstance(a, dict) and a.get("nudge_test") == "wave-1"}


def test_preview_then_tag_then_nothing_left(make_sim_server, point_app, open_page, monkeypatch,
                                            tmp_path):
    server = make_sim_server(users=300)
    point_app(server.base_url, server.accounts[0])
    monkeypatch.setenv("WHATFIX_SYNC_DIR", str(tmp_path / "sync"))
    at = open_page("pages/task_lists.py", query={"range": "Last 90 days"})
    assert_clean(at)
    at.selectbox(key="to_bucket").set_value("half-or-more")
    at.text_input(key="to_attr_name").input("nudge_test")
    at.text_input(key="to_attr_value").input("wave-1").run()
    caption = next(c.value for c in at.caption if "users of this task list" in c.value)
    selected = int(caption.split(" ")[0].replace(",", ""))
    assert selected > 0
    at.button(key="to_preview").click().run()
    assert_clean(at)
    assert any(f"on {selected:,} of {selected:,} selected users" in m.value
               for m in at.markdown)
    assert {m.label: m.value for m in at.metric}["To tag"] == f"{selected:,}"
    at.button(key="to_apply").click().run()
    assert_clean(at)
    assert any("Tagging finished" in s.value for s in at.success)
    assert {m.label: m.value for m in at.metric}["Updated"] == f"{selected:,}"
    assert len(_tagged(server)) == selected
    at.button(key="to_preview").click().run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["To tag"] == "0" and metrics["Already tagged (not sent)"] == f"{selected:,}"
    assert at.button(key="to_apply").disabled


def test_a_bad_attribute_name_is_a_message(app_env, open_page):
    at = open_page("pages/task_lists.py")
    at.text_input(key="to_attr_name").input("email").run()
    assert not at.exception
    assert any("end-user field" in e.value.replace("\\", "") for e in at.error)
