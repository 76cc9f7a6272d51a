"""whatfix_data.outreach against the built-in server: select a bucket, preview, apply, re-run.

Each test gets its own server: tagging changes its end users.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import FIXED_TODAY

from whatfix_data import frames, outreach, segments, user_sync
from whatfix_data.client import WhatfixClient
from whatfix_data.config import Settings
from whatfix_data.datasets import load_task_completion
from whatfix_data.errors import WhatfixError
from whatfix_data.windows import DateRange

RANGE = DateRange(FIXED_TODAY - timedelta(days=89), FIXED_TODAY)
TAG = "nudge_onboarding=2026-12"


def _settings(server, **changes) -> Settings:
    account = server.accounts[0]
    values = {"base_url": server.base_url, "account_id": account.account_id,
              "integration_key": account.integration_key, "user": account.user_email,
              "cache": "memory", "retries": 3, "backoff_s": 0.01, "read_timeout_s": 20.0}
    return Settings(**{**values, **changes})


def _retrying(call, attempts: int = 8):
    """Reads under injected faults can fail after the client's retries: try again, as a PM
    would press the button again."""
    for attempt in range(attempts):
        try:
            return call()
        except WhatfixError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _largest(tasks: pd.DataFrame, bucket: str) -> tuple[str, pd.DataFrame]:
    """The task list with the most users in ``bucket``, and those users."""
    best = None
    for list_id in tasks["task_list_id"].dropna().astype(str).unique():
        chosen = outreach.select_users(tasks, list_id, bucket)
        if best is None or len(chosen) > len(best[1]):
            best = (list_id, chosen)
    assert best is not None and len(best[1]) > 0
    return best


def _tagged(end_users: pd.DataFrame, tag: outreach.Tag) -> set[str]:
    return {str(uid) for uid, attrs in zip(end_users["user_id"], end_users["attributes"],
                                           strict=True)
            if isinstance(attrs, dict) and attrs.get(tag.name) == tag.value}


def test_selection_is_exactly_the_bucket(make_sim_server):
    server = make_sim_server(users=300)
    with WhatfixClient(_settings(server)) as client:
        tasks = load_task_completion(client, RANGE).frame
    progress = outreach.task_stats.progress(tasks)
    for bucket, wanted in outreach.BUCKETS.items():
        for list_id in progress["task_list_id"].dropna().unique():
            rows = progress[progress["task_list_id"] == list_id]
            keep = rows["tasks_left"] == 1 if wanted is None else rows["bucket"] == wanted
            expected = set(rows.loc[keep.fillna(False), "user_id"].dropna().astype(str))
            chosen = outreach.select_users(tasks, str(list_id), bucket)
            assert set(chosen["user_id"]) == expected and chosen["user_id"].is_unique


@pytest.mark.parametrize("text, match", [
    ("nudge", "name=value"), ("=x", "name=value"), ("email=x", "end-user field"),
    ("9lives=x", "cannot be used"), ("a=" + "v" * 600, "1 to 500"), ("a=x\x00y", "control"),
])
def test_bad_attributes_say_what_to_change(text, match):
    with pytest.raises(outreach.OutreachError, match=match):
        outreach.parse_attribute(text)


def test_values_are_typed_like_user_sync():
    assert outreach.parse_attribute(TAG).value == "2026-12"
    assert outreach.parse_attribute("flag=true").value is True
    assert outreach.parse_attribute("wave=3").value == 3


def test_unknown_task_list_or_bucket_is_a_clear_error(make_sim_server):
    server = make_sim_server(users=100)
    with WhatfixClient(_settings(server)) as client:
        tasks = load_task_completion(client, RANGE).frame
    with pytest.raises(outreach.OutreachError, match="task lists: tsk-"):
        outreach.select_users(tasks, "tsk-nope", outreach.ONE_LEFT)
    with pytest.raises(outreach.OutreachError, match="one-left"):
        outreach.select_users(tasks, "x", "most")


def test_preview_apply_under_faults_then_rerun_sends_nothing(make_sim_server, tmp_path):
    server = make_sim_server(users=300, fault_rate=0.2)
    tag = outreach.parse_attribute(TAG)
    with WhatfixClient(_settings(server, retries=2), verify=False) as client:
        tasks = _retrying(lambda: load_task_completion(client, RANGE).frame)
        _, selection = _largest(tasks, "half-or-more")
        current = _retrying(lambda: user_sync.load_current(client))
        assert _tagged(current.end_users, tag) == set()
        plan = outreach.build_plan(selection, tag, current)
        counts = plan.summary()
        assert counts["update"] == len(selection) and counts["total"] == len(selection)
        # The preview names the rule on the tag and how many users it would gain.
        rule = plan.segment_changes[plan.segment_changes["segment_id"]
                                    == outreach.RULE_SEGMENT_ID].iloc[0]
        assert (rule["members_now"], rule["joining"], rule["leaving"]) == (0, len(selection), 0)
        assert "nudge_onboarding" in rule["name"]
        recorder = user_sync.OutcomeRecorder(tmp_path / "outcomes.csv")
        audit = user_sync.AuditLog(tmp_path / "audit.jsonl")
        result = user_sync.apply_plan(plan, user_sync.end_user_writer(client),
                                      recorder=recorder, audit=audit, concurrency=8)
        recorder.close()
        audit.close()
        outcomes = recorder.frame()
        # One outcome per selected user, whatever the faults did.
        assert sorted(outcomes["userId"]) == sorted(selection["user_id"])
        assert outcomes["row"].is_unique and result.complete and not result.interrupted
        assert set(outcomes["outcome"]) <= {"updated", "failed"}
        for _ in range(10):  # what failed is sent again by simply running again
            current = _retrying(lambda: user_sync.load_current(client))
            rerun = outreach.build_plan(selection, tag, current)
            if not len(rerun.to_send):
                break
            assert len(rerun.to_send) <= int((outcomes["outcome"] == "failed").sum())
            recorder = user_sync.OutcomeRecorder()
            user_sync.apply_plan(rerun, user_sync.end_user_writer(client), recorder=recorder,
                                 concurrency=8)
            outcomes = recorder.frame()
        sent = []
        final = outreach.build_plan(selection, tag, current)
        user_sync.apply_plan(final, lambda uid, body: sent.append(uid) or (200, {}))
        assert sent == [] and final.summary()["unchanged"] == len(selection)
        # The attribute is on exactly those users, and a segment rule on it selects them.
        users = current.end_users
        assert _tagged(users, tag) == set(selection["user_id"])
        members = segments.membership(users, outreach.rule_segment(tag, users))
        assert set(members["user_id"]) == set(selection["user_id"])
    audited = user_sync.read_audit_log(tmp_path / "audit.jsonl")
    assert {e["userId"] for e in audited} <= set(selection["user_id"])
    assert all(e["changedAttributes"] == ["nudge_onboarding"] for e in audited)


def test_other_attributes_are_kept_and_unknown_users_skipped(make_sim_server):
    server = make_sim_server(users=200)
    tag = outreach.parse_attribute(TAG)
    with WhatfixClient(_settings(server)) as client:
        tasks = load_task_completion(client, RANGE).frame
        _, selection = _largest(tasks, outreach.ONE_LEFT)
        ghost = selection.iloc[[0]].assign(user_id="ghost-user")
        selection = pd.concat([selection, ghost], ignore_index=True)
        before = user_sync.load_current(client)
        plan = outreach.build_plan(selection, tag, before)
        assert plan.summary()["invalid"] == 1
        assert plan.invalid["message"].tolist() == [outreach.NOT_AN_END_USER]
        user_sync.apply_plan(plan, user_sync.end_user_writer(client))
        after = user_sync.load_current(client).end_users.set_index("user_id")["attributes"]
    old = before.end_users.set_index("user_id")["attributes"]
    for uid in selection["user_id"][:-1]:
        assert after[uid] == {**old[uid], tag.name: tag.value}
    assert "ghost-user" not in after.index


# ------------------------------------------------------------------ properties on random data

task_rows = st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["tl-a", "tl-b"]),
                               st.integers(0, 6), st.integers(1, 6)), max_size=60)


def _tasks_frame(rows) -> pd.DataFrame:
    frame = frames.empty_frame("task-completion")
    records = [{"user_id": f"u{u}", "user_email": f"u{u}@x.example", "task_list_id": tl,
                "task_list_name": tl.upper(), "completed_tasks": min(done, total),
                "total_tasks": total, "completion_rate_pct": None,
                "last_activity_at": pd.Timestamp("2026-11-01", tz="UTC")}
               for u, tl, done, total in rows]
    return pd.concat([frame, pd.DataFrame(records)], ignore_index=True).astype(frame.dtypes)


@settings(max_examples=40, deadline=None)
@given(rows=task_rows, bucket=st.sampled_from(list(outreach.BUCKETS)),
       tagged=st.sets(st.integers(0, 30)), missing=st.sets(st.integers(0, 30)))
def test_every_selected_user_gets_exactly_one_action(rows, bucket, tagged, missing):
    tasks = _tasks_frame(rows)
    if "tl-a" not in set(tasks["task_list_id"]):
        with pytest.raises(outreach.OutreachError):
            outreach.select_users(tasks, "tl-a", bucket)
        return
    selection = outreach.select_users(tasks, "tl-a", bucket)
    progress = outreach.task_stats.progress(tasks)
    mine = progress[progress["task_list_id"] == "tl-a"]
    wanted = outreach.BUCKETS[bucket]
    keep = mine["tasks_left"] == 1 if wanted is None else mine["bucket"] == wanted
    assert set(selection["user_id"]) == set(mine.loc[keep.fillna(False), "user_id"])
    tag = outreach.parse_attribute(TAG)
    ids = [i for i in range(31) if i not in missing]
    end_users = pd.DataFrame({
        "user_id": pd.array([f"u{i}" for i in ids], dtype="string"),
        "email": pd.array([f"u{i}@x.example" for i in ids], dtype="string"),
        "name": pd.array([None] * len(ids), dtype="string"),
        "attributes": pd.Series([{"role": "x", **({tag.name: tag.value} if i in tagged else {})}
                                 for i in ids], dtype=object),
    })
    current = user_sync.CurrentState(end_users, frames.empty_frame("segments"), None)
    plan = outreach.build_plan(selection, tag, current)
    counts = plan.summary()
    chosen = {int(u[1:]) for u in selection["user_id"]}
    assert counts["invalid"] == len(chosen & missing)
    assert counts["unchanged"] == len((chosen - missing) & tagged)
    assert counts["update"] == len(chosen - missing - tagged)
    assert counts["create"] == 0 and counts["total"] == len(chosen)
    for body in plan.to_send["body"]:
        assert body["attributes"] == {"role": "x", tag.name: tag.value}
