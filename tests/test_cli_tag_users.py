"""`python -m whatfix_data tag-users` against a built-in server: dry run, apply, re-run, errors."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from support import FIXED_TODAY

from whatfix_data import cli, outreach, user_sync
from whatfix_data.client import WhatfixClient
from whatfix_data.config import Settings
from whatfix_data.datasets import load_task_completion
from whatfix_data.windows import DateRange

START = "2026-09-01"


@pytest.fixture()
def server_env(make_sim_server, monkeypatch, tmp_path):
    server = make_sim_server(users=300)
    account = server.accounts[0]
    for name in [n for n in os.environ if n.startswith("WHATFIX_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("WHATFIX_BASE_URL", server.base_url)
    monkeypatch.setenv("WHATFIX_ACCOUNT_ID", account.account_id)
    monkeypatch.setenv("WHATFIX_INTEGRATION_KEY", account.integration_key)
    monkeypatch.setenv("WHATFIX_USER", account.user_email)
    monkeypatch.setenv("WHATFIX_CACHE", "memory")
    monkeypatch.setenv("WHATFIX_TODAY", FIXED_TODAY.isoformat())
    monkeypatch.setenv("WHATFIX_SYNC_DIR", str(tmp_path / "sync"))
    monkeypatch.chdir(tmp_path)
    settings = Settings(base_url=server.base_url, account_id=account.account_id,
                        integration_key=account.integration_key, user=account.user_email,
                        cache="memory")
    return settings


def _one_left_list(settings: Settings) -> tuple[str, set[str]]:
    with WhatfixClient(settings) as client:
        tasks = load_task_completion(client, DateRange.from_iso(START, FIXED_TODAY)).frame
    best = ("", set())
    for list_id in tasks["task_list_id"].dropna().astype(str).unique():
        users = set(outreach.select_users(tasks, list_id)["user_id"])
        if len(users) > len(best[1]):
            best = (list_id, users)
    assert best[1]
    return best


def _tagged(settings: Settings) -> set[str]:
    with WhatfixClient(settings) as client:
        users = user_sync.load_current(client).end_users
    return {str(u) for u, a in zip(users["user_id"], users["attributes"], strict=True)
            if isinstance(a, dict) and a.get("nudge_onboarding") == "2026-12"}


def test_dry_run_then_apply_then_rerun(server_env, tmp_path, capsys):
    list_id, users = _one_left_list(server_env)
    args = ["tag-users", "--task-list", list_id, "--attribute", "nudge_onboarding=2026-12",
            "--start", START, "--quiet"]
    assert cli.main([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"{len(users)} users of task list {list_id}" in out
    assert f"on {len(users)} of {len(users)} selected users" in out
    assert "New rule nudge_onboarding" in out and f"+{len(users)} joining" in out
    assert _tagged(server_env) == set()
    outcomes = tmp_path / "out.csv"
    assert cli.main([*args, "--outcomes", str(outcomes), "--audit-log",
                     str(tmp_path / "audit.jsonl")]) == 0
    written = pd.read_csv(outcomes, dtype=str)
    assert set(written["userId"]) == users and set(written["outcome"]) == {"updated"}
    assert _tagged(server_env) == users
    assert cli.main([*args, "--outcomes", str(tmp_path / "again.csv")]) == 0
    again = pd.read_csv(tmp_path / "again.csv", dtype=str)
    assert set(again["outcome"]) == {"unchanged"} and len(again) == len(users)


@pytest.mark.parametrize("extra, code, message", [
    (["--task-list", "tsk-nope", "--attribute", "a=b"], 1, "No task list"),
    (["--task-list", "x", "--attribute", "email=b"], 2, "end-user field"),
    (["--task-list", "x", "--attribute", "a=b", "--start", "2026-13-01"], 2, "not a valid date"),
])
def test_bad_input_is_one_line(server_env, capsys, extra, code, message):
    assert cli.main(["tag-users", *extra]) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
