"""`python -m whatfix_data sync-users` against the built-in server: in-process and as a process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from whatfix_data.cli import main

REPO = Path(__file__).resolve().parents[1]
HEADER = "userId,email,name,role,region"
# A kill test needs an apply that lasts: rows x latency / concurrency seconds.
KILL_ROWS = 120
KILL_LATENCY_MS = 100


def _env_for(server, **extra: str) -> dict[str, str]:
    account = server.accounts[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHATFIX_")}
    env.update({
        "WHATFIX_BASE_URL": server.base_url,
        "WHATFIX_ACCOUNT_ID": account.account_id,
        "WHATFIX_INTEGRATION_KEY": account.integration_key,
        "WHATFIX_USER": account.user_email,
        "WHATFIX_CACHE": "memory",
        "WHATFIX_BACKOFF_S": "0.01",
        **extra,
    })
    return env


@pytest.fixture()
def cli_env(monkeypatch, tmp_path, sync_server):
    """The CLI configured for `sync_server` through WHATFIX_* variables (no secrets file)."""
    for name, value in _env_for(sync_server, WHATFIX_SYNC_DIR=str(tmp_path / "state")).items():
        if name.startswith("WHATFIX_"):
            monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no ./.streamlit/secrets.toml is read
    return sync_server


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def _upserts(server) -> int:
    return server.stats()["byOperation"].get("upsertEndUser", 0)


def test_sync_writes_outcomes_audit_and_exit_code(cli_env, tmp_path, capsys) -> None:
    source = _write(tmp_path / "crm.csv", [
        "c-1,c1@acme.example,C One,Admin,EMEA",
        "c-2,c2@acme.example,C Two,Analyst,APAC",
        "c-3,broken,C Three,Analyst,APAC",
    ])
    code = main(["sync-users", str(source), "--quiet"])
    out = capsys.readouterr()
    assert code == 3  # one row invalid: partial success
    outcomes = pd.read_csv(tmp_path / "crm-outcomes.csv")
    assert list(outcomes.columns) == ["row", "userId", "outcome", "message"]
    assert dict(zip(outcomes["row"], outcomes["outcome"], strict=True)) == {
        2: "created", 3: "created", 4: "invalid"}
    assert "created 2" in out.out and "invalid 1" in out.out
    assert "row 4 [email]" in out.err
    audit = (tmp_path / "state" / "audit.jsonl").read_text().splitlines()
    assert len(audit) == 2
    assert cli_env.accounts[0].integration_key not in "".join(audit)


def test_second_run_sends_nothing_and_exits_zero(cli_env, tmp_path, capsys) -> None:
    source = _write(tmp_path / "crm.csv", ["c-1,c1@acme.example,C One,Admin,EMEA"])
    assert main(["sync-users", str(source), "--quiet"]) == 0
    sent = _upserts(cli_env)
    assert main(["sync-users", str(source), "--quiet", "--outcomes", "again.csv"]) == 0
    assert _upserts(cli_env) == sent
    assert pd.read_csv(tmp_path / "again.csv")["outcome"].tolist() == ["unchanged"]
    assert "unchanged 1" in capsys.readouterr().out


def test_dry_run_previews_and_sends_nothing(cli_env, tmp_path, capsys) -> None:
    source = _write(tmp_path / "crm.csv", ["ac-000001,,,Admin,", "d-1,d1@acme.example,D,Admin,"])
    code = main(["sync-users", str(source), "--dry-run", "--preview", "preview.csv"])
    out = capsys.readouterr().out
    assert code == 0
    assert _upserts(cli_env) == 0
    assert "Dry run" in out and "segment" in out
    preview = pd.read_csv(tmp_path / "preview.csv")
    assert preview["action"].tolist() == ["update", "create"]
    assert not (tmp_path / "crm-outcomes.csv").exists()


def test_mapping_options_and_bad_mapping(cli_env, tmp_path, capsys) -> None:
    source = tmp_path / "hr.csv"
    source.write_text("Employee,Mail,Title,Notes\ne-1,e1@acme.example,Admin,=cmd()\n")
    code = main(["sync-users", str(source), "--quiet", "--mapping", "userId=Employee",
                 "--mapping", "email=Mail", "--mapping", "role=Title", "--ignore", "Notes"])
    assert code == 0
    assert pd.read_csv(tmp_path / "hr-outcomes.csv")["outcome"].tolist() == ["created"]
    assert main(["sync-users", str(source), "--mapping", "userId=Nope"]) == 2
    assert "no column named 'Nope'" in capsys.readouterr().err


def test_unreadable_file_is_one_line_and_exit_one(cli_env, tmp_path, capsys) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["sync-users", str(empty)]) == 1
    err = capsys.readouterr().err
    assert "empty" in err and "Traceback" not in err
    assert main(["sync-users", str(tmp_path / "missing.csv")]) == 1


def test_failed_rows_file_is_written_and_uploads_again(make_sim_server, monkeypatch,
                                                       tmp_path) -> None:
    # Half the requests fault and only 2 retries: some of 80 rows end 'failed' (all but surely).
    server = make_sim_server(users=20, fault_rate=0.5)
    for name, value in _env_for(server, WHATFIX_RETRIES="2",
                                WHATFIX_SYNC_DIR=str(tmp_path / "state")).items():
        if name.startswith("WHATFIX_"):
            monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    source = _write(tmp_path / "crm.csv",
                    [f"f-{i},f{i}@acme.example,F {i},Analyst,EMEA" for i in range(80)])
    code = None
    for _ in range(8):  # reading the current users may itself fail under faults: run again
        code = main(["sync-users", str(source), "--quiet"])
        if code != 1:
            break
    assert code == 3
    outcomes = pd.read_csv(tmp_path / "crm-outcomes.csv")
    failed = outcomes[outcomes["outcome"] == "failed"]
    assert len(outcomes) == 80 and len(failed) > 0
    retry = pd.read_csv(tmp_path / "crm-failed.csv")
    assert list(retry.columns) == HEADER.split(",")
    assert sorted(retry["userId"]) == sorted(failed["userId"])


def _start_cli(server, tmp_path: Path, source: Path) -> subprocess.Popen:
    env = _env_for(server, WHATFIX_MAX_CONCURRENCY="2", WHATFIX_SYNC_DIR=str(tmp_path / "st"))
    env["PYTHONPATH"] = str(REPO)
    return subprocess.Popen(
        [sys.executable, "-m", "whatfix_data", "sync-users", str(source), "--quiet"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_outcomes(path: Path, at_least: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) > at_least:
            return
        time.sleep(0.05)
    raise AssertionError("the CLI wrote no outcomes in time")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_killed_cli_keeps_outcomes_and_rerun_sends_only_the_rest(
        make_sim_server, tmp_path, sig) -> None:
    server = make_sim_server(users=20, latency_ms=KILL_LATENCY_MS)
    source = _write(tmp_path / "crm.csv", [f"k-{i},k{i}@acme.example,K {i},Analyst,EMEA"
                                           for i in range(KILL_ROWS)])
    outcomes_path = tmp_path / "crm-outcomes.csv"
    process = _start_cli(server, tmp_path, source)
    _wait_for_outcomes(outcomes_path, at_least=10)
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    written = pd.read_csv(outcomes_path)
    assert written["row"].is_unique
    applied = int((written["outcome"] == "created").sum())
    assert applied >= 10
    if sig == signal.SIGTERM:
        assert process.returncode == 130 and "Interrupted" in err
        assert len(written) == KILL_ROWS  # unsent rows are 'failed' (not sent), nothing missing
        assert (tmp_path / "crm-failed.csv").exists()
    # Requests of the killed process that the server already received still finish (and count):
    # let them, before counting the re-run's requests alone.
    time.sleep(10 * KILL_LATENCY_MS / 1000)
    server.reset()
    rerun = _start_cli(server, tmp_path, source)
    out, _ = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, out
    after = pd.read_csv(outcomes_path)
    # Only what the killed run had not applied was sent again.
    already = int((after["outcome"] == "unchanged").sum())
    assert already >= applied
    assert int((after["outcome"] == "created").sum()) == KILL_ROWS - already
    assert server.stats()["byOperation"].get("upsertEndUser", 0) == KILL_ROWS - already


# ------------------------------------------------------------------------- hostile files, capped

MEMORY_LIMIT_BYTES = 1536 * 1024 * 1024
# A bound on a run that would otherwise take minutes (or be killed): not a speed target.
REFUSAL_TIMEOUT_S = 90


def _cap_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def _run_capped(file: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHATFIX_")}
    env["OPENBLAS_NUM_THREADS"] = "1"  # no per-thread BLAS buffers under the address-space cap
    return subprocess.run(
        [sys.executable, "-m", "whatfix_data", "sync-users", str(file), "--dry-run"],
        cwd=file.parent, env={**env, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
        preexec_fn=_cap_memory, timeout=REFUSAL_TIMEOUT_S,
    )


@pytest.mark.parametrize("lying", [False, True], ids=["declared", "lying-header"])
def test_zip_bomb_is_refused_under_a_memory_cap(tmp_path, lying: bool) -> None:
    from support import SHEET_PATH, lie_about_size, write_zip_bomb

    bomb = tmp_path / "crm.xlsx"
    write_zip_bomb(bomb)
    if lying:
        lie_about_size(bomb, SHEET_PATH, 3_000_000)
    finished = _run_capped(bomb)
    assert finished.returncode == 1, finished.stderr
    assert "zip bomb" in finished.stderr and "Traceback" not in finished.stderr
    assert "WHATFIX_MAX_ZIP_RATIO" in finished.stderr or "bytes it declares" in finished.stderr


def test_ten_thousand_column_csv_is_refused_under_a_memory_cap(tmp_path) -> None:
    wide = tmp_path / "wide.csv"
    header = ",".join(f"c{i}" for i in range(10_000))
    wide.write_text("\n".join([header, *[",".join(["x"] * 10_000)] * 5]) + "\n")
    finished = _run_capped(wide)
    assert finished.returncode == 1, finished.stderr
    assert "10,000 columns; the limit is 120 (WHATFIX_MAX_UPLOAD_COLUMNS)" in finished.stderr


def test_cli_reads_the_limits_from_the_settings(cli_env, tmp_path, monkeypatch, capsys) -> None:
    source = _write(tmp_path / "crm.csv", [f"c-{i},c{i}@acme.example,C {i},Admin,EMEA"
                                           for i in range(5)])
    monkeypatch.setenv("WHATFIX_MAX_UPLOAD_ROWS", "4")
    assert main(["sync-users", str(source), "--dry-run"]) == 1
    assert "more than 4 data rows, the limit (WHATFIX_MAX_UPLOAD_ROWS)" in capsys.readouterr().err
    assert _upserts(cli_env) == 0
