"""User Sync page, finished for the browser: old and new values in the preview; after an apply
the outcomes and this run's audit entries are downloads, and no server path is shown."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from whatfix_data import user_sync
from whatfix_data.client import WhatfixClient
from whatfix_data.config import Settings

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "user_sync.py")
TIMEOUT_S = 60


@pytest.fixture()
def page_env(monkeypatch, tmp_path, sync_server, sync_settings: Settings):
    account = sync_server.accounts[0]
    for name in [n for n in os.environ if n.startswith("WHATFIX_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("WHATFIX_BASE_URL", sync_server.base_url)
    monkeypatch.setenv("WHATFIX_ACCOUNT_ID", account.account_id)
    monkeypatch.setenv("WHATFIX_INTEGRATION_KEY", account.integration_key)
    monkeypatch.setenv("WHATFIX_USER", account.user_email)
    monkeypatch.setenv("WHATFIX_CACHE", "memory")
    monkeypatch.setenv("WHATFIX_SYNC_DIR", str(tmp_path / "sync"))
    with WhatfixClient(sync_settings) as client:
        return user_sync.load_current(client).end_users.to_dict("records")


def _button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def test_preview_old_and_new_values_then_downloads_not_paths(page_env, tmp_path) -> None:
    user = next(u for u in page_env if u["attributes"].get("role") != "Admin")
    old_role = user["attributes"]["role"]
    data = (f"userId,name,role\n{user['user_id']},New Name,Admin\n"
            "n-1,,Analyst\n").encode()
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT_S)
    at.run()
    at.file_uploader(key="us_upload").set_value(("crm.csv", data, "text/csv"))
    at.run()
    _button(at, "us_preview").click().run()
    assert not at.exception and not at.error
    values = next(d.value for d in at.dataframe if "old_value" in d.value.columns)
    changed = values.set_index("field")
    assert changed.loc["role", "old_value"] == old_role
    assert changed.loc["role", "new_value"] == "Admin"
    assert changed.loc["name", "old_value"] == user["name"]
    assert changed.loc["name", "new_value"] == "New Name"
    assert set(values["user_id"]) == {user["user_id"]}  # n-1 has no email: invalid, not sent
    _button(at, "us_apply").click().run()
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert "Download outcomes CSV" in labels and "Download audit entries (JSON lines)" in labels
    shown = " ".join([c.value for c in at.caption] + [m.value for m in at.markdown])
    assert str(tmp_path) not in shown, "a server path means nothing to a browser user"
    stored = at.session_state["us_result"]
    entries = [json.loads(line) for line in user_sync.audit_run_jsonl(
        stored["audit_path"], stored["audit_run"]).decode().splitlines()]
    assert [(e["userId"], e["outcome"]) for e in entries] == [(user["user_id"], "updated")]
    assert set(stored["outcomes"]["outcome"]) == {"updated", "invalid"}


def test_value_changes_cover_exactly_the_changed_fields(page_env) -> None:
    user = page_env[0]
    seats = user["attributes"].get("seats")
    text = (f"userId,email,seats,beta\n{user['user_id']},{user['email']},"
            f"{(seats or 0) + 1},{str(not user['attributes'].get('beta')).lower()}\n"
            "new-9,new9@acme.example,3,true\n")
    table = user_sync.read_upload(text.encode(), "x.csv")
    validation = user_sync.validate(table, user_sync.guess_mapping(table.columns))
    plan = user_sync.build_plan(validation, pd.DataFrame(page_env))
    frame = user_sync.value_changes(plan)
    mine = frame[frame["user_id"] == user["user_id"]].set_index("field")
    assert set(mine.index) == {"seats", "beta"}
    assert mine.loc["seats", "new_value"] == str((seats or 0) + 1)
    new = frame[frame["user_id"] == "new-9"].set_index("field")
    assert (new["old_value"] == "").all() and new.loc["beta", "new_value"] == "true"
