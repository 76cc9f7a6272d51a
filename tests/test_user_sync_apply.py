"""Preview and apply against the built-in server (whatfix_data.user_sync.preview/apply/outcomes).

Each test gets a fresh server (`sync_server`), because a sync changes its end users.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import date

import pandas as pd
import pytest

from whatfix_data import user_sync
from whatfix_data.client import WhatfixClient
from whatfix_data.config import Settings
from whatfix_data.simulator import SimulatorConfig, start_background
from whatfix_data.user_sync.apply import NOT_SENT
from whatfix_data.user_sync.preview import CREATE, UNCHANGED, UPDATE, Plan

HEADER = "userId,email,name,role,region,seats,beta"


def _line(user: dict, **changes) -> str:
    attributes = {**user["attributes"], **changes.pop("attributes", {})}
    values = {"userId": user["user_id"], "email": user["email"], "name": user["name"], **changes}
    cells = [values["userId"], values["email"], values["name"], attributes["role"],
             attributes["region"], str(attributes["seats"]), str(attributes["beta"]).lower()]
    return ",".join(cells)


def _users(client: WhatfixClient) -> list[dict]:
    return user_sync.load_current(client).end_users.to_dict("records")


def _plan(client: WhatfixClient, text: str) -> tuple[user_sync.SourceTable, Plan]:
    table = user_sync.read_upload(text.encode(), "crm.csv")
    validation = user_sync.validate(table, user_sync.guess_mapping(table.columns))
    current = user_sync.load_current(client)
    return table, user_sync.build_plan(validation, current.end_users, current.segments)


@pytest.fixture()
def client(sync_settings: Settings):
    with WhatfixClient(sync_settings) as api:
        yield api


@pytest.fixture()
def sample(client: WhatfixClient) -> str:
    """A file: 1 unchanged user, 1 role change, 1 email change, 1 new user, 2 invalid rows."""
    users = _users(client)
    promoted = next(u for u in users[3:] if u["attributes"]["role"] != "Admin")
    lines = [
        HEADER,
        _line(users[0]),                                            # row 2 unchanged
        _line(promoted, attributes={"role": "Admin"}),              # row 3 update role
        _line(users[2], email="renamed@acme.example"),              # row 4 update email
        "new-1,new1@acme.example,New One,Admin,EMEA,25,true",       # row 5 create
        "new-2,,New Two,Analyst,APAC,5,false",                      # row 6 new without email
        "new-3,broken-email,Bad,Analyst,APAC,5,false",              # row 7 invalid
    ]
    return "\n".join(lines) + "\n"


def test_preview_classifies_rows_and_names_changed_attributes(client, sample) -> None:
    _, plan = _plan(client, sample)
    actions = plan.actions.set_index("row")
    assert actions.loc[2, "action"] == UNCHANGED
    assert actions.loc[3, "action"] == UPDATE
    assert actions.loc[3, "changed_attributes"] == ["role"]
    assert actions.loc[3, "changed_fields"] == []
    assert actions.loc[4, "changed_fields"] == ["email"]
    assert actions.loc[4, "changed_attributes"] == []
    assert actions.loc[5, "action"] == CREATE
    # The API needs an email to create a user: known before sending, so the row is invalid.
    assert plan.invalid["row"].tolist() == [6, 7]
    assert "new end user needs an email" in plan.invalid.loc[0, "message"]
    assert plan.summary() == {"create": 1, "update": 2, "unchanged": 1, "invalid": 2, "total": 6}


def test_update_body_keeps_attributes_the_file_does_not_carry(client, sample) -> None:
    table = user_sync.read_upload(b"userId,plan\nac-000001,Starter2\n", "one.csv")
    validation = user_sync.validate(table, user_sync.guess_mapping(table.columns))
    current = user_sync.load_current(client)
    plan = user_sync.build_plan(validation, current.end_users, current.segments)
    body = plan.actions.loc[0, "body"]
    before = current.end_users.set_index("user_id").loc["ac-000001", "attributes"]
    assert body["attributes"] == {**before, "plan": "Starter2"}
    assert body["email"]  # the current email is sent back, not dropped


def test_segment_changes_are_predicted_per_segment(client, sample) -> None:
    _, plan = _plan(client, sample)
    changes = plan.segment_changes.set_index("name")
    # Promoting a non-admin to Admin takes them out of "Non-admin users"; the new Admin never
    # joins it.
    assert changes.loc["Non-admin users", "leaving"] == 1
    assert changes.loc["Non-admin users", "joining"] == 0
    moves = plan.segment_moves
    assert set(moves["change"]) <= {"joins", "leaves"}
    assert len(moves) == int(changes["joining"].sum() + changes["leaving"].sum())


def test_apply_gives_every_row_one_outcome_and_matches_the_preview(
        client, sample, tmp_path) -> None:
    _, plan = _plan(client, sample)
    outcomes_path = tmp_path / "outcomes.csv"
    audit_path = tmp_path / "audit.jsonl"
    recorder = user_sync.OutcomeRecorder(outcomes_path)
    audit = user_sync.AuditLog(audit_path)
    result = user_sync.apply_plan(plan, user_sync.end_user_writer(client),
                                  recorder=recorder, audit=audit, concurrency=4)
    recorder.close()
    audit.close()
    assert result.counts == {"created": 1, "updated": 2, "unchanged": 1, "invalid": 2,
                             "failed": 0}
    assert result.complete and not result.interrupted
    with outcomes_path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["row", "userId", "outcome", "message"]
    assert sorted(int(r["row"]) for r in rows) == [2, 3, 4, 5, 6, 7]
    by_row = {int(r["row"]): r for r in rows}
    assert by_row[7]["outcome"] == "invalid" and "email" in by_row[7]["message"]
    assert by_row[3]["message"] == "changed: role"
    # What the preview predicted is what the API now holds, segments included.
    after = user_sync.load_current(client)
    users = after.end_users.set_index("user_id")
    assert users.loc["new-1", "attributes"]["seats"] == 25
    assert users.loc["new-1", "attributes"]["beta"] is True
    counts = after.segments.set_index("name")["user_count"]
    expected = plan.segment_changes.set_index("name")["members_after"]
    assert (counts == expected.reindex(counts.index)).all()


def test_audit_log_has_names_but_no_values_or_credentials(
        client, sample, sync_settings, tmp_path) -> None:
    _, plan = _plan(client, sample)
    audit = user_sync.AuditLog(tmp_path / "audit.jsonl")
    user_sync.apply_plan(plan, user_sync.end_user_writer(client), audit=audit)
    audit.close()
    entries = user_sync.read_audit_log(tmp_path / "audit.jsonl")
    assert len(entries) == 3  # one per row sent
    assert {e["outcome"] for e in entries} == {"created", "updated"}
    role_change = next(e for e in entries if e["row"] == 3)
    assert role_change["changedAttributes"] == ["role"]
    assert set(role_change) == {"time", "run", "row", "userId", "outcome", "status",
                                "changedFields", "changedAttributes"}
    text = (tmp_path / "audit.jsonl").read_text()
    assert sync_settings.integration_key not in text
    assert "renamed@acme.example" not in text and "EMEA" not in text
    assert (tmp_path / "audit.jsonl").stat().st_mode & 0o077 == 0


def test_running_the_same_file_twice_sends_nothing_the_second_time(
        client, sample, sync_server) -> None:
    _, plan = _plan(client, sample)
    user_sync.apply_plan(plan, user_sync.end_user_writer(client))
    before = sync_server.stats()["byOperation"].get("upsertEndUser", 0)
    _, again = _plan(client, sample)
    result = user_sync.apply_plan(again, user_sync.end_user_writer(client))
    assert again.summary()["unchanged"] == 4
    assert result.sent == 0
    assert sync_server.stats()["byOperation"].get("upsertEndUser", 0) == before


def test_api_refusal_is_a_failed_row_with_the_api_message(client) -> None:
    table = user_sync.read_upload(b"userId,email\nu-1,a@x.com\n", "one.csv")
    validation = user_sync.validate(table, user_sync.guess_mapping(table.columns))
    plan = user_sync.build_plan(validation, pd.DataFrame(), None)
    plan.actions.at[0, "body"] = {"userId": "u-1", "email": "no-at-sign"}  # what the API refuses
    recorder = user_sync.OutcomeRecorder()
    result = user_sync.apply_plan(plan, user_sync.end_user_writer(client), recorder=recorder)
    assert result.counts["failed"] == 1
    message = recorder.frame().loc[0, "message"]
    assert "(400)" in message and "email must be a valid email address" in message


def test_interrupted_apply_accounts_for_every_row_and_resumes(client, tmp_path) -> None:
    lines = [HEADER] + [f"bulk-{i},bulk{i}@acme.example,Bulk {i},Analyst,EMEA,5,false"
                        for i in range(60)]
    text = "\n".join(lines) + "\n"
    table, plan = _plan(client, text)
    stop = threading.Event()
    outcomes_path = tmp_path / "outcomes.csv"
    recorder = user_sync.OutcomeRecorder(outcomes_path)

    def put(user_id: str, body: dict):
        if recorder.counts["created"] >= 10:
            stop.set()
        return user_sync.put_end_user(client, user_id, body)

    result = user_sync.apply_plan(plan, put, recorder=recorder, concurrency=2, stop=stop)
    recorder.close()
    assert result.interrupted
    written = pd.read_csv(outcomes_path)
    assert len(written) == 60 and written["row"].is_unique
    not_sent = written[written["message"] == NOT_SENT]
    assert len(not_sent) > 0
    assert set(written["outcome"]) <= {"created", "failed"}
    # The failed rows file uploads again as is, and only what is still missing is sent.
    retry_text = user_sync.failed_rows_csv(table, recorder.frame()).decode()
    _, retry = _plan(client, retry_text)
    assert retry.summary()["create"] == len(written[written["outcome"] == "failed"])
    # Re-running the whole file sends exactly the rows that were not applied.
    _, rerun = _plan(client, text)
    assert rerun.summary()["unchanged"] == int((written["outcome"] == "created").sum())


def test_fault_mode_every_row_accounted_and_retry_converges(tmp_path) -> None:
    server = start_background(SimulatorConfig(seed=11, users=50, today=date(2026, 11, 27),
                                              fault_rate=0.3))
    account = server.accounts[0]
    # Few retries: some rows must end 'failed' so the retry path is exercised.
    settings = Settings(base_url=server.base_url, account_id=account.account_id,
                        integration_key=account.integration_key, user=account.user_email,
                        cache="memory", retries=1, backoff_s=0.01, read_timeout_s=20.0)
    try:
        with WhatfixClient(settings, verify=False) as api:
            lines = [HEADER] + [f"f-{i},f{i}@acme.example,F {i},Analyst,EMEA,{i},false"
                                for i in range(80)]
            lines.append("f-bad,not-an-email,X,Analyst,EMEA,1,false")
            text = "\n".join(lines) + "\n"
            table, plan = _load_with_retries(api, text)
            recorder = user_sync.OutcomeRecorder()
            result = user_sync.apply_plan(plan, user_sync.end_user_writer(api), recorder=recorder,
                                          concurrency=8)
            assert sum(result.counts.values()) == 81 and result.counts["invalid"] == 1
            assert recorder.frame()["row"].is_unique
            for _ in range(10):  # retry the failed rows until none is left
                if not result.counts["failed"]:
                    break
                retry_text = user_sync.failed_rows_csv(table, recorder.frame()).decode()
                table, plan = _load_with_retries(api, retry_text)
                recorder = user_sync.OutcomeRecorder()
                result = user_sync.apply_plan(plan, user_sync.end_user_writer(api),
                                              recorder=recorder, concurrency=8)
            assert result.counts["failed"] == 0
            _, final = _load_with_retries(api, text)
            assert final.summary()["unchanged"] == 80  # the API now equals the valid rows
    finally:
        server.stop()


def _load_with_retries(api: WhatfixClient, text: str):
    """Listing under 30% faults can fail after the client's retries: try again, as a user would."""
    from whatfix_data.errors import WhatfixError

    for attempt in range(5):
        try:
            return _plan(api, text)
        except WhatfixError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def test_outcomes_file_is_streamed_while_applying(client, tmp_path) -> None:
    lines = [HEADER] + [f"s-{i},s{i}@acme.example,S {i},Analyst,EMEA,5,false" for i in range(30)]
    _, plan = _plan(client, "\n".join(lines) + "\n")
    path = tmp_path / "outcomes.csv"
    recorder = user_sync.OutcomeRecorder(path)
    seen: list[int] = []

    def put(user_id: str, body: dict):
        seen.append(len(path.read_text().splitlines()))
        return user_sync.put_end_user(client, user_id, body)

    user_sync.apply_plan(plan, put, recorder=recorder, concurrency=1)
    # No close(): an interruption would leave the file as it is now, and it is complete.
    recorder.flush()
    assert seen[0] >= 1  # the header was on disk before the first request
    assert len(path.read_text().splitlines()) == 31
    assert json.dumps(recorder.counts)  # counts are plain ints
    assert io.StringIO(path.read_text()).readline().strip() == "row,userId,outcome,message"


