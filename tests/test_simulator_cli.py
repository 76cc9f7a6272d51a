"""`python -m whatfix_data simulate`: a real process that prints its URL first, then serves."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import requests

from whatfix_data.simulator import DEMO_ACCOUNTS

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 30


def _first_line(process: subprocess.Popen) -> str:
    """The first stdout line, or a failure if the process says nothing in time."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(START_TIMEOUT_S)
    assert lines, "simulate printed nothing"
    return lines[0].strip()


def test_simulate_prints_the_base_url_then_serves():
    command = [sys.executable, "-m", "whatfix_data", "simulate", "--port", "0", "--users", "150",
               "--today", "2026-11-27", "--account", "cli-demo", "--key", "cli-key",
               "--user-email", "cli@example.com"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        base_url = _first_line(process)
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/api/v1")
        headers = {"x-whatfix-integration-key": "cli-key", "x-whatfix-user": "cli@example.com"}
        response = requests.get(f"{base_url}/cli-demo/end-users", headers=headers, timeout=10)
        assert response.status_code == 200
        assert response.json()["pagination"]["totalCount"] == 150
        globex = DEMO_ACCOUNTS[1]
        other = requests.get(f"{base_url}/{globex.account_id}/segments", timeout=10, headers={
            "x-whatfix-integration-key": globex.integration_key,
            "x-whatfix-user": globex.user_email})
        assert other.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "Traceback" not in process.stderr.read()


def test_simulate_rejects_bad_options():
    result = subprocess.run([sys.executable, "-m", "whatfix_data", "simulate", "--fault-rate",
                             "2"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "between 0 and 1" in result.stderr
    assert "Traceback" not in result.stderr


def test_simulate_rejects_a_negative_rate_limit():
    result = subprocess.run([sys.executable, "-m", "whatfix_data", "simulate", "--rate-limit",
                             "-3"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "expected a number >= 0" in result.stderr
    assert "Traceback" not in result.stderr
