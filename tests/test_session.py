"""Entry-point sessions (whatfix_data.session): settings resolved once, demo server started there.

Reading the settings (`config.load_settings`) must never start the built-in server nor import
the simulator; `open_session` is the one place that does, and only with no credentials at all.
The process-level checks run in a fresh interpreter, where nothing else has started a server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from whatfix_data.config import load_settings
from whatfix_data.errors import ConfigurationError
from whatfix_data.session import Session, cli_session, open_session

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-live-session-secret-42"
CREDS_ENV = {
    "WHATFIX_ACCOUNT_ID": "env-account",
    "WHATFIX_INTEGRATION_KEY": KEY,
    "WHATFIX_USER": "env@example.com",
    "HOME": "/home/someone",
}
# Run in a fresh interpreter: what each step left in the process, as JSON on stdout.
PROBE = textwrap.dedent("""
    import json, sys, threading
    from whatfix_data import demo
    from whatfix_data.config import load_settings
    from whatfix_data.errors import ConfigurationError
    from whatfix_data.session import open_session

    def state(step):
        return {"step": step, "server": demo._server is not None,
                "simulator": "whatfix_data.simulator" in sys.modules,
                "threads": threading.active_count()}

    steps = [state("imported")]
    try:
        load_settings(None, {"HOME": sys.argv[1]})
    except ConfigurationError:
        steps.append(state("load_settings without credentials"))
    creds = {"HOME": sys.argv[1], "WHATFIX_ACCOUNT_ID": "a", "WHATFIX_INTEGRATION_KEY": "k",
             "WHATFIX_USER": "u@example.com"}
    load_settings(None, creds)
    steps.append(state("load_settings with credentials"))
    open_session(None, creds)
    steps.append(state("open_session with credentials"))
    open_session(None, {"HOME": sys.argv[1]})
    steps.append(state("open_session without credentials"))
    print(json.dumps(steps))
""")


def probe_steps(home: Path) -> dict[str, dict]:
    result = subprocess.run([sys.executable, "-c", PROBE, str(home)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=True)
    return {step["step"]: step for step in json.loads(result.stdout)}


def test_reading_settings_never_starts_the_demo_server(tmp_path: Path) -> None:
    steps = probe_steps(tmp_path)
    baseline = steps["imported"]
    assert not baseline["server"] and not baseline["simulator"]
    for name in ("load_settings without credentials", "load_settings with credentials",
                 "open_session with credentials"):
        step = steps[name]
        assert not step["server"], f"{name} started the built-in server"
        assert not step["simulator"], f"{name} imported the simulator"
        assert step["threads"] == baseline["threads"], f"{name} started a thread"
    # The entry point's call in demo mode is the one that starts it (the probe can see a server).
    started = steps["open_session without credentials"]
    assert started["server"] and started["simulator"]
    assert started["threads"] > baseline["threads"]


def test_no_credentials_open_the_demo_account_started_once(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "WHATFIX_MAX_CONCURRENCY": "4"}
    with ThreadPoolExecutor(4) as pool:
        results = [s.settings for s in pool.map(lambda _: open_session(None, env), range(4))]
    assert len({s.base_url for s in results}) == 1  # one server per process, even when racing
    demo = results[0]
    assert demo.demo and demo.base_url.startswith("http://127.0.0.1:")
    assert demo.account_id == "acme-demo" and demo.cache == "memory"
    assert demo.max_concurrency == 4  # the other settings still come from the environment
    assert demo.integration_key not in repr(demo)
    assert demo.integration_key not in repr(Session(demo))


def test_credentials_open_the_configured_account() -> None:
    session = open_session(None, CREDS_ENV)
    assert session.settings == load_settings(None, CREDS_ENV)
    assert not session.demo
    assert KEY not in repr(session)


def test_incomplete_credentials_are_not_taken_for_demo_mode() -> None:
    with pytest.raises(ConfigurationError, match="WHATFIX_INTEGRATION_KEY"):
        open_session(None, {"WHATFIX_ACCOUNT_ID": "acme", "HOME": "/h"})


def test_a_session_changes_and_opens_clients_of_its_account(make_settings) -> None:
    session = Session(make_settings())
    faster = session.with_changes(max_concurrency=2)
    assert faster.settings.max_concurrency == 2
    assert faster.settings.cache_scope == session.settings.cache_scope
    with faster.client() as client:
        assert client.settings is faster.settings
        client.verify_credentials(force=True)  # real HTTP against the built-in server


def test_the_cli_reads_the_secrets_file_like_the_app(tmp_path: Path, monkeypatch) -> None:
    for name in [n for n in os.environ if n.startswith("WHATFIX_")]:
        monkeypatch.delenv(name)
    secrets = tmp_path / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text('[whatfix]\naccount_id = "file-account"\nintegration_key = "file-key"\n'
                       'user = "file@example.com"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    session = cli_session()
    assert (session.settings.account_id, session.settings.user) == ("file-account",
                                                                    "file@example.com")
    assert not session.demo
