"""`python -m whatfix_data alerts`: real processes against the built-in server, as cron runs
them, with a real SMTP server and a webhook receiver on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import FIXED_TODAY, SMTP_PASSWORD

from whatfix_data import targets as T

REPO = Path(__file__).resolve().parents[1]
CLI_TIMEOUT_S = 120
# FIXED_TODAY is Friday 27 Nov 2026: the last complete ISO week is 16-22 Nov.
LAST_WEEK = "16 Nov – 22 Nov 2026"  # the one date style (windows.DateRange.label)


@pytest.fixture()
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.sqlite"


@pytest.fixture()
def set_targets(make_settings, store_path):
    """set_targets(*targets): the account's targets, as the dashboard would store them."""

    def _set(*targets: T.Target) -> None:
        store = T.TargetStore(make_settings(store=str(store_path)))
        for target in targets:
            store.save(target)

    return _set


@pytest.fixture()
def run_alerts(sim_server, demo_account, store_path, tmp_path):
    """run_alerts(*args, extra_env=None) -> CompletedProcess of `python -m whatfix_data alerts`."""

    def _run(*args: str, extra_env: dict[str, str] | None = None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("WHATFIX_")}
        env.update(
            PYTHONPATH=str(REPO), WHATFIX_BASE_URL=sim_server.base_url,
            WHATFIX_ACCOUNT_ID=demo_account.account_id,
            WHATFIX_INTEGRATION_KEY=demo_account.integration_key,
            WHATFIX_USER=demo_account.user_email, WHATFIX_CACHE="memory",
            WHATFIX_TODAY=FIXED_TODAY.isoformat(), WHATFIX_STORE=str(store_path),
            WHATFIX_WEBHOOK_TIMEOUT_S="1", **(extra_env or {}),
        )
        return subprocess.run([sys.executable, "-m", "whatfix_data", "alerts", *args],
                              cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=CLI_TIMEOUT_S)

    return _run


BREACHED = T.make_target("completion_rate", "99")          # no week of the demo gets there
MET = T.make_target("flow_views", "1", per="week")          # every week has views


def test_breached_and_met_targets(run_alerts, set_targets):
    set_targets(BREACHED, MET)
    result = run_alerts()
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("BREACHED: Completion rate at least 99.0 % (whole account) — ")
    assert lines[0].endswith(f"in {LAST_WEEK}")
    assert f"2 target(s) checked over {LAST_WEEK}: 1 breach(es)." in result.stderr


def test_no_breach_exits_zero(run_alerts, set_targets):
    set_targets(MET)
    result = run_alerts("--since", "2026-11-02", "--until", "2026-11-22")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_no_targets_says_where_to_set_them(run_alerts):
    result = run_alerts()
    assert result.returncode == 0 and "No targets are set" in result.stderr


def test_each_breach_is_posted_once(run_alerts, set_targets, webhook_receiver):
    set_targets(BREACHED, MET)
    receiver = webhook_receiver("ok")
    first = run_alerts("--webhook", receiver.url)
    second = run_alerts("--webhook", receiver.url)
    assert (first.returncode, second.returncode) == (1, 1)
    assert len(receiver.received) == 1  # the second run printed it but did not post it again
    (body,) = receiver.received
    assert [b["target"] for b in body["breaches"]] == ["Completion rate at least 99.0 %"]
    assert body["period"] == {"start": "2026-11-16", "end": "2026-11-22"}
    assert body["breaches"][0]["value"] < 99 and "Completion rate" in body["text"]
    assert second.stdout == first.stdout  # still listed: the breach is still there


@pytest.mark.parametrize("mode, message", [("error", "answered HTTP 500"),
                                           ("slow", "did not answer within 1 s")])
def test_failed_post_is_retried_next_run(run_alerts, set_targets, webhook_receiver, mode,
                                         message):
    set_targets(BREACHED)
    failing = webhook_receiver(mode, delay_s=3)
    result = run_alerts("--webhook", failing.url)
    assert result.returncode == 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and message in errors[0] and "retried on the next run" in errors[0]
    assert "Traceback" not in result.stderr and "secret-path" not in result.stderr
    working = webhook_receiver("ok")
    retried = run_alerts("--webhook", working.url)
    assert retried.returncode == 1 and len(working.received) == 1


def test_alert_email_once_and_refused_login_retried(run_alerts, set_targets, smtp_server):
    set_targets(BREACHED, MET)
    refused = run_alerts("--email", "pm@acme.example",
                         extra_env=smtp_server.env(password="not-the-password"))
    assert refused.returncode == 3 and "refused the login" in refused.stderr
    assert "not-the-password" not in refused.stderr + refused.stdout
    assert "Traceback" not in refused.stderr and smtp_server.messages == []
    sent = run_alerts("--email", "pm@acme.example", extra_env=smtp_server.env())
    again = run_alerts("--email", "pm@acme.example", extra_env=smtp_server.env())
    assert (sent.returncode, again.returncode) == (1, 1)
    (message,) = smtp_server.messages  # the second run sent nothing new
    assert message["To"] == "pm@acme.example"
    assert "1 target(s) breached" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "BREACHED: Completion rate at least 99.0 %" in body and "Flow views" not in body
    assert SMTP_PASSWORD.encode() not in smtp_server.envelopes[0].content


def test_sent_log_holds_no_secret(run_alerts, set_targets, smtp_server, store_path):
    set_targets(BREACHED)
    run_alerts("--email", "pm@acme.example", extra_env=smtp_server.env())
    raw = store_path.read_bytes()
    assert SMTP_PASSWORD.encode() not in raw and b"wf-demo-key" not in raw
    assert b"alerts-sent" in raw


def test_bad_arguments_fail_before_any_work(run_alerts, set_targets):
    set_targets(BREACHED)
    bad_mail = run_alerts("--email", "not-an-address")
    assert bad_mail.returncode == 1 and "is not an e-mail address" in bad_mail.stderr
    assert bad_mail.stdout == ""
    bad_date = run_alerts("--since", "2026-13-01")
    assert bad_date.returncode == 2 and "Traceback" not in bad_date.stderr


def test_payload_is_json_serialisable():
    from datetime import date

    from whatfix_data.commands.alerts import payload
    from whatfix_data.windows import DateRange

    evaluation = T.Evaluation(BREACHED, "week", date(2026, 11, 16), date(2026, 11, 22), 41.0,
                              True)

    class _Settings:
        account_id = "acme-demo"

    body = payload(_Settings(), DateRange(date(2026, 11, 16), date(2026, 11, 22)), [evaluation])
    assert json.loads(json.dumps(body))["breaches"][0]["threshold"] == 99.0


def test_alert_period_defaults_and_bounds(make_settings):
    from datetime import date, timedelta

    from hypothesis import given
    from hypothesis import strategies as st

    from whatfix_data.commands.alerts import MAX_PERIOD_DAYS, alert_period
    from whatfix_data.windows import InvalidDateRange

    @given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
    def last_complete_week(today):
        period = alert_period(None, None, make_settings(today=today))
        assert period.start.weekday() == 0 and period.days == 7
        assert period.end < today <= period.end + timedelta(days=7)

    last_complete_week()
    today = make_settings(today=FIXED_TODAY)
    assert alert_period("2026-11-01", None, today).end == date(2026, 11, 26)  # up to yesterday
    with pytest.raises(InvalidDateRange, match=f"at most {MAX_PERIOD_DAYS} days"):
        alert_period("2020-01-01", None, today)
