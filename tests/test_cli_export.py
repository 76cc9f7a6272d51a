"""`python -m whatfix_data export`: demo mode, a separate faulty server, JSON, one-line failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from whatfix_data.datasets import DATASETS
from whatfix_data.windows import DateRange, split_range

REPO_ROOT = Path(__file__).resolve().parents[1]
CLI_TIMEOUT_S = 240
# A past range relative to the real today, which both the demo server and `simulate` default to.
_YESTERDAY = datetime.now(UTC).date() - timedelta(days=1)
START, END = (_YESTERDAY - timedelta(days=41)).isoformat(), _YESTERDAY.isoformat()


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment without any WHATFIX_* setting, a private HOME, and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHATFIX_")}
    env.update(HOME=str(tmp_path / "home"), PYTHONPATH=str(REPO_ROOT), XDG_CACHE_HOME="")
    env.update(extra)
    return env


def _export(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "whatfix_data", "export", *args],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=CLI_TIMEOUT_S,
    )


@pytest.fixture()
def faulty_server_url():
    """`python -m whatfix_data simulate --port 0 --fault-rate 0.2`, started separately."""
    process = subprocess.Popen(
        [sys.executable, "-m", "whatfix_data", "simulate", "--port", "0", "--fault-rate", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO_ROOT,
    )
    base_url = process.stdout.readline().strip()
    assert base_url.startswith("http://127.0.0.1:")
    yield base_url
    process.kill()
    process.wait(timeout=10)


@pytest.mark.slow
def test_export_all_demo_and_faulty_server_give_identical_files(tmp_path, faulty_server_url):
    demo_dir, server_dir = tmp_path / "demo", tmp_path / "server"
    demo = _export(tmp_path, _clean_env(tmp_path), "all", "--start", START, "--end", END,
                   "--granularity", "week", "--out", str(demo_dir))
    assert demo.returncode == 0, demo.stderr
    assert "demo account" in demo.stderr
    server_env = _clean_env(
        tmp_path, WHATFIX_BASE_URL=faulty_server_url, WHATFIX_ACCOUNT_ID="acme-demo",
        WHATFIX_INTEGRATION_KEY="wf-demo-key-acme", WHATFIX_USER="pm@acme.example",
        WHATFIX_CACHE="off", WHATFIX_RETRIES="8",
    )
    served = _export(tmp_path, server_env, "all", "--start", START, "--end", END,
                     "--granularity", "week", "--out", str(server_dir))
    assert served.returncode == 0, served.stderr
    names = sorted(f"{name}.csv" for name in DATASETS)
    assert sorted(p.name for p in demo_dir.iterdir()) == names
    for name in names:
        mine, theirs = (demo_dir / name).read_bytes(), (server_dir / name).read_bytes()
        assert mine == theirs, f"{name} differs between demo mode and the faulty server"
        assert mine.count(b"\r\n") > 1, f"{name} has no data rows"


def test_json_export_of_one_dataset(tmp_path, make_settings) -> None:
    settings = make_settings()
    env = _clean_env(tmp_path, WHATFIX_BASE_URL=settings.base_url,
                     WHATFIX_ACCOUNT_ID=settings.account_id,
                     WHATFIX_INTEGRATION_KEY=settings.integration_key,
                     WHATFIX_USER=settings.user, WHATFIX_CACHE="memory")
    out = tmp_path / "trend.json"
    done = _export(tmp_path, env, "flow-trend", "--start", "2026-10-01", "--end", "2026-10-31",
                   "--granularity", "week", "--format", "json", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text(encoding="utf-8"))
    expected = split_range(DateRange(date(2026, 10, 1), date(2026, 10, 31)), "week")
    assert {row["window_label"] for row in rows} == {window.label for window in expected}
    assert "2026-W44 (partial)" in {window.label for window in expected}
    assert all(row["window_start"] <= row["window_end"] for row in rows)
    assert all(isinstance(row["views"], int) for row in rows if row["views"] is not None)


def _single_error_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_failures_end_with_one_line_and_a_non_zero_code(tmp_path, make_settings) -> None:
    settings = make_settings()
    good = {"WHATFIX_BASE_URL": settings.base_url, "WHATFIX_ACCOUNT_ID": settings.account_id,
            "WHATFIX_USER": settings.user, "WHATFIX_CACHE": "off"}
    args = ("flows", "--start", "2026-10-01", "--end", "2026-10-31", "--quiet",
            "--out", str(tmp_path / "flows.csv"))
    cases = {
        "rejected (401)": _clean_env(tmp_path, **good, WHATFIX_INTEGRATION_KEY="wf-wrong-key"),
        "Incomplete Whatfix credentials": _clean_env(tmp_path, WHATFIX_ACCOUNT_ID="acme-demo"),
        "unavailable": _clean_env(tmp_path, **{**good, "WHATFIX_BASE_URL":
                                               "http://127.0.0.1:9/api/v1"},
                                  WHATFIX_INTEGRATION_KEY=settings.integration_key,
                                  WHATFIX_RETRIES="1", WHATFIX_BACKOFF_S="0.01"),
    }
    for expected, env in cases.items():
        result = _export(tmp_path, env, *args)
        assert result.returncode == 1
        line = _single_error_line(result)
        assert line.startswith("Error: ") and expected in line
        assert "wf-wrong-key" not in line
    bad_date = _export(tmp_path, _clean_env(tmp_path), "flows", "--start", "2026-13-01",
                       "--end", "2026-10-31", "--out", str(tmp_path / "x.csv"), "--quiet")
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in _single_error_line(bad_date)
    assert not (tmp_path / "flows.csv").exists()


def _flows_entry_expires(cache_file: Path, make_settings) -> object:
    from whatfix_data.client import WhatfixClient

    with WhatfixClient(make_settings(cache=str(cache_file)), verify=False) as reader:
        entries = [r for r in reader.cache.responses.values() if "/analytics/flows" in r.url]
    assert len(entries) == 1
    return entries[0].expires


def test_the_cli_uses_the_today_setting_for_expiry(tmp_path, sim_server, demo_account,
                                                   make_settings) -> None:
    expiries = {}
    for today in ("2026-10-31", "2026-11-27"):  # the range's last day, then a later day
        cache_file = tmp_path / f"cache-{today}.sqlite"
        env = _clean_env(
            tmp_path, WHATFIX_BASE_URL=sim_server.base_url,
            WHATFIX_ACCOUNT_ID=demo_account.account_id,
            WHATFIX_INTEGRATION_KEY=demo_account.integration_key,
            WHATFIX_USER=demo_account.user_email, WHATFIX_CACHE=str(cache_file),
            WHATFIX_TODAY=today,
        )
        done = _export(tmp_path, env, "flows", "--start", "2026-10-01", "--end", "2026-10-31",
                       "--out", str(tmp_path / "flows.csv"), "--quiet")
        assert done.returncode == 0, done.stderr
        expiries[today] = _flows_entry_expires(cache_file, make_settings)
    assert expiries["2026-10-31"] is not None  # the window includes "today": 15 minutes
    assert expiries["2026-11-27"] is None  # ended before "today": never expires


@pytest.mark.parametrize(("scenario", "operation", "words"), [
    ("huge_total", "getUserTaskCompletion", ("task-completion", "10,000,000", "WHATFIX_MAX_ROWS")),
    ("never_answers", "getFlowAnalytics", ("WHATFIX_FETCH_DEADLINE_S",)),
])
def test_export_all_against_a_misbehaving_api_ends_in_one_line_and_no_files(
        tmp_path, make_sim_server, scenario, operation, words):
    import time

    server = make_sim_server(users=300)
    server.set_scenario(scenario, operation=operation)
    account = server.accounts[0]
    env = _clean_env(tmp_path, WHATFIX_BASE_URL=server.base_url,
                     WHATFIX_ACCOUNT_ID=account.account_id,
                     WHATFIX_INTEGRATION_KEY=account.integration_key,
                     WHATFIX_USER=account.user_email, WHATFIX_CACHE="memory",
                     WHATFIX_READ_TIMEOUT_S="1", WHATFIX_FETCH_DEADLINE_S="3")
    out = tmp_path / "out"
    started = time.monotonic()
    result = _export(tmp_path, env, "all", "--start", START, "--end", END, "--out", str(out),
                     "--quiet")
    # a hang guard only (start-up alone takes 1.5 s on a quiet box, 30 s at a load of 20): without
    # the bounds, never_answers holds each window for 600 s and huge_total asks for 100,000 pages
    assert time.monotonic() - started < 120
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and all(word in errors[0] for word in words), result.stderr
    assert "Traceback" not in result.stderr
    assert list(out.iterdir()) == []  # neither half an export nor *.part files


def test_ctrl_c_stops_the_export_and_its_requests(tmp_path, make_sim_server):
    import signal
    import time

    server = make_sim_server(users=3000, latency_ms=300)  # slow enough to interrupt mid-fetch,
    # even when a loaded machine notices the 20th request late
    account = server.accounts[0]
    env = _clean_env(tmp_path, WHATFIX_BASE_URL=server.base_url,
                     WHATFIX_ACCOUNT_ID=account.account_id,
                     WHATFIX_INTEGRATION_KEY=account.integration_key,
                     WHATFIX_USER=account.user_email, WHATFIX_CACHE="memory")
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "whatfix_data", "export", "all", "--start", START, "--end", END,
         "--out", str(out), "--quiet"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # as from a terminal: a suite started in the background (`cmd &`) ignores SIGINT, and a
        # child that inherits that never gets its KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while server.stats()["requests"] < 20 and time.monotonic() < deadline:
        time.sleep(0.05)  # the export is under way
    assert server.stats()["requests"] >= 20
    process.send_signal(signal.SIGINT)
    interrupted, at_interrupt = time.monotonic(), server.stats()["requests"]
    _, stderr = process.communicate(timeout=60)
    assert time.monotonic() - interrupted < 15  # the fetches were stopped, not waited out
    assert process.returncode == 130 and "Interrupted." in stderr and "Traceback" not in stderr
    sent = server.stats()["requests"]
    assert sent - at_interrupt <= 2 * 8  # what was in flight (and its retries), no new pages
    time.sleep(0.5)
    assert server.stats()["requests"] == sent
    assert not list(out.glob("*"))  # no half export, no *.part