def test_member_mask_agrees_with_segment_membership(client) -> None:
    from whatfix_data import segments as segment_rules
    from whatfix_data.user_sync.preview import member_mask

    current = user_sync.load_current(client)
    users = current.end_users
    expected = segment_rules.membership(users, current.segments)
    for segment_id, rules in zip(current.segments["segment_id"], current.segments["rules"],
                                 strict=True):
        mask = member_mask(users["attributes"].tolist(), rules)
        members = set(users.loc[mask, "user_id"])
        assert members == set(expected.loc[expected["segment_id"] == segment_id, "user_id"])


def test_outcomes_and_audit_are_private_in_a_private_sync_folder(tmp_path) -> None:
    import os
    import stat

    env = {"WHATFIX_SYNC_DIR": str(tmp_path / "state" / "sync")}
    (tmp_path / "state").mkdir()
    os.makedirs(env["WHATFIX_SYNC_DIR"], mode=0o755)  # made by an older version: world-readable
    os.chmod(env["WHATFIX_SYNC_DIR"], 0o755)
    outcomes_path = user_sync.new_outcomes_path("crm export.csv", env)
    recorder = user_sync.OutcomeRecorder(outcomes_path)
    recorder.record(2, "u-1", "created")
    recorder.close()
    audit = user_sync.AuditLog(user_sync.default_audit_path(env))
    audit.write({"row": 2, "userId": "u-1"})
    audit.close()
    for path in (outcomes_path, user_sync.default_audit_path(env)):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    for folder in (outcomes_path.parent, user_sync.sync_dir(env)):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder
    cli_outcomes = tmp_path / "elsewhere" / "crm-outcomes.csv"  # a CLI --outcomes path
    user_sync.OutcomeRecorder(cli_outcomes).close()
    assert stat.S_IMODE(os.stat(cli_outcomes).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(cli_outcomes.parent).st_mode) == 0o700
