"""Against a generated mock of the spec (Stoplight Prism, dynamic mode): random schema-valid data.

Prism answers every operation with random values the spec allows: totals like 57,700,172 or
negative page numbers, lists shorter than their totalCount, any text. `export all`, every
dataset and every page must end with data or one clear message within 60 s, with no traceback.
Prism is installed by tests/run_all.sh into tests/.prism (npm); without it these tests skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from whatfix_data.client import WhatfixClient
from whatfix_data.config import Settings
from whatfix_data.datasets import DATASETS, load_dataset
from whatfix_data.errors import WhatfixError
from whatfix_data.windows import DateRange

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[1]
SPEC = REPO_ROOT / "whatfix_data" / "openapi.yml"
PRISM = Path(os.environ.get("WHATFIX_TEST_PRISM") or
             Path(__file__).resolve().parent / ".prism" / "node_modules" / ".bin" / "prism")
START_TIMEOUT_S = 120  # node + spec parsing on a busy 2-core box
ANSWER_WITHIN_S = 60
ACCOUNT = SimpleNamespace(account_id="acme-prism", integration_key="prism-key",
                          user_email="pm@prism.example")
RANGE = DateRange.from_iso("2026-09-01", "2026-11-27")
PAGES = ["pages/overview.py", "pages/flows.py", "pages/engagement.py", "pages/self_help.py",
         "pages/content.py", "pages/task_lists.py", "pages/segments.py",
         "pages/data_health.py", "pages/user_sync.py"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(url: str) -> bool:
    request = urllib.request.Request(f"{url}/{ACCOUNT.account_id}/segments", headers={
        "x-whatfix-integration-key": ACCOUNT.integration_key,
        "x-whatfix-user": ACCOUNT.user_email})
    try:
        with urllib.request.urlopen(request, timeout=2):
            return True
    except OSError:  # not up yet (refused), or an HTTP error: retried until the timeout
        return False


@pytest.fixture(scope="module")
def prism_url():
    """`prism mock -d whatfix_data/openapi.yml` on a free port; its base URL (no /api/v1)."""
    if not PRISM.exists() or shutil.which("node") is None:
        pytest.skip("Stoplight Prism is not installed (tests/run_all.sh installs it)")
    port = _free_port()
    process = subprocess.Popen(
        [str(PRISM), "mock", "-d", "-h", "127.0.0.1", "-p", str(port), str(SPEC)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _listening(url):
            assert process.poll() is None, "prism exited"
            assert time.monotonic() < deadline, "prism did not start"
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # prism's own process group (started above)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _settings(url: str) -> Settings:
    return Settings(base_url=url, account_id=ACCOUNT.account_id,
                    integration_key=ACCOUNT.integration_key, user=ACCOUNT.user_email,
                    cache="memory")


@pytest.mark.parametrize("name", [*DATASETS, "engagement-trend"])
def test_every_dataset_ends_with_data_or_one_clear_message(prism_url, name):
    started = time.monotonic()
    with WhatfixClient(_settings(prism_url)) as client:
        try:
            dataset = load_dataset(client, name, RANGE, "week")
        except WhatfixError as exc:
            assert exc.user_message.endswith("."), exc.user_message
            assert "Traceback" not in exc.user_message
        else:
            assert dataset.name == name and dataset.frame is not None
    assert time.monotonic() - started < ANSWER_WITHIN_S


def test_export_all_ends_with_data_or_one_clear_message(prism_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHATFIX_")}
    env.update(WHATFIX_BASE_URL=prism_url, WHATFIX_ACCOUNT_ID=ACCOUNT.account_id,
               WHATFIX_INTEGRATION_KEY=ACCOUNT.integration_key,
               WHATFIX_USER=ACCOUNT.user_email, WHATFIX_CACHE="memory",
               HOME=str(tmp_path), PYTHONPATH=str(REPO_ROOT))
    out = tmp_path / "out"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "whatfix_data", "export", "all", "--start", "2026-09-01",
         "--end", "2026-11-27", "--out", str(out), "--quiet"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=ANSWER_WITHIN_S * 2)
    assert time.monotonic() - started < ANSWER_WITHIN_S
    assert "Traceback" not in result.stderr
    if result.returncode == 0:
        assert sorted(p.stem for p in out.iterdir()) == sorted(DATASETS)
    else:
        assert result.returncode == 1
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, result.stderr
        assert list(out.iterdir()) == []


@pytest.mark.parametrize("page", PAGES)
def test_every_page_ends_with_data_or_a_clear_message(prism_url, point_app, page):
    from streamlit.testing.v1 import AppTest

    point_app(prism_url, ACCOUNT)
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=ANSWER_WITHIN_S)
    at.switch_page(page)
    started = time.monotonic()
    at.run()
    assert time.monotonic() - started < ANSWER_WITHIN_S
    assert not at.exception, [e.message for e in at.exception]  # no traceback on the page
    assert at.title and at.title[0].value
    for box in at.error:  # a message that says what happened, never a bare code
        assert len(box.value) > 20 and "Traceback" not in box.value
