"""Benchmark of the user sync (whatfix_data.user_sync): the figures of docs/PERFORMANCE.md.

Four measurements, each against its own built-in server run as a separate process (so that the
server and the client do not share one interpreter lock):

1. validation + preview of a real-looking 50,000-row export (5% bad rows) against 40,000 users;
2. apply of that file with the server at 20% faults, then the failed rows re-uploaded until none
   is left; afterwards the end-user list must equal the file's valid rows (a new preview of the
   whole file finds nothing to send);
3. apply throughput at 50 ms latency against the limit rows_to_send / concurrency x latency;
4. the CLI killed (SIGKILL) mid-apply, then run again: it must send only what is still different.

Usage: python bench/bench_user_sync.py [--rows 50000] [--users 40000]
       [--parts preview,faults,throughput,kill]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pandas as pd  # noqa: E402
from support import demo_settings, server_process  # noqa: E402

from whatfix_data import user_sync  # noqa: E402
from whatfix_data.client import WhatfixClient  # noqa: E402
from whatfix_data.errors import WhatfixError  # noqa: E402
from whatfix_data.simulator import DEMO_ACCOUNTS  # noqa: E402

SEED = 7
TODAY = "2026-11-27"
# The simulate options every server of this benchmark shares (data of a fixed seed and day).
SIM_ARGS = ("--seed", str(SEED), "--today", TODAY)
BAD_SHARE = 0.05
CHANGED_SHARE = 0.3
EXISTING_SHARE = 0.7
FAULT_RATE = 0.2
FAULT_CONCURRENCY = 32
MAX_RETRY_ROUNDS = 8
LATENCY_MS = 50
THROUGHPUT_RUNS = ((8, 2_000), (16, 4_000), (32, 8_000))  # (concurrency, rows)
THROUGHPUT_LIMIT = 1.3
KILL_ROWS = 3_000
KILL_LATENCY_MS = 20
KILL_AFTER_LINES = 600
PREVIEW_LIMIT_S = 10.0
BAD_KINDS = ("missing_id", "bad_email", "formula", "duplicate", "new_without_email", "long_id")
HEADER = ["userId", "email", "name", "role", "department", "region", "country", "locale", "plan",
          "seats", "beta", "start_date", "cost_center"]


# --------------------------------------------------------------------------- server process


def env_for(base_url: str, concurrency: int, sync_dir: Path) -> dict[str, str]:
    account = DEMO_ACCOUNTS[0]
    return {**{k: v for k, v in os.environ.items() if not k.startswith("WHATFIX_")},
            "WHATFIX_BASE_URL": base_url, "WHATFIX_ACCOUNT_ID": account.account_id,
            "WHATFIX_INTEGRATION_KEY": account.integration_key,
            "WHATFIX_USER": account.user_email, "WHATFIX_CACHE": "memory",
            "WHATFIX_MAX_CONCURRENCY": str(concurrency), "WHATFIX_SYNC_DIR": str(sync_dir),
            "PYTHONPATH": str(REPO)}


def with_retries(action, attempts: int = 5):
    """Reading lists under 20% faults can fail after the client's retries: try again."""
    for attempt in range(attempts):
        try:
            return action()
        except WhatfixError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- the export


def _cells(user: dict, rng: random.Random, changed: bool) -> list[str]:
    attributes = dict(user["attributes"])
    if changed:
        attributes["plan"] = rng.choice(["Starter", "Business", "Enterprise", "Trial"])
        attributes["seats"] = rng.choice([5, 10, 25, 100, 250, 500, 1000])
    return [user["user_id"], user["email"], user["name"], str(attributes["role"]),
            str(attributes["department"]), str(attributes["region"]),
            str(attributes["country"]), str(attributes["locale"]), str(attributes["plan"]),
            str(attributes["seats"]), str(attributes["beta"]).lower(),
            f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if changed else "",
            f"{rng.randint(1, 999):05d}" if changed else ""]


def _new_cells(index: int, rng: random.Random) -> list[str]:
    return [f"crm-{index:06d}", f"new.user{index}@acme.example", f"New User {index}",
            rng.choice(["Analyst", "Admin", "Sales Rep", "Support Agent"]),
            rng.choice(["Sales", "Finance", "Customer Support", "IT"]),
            rng.choice(["EMEA", "APAC", "North America", "LATAM"]), "US", "en-US",
            rng.choice(["Starter", "Business", "Enterprise"]), str(rng.choice([5, 25, 100])),
            rng.choice(["true", "false"]), "2025-06-01", f"{index % 1000:05d}"]


def _bad_rows(count: int, users: list[dict], rng: random.Random) -> list[list[str]]:
    rows: list[list[str]] = []
    kind_index = 0
    while len(rows) < count:
        kind = BAD_KINDS[kind_index % len(BAD_KINDS)]
        kind_index += 1
        base = _new_cells(900_000 + len(rows), rng)
        if kind == "missing_id":
            base[0] = ""
        elif kind == "bad_email":
            base[1] = "not-an-email"
        elif kind == "formula":
            base[3] = '=HYPERLINK("http://evil.example","x")'
        elif kind == "duplicate" and len(rows) + 2 <= count:
            rows.append(list(base))  # the same userId twice: both rows are invalid
        elif kind == "new_without_email":
            base[1] = ""
        elif kind == "long_id":
            base[0] = "x" * 250
        rows.append(base)
    return rows


def make_export(users: list[dict], rows: int) -> tuple[bytes, int]:
    """A CRM export: existing users (30% of them changed), new users and 5% bad rows."""
    rng = random.Random(SEED)
    bad = int(rows * BAD_SHARE)
    existing = min(int(rows * EXISTING_SHARE), len(users))
    new = rows - bad - existing
    lines = [_cells(u, rng, rng.random() < CHANGED_SHARE) for u in rng.sample(users, existing)]
    lines += [_new_cells(i, rng) for i in range(new)]
    lines += _bad_rows(bad, users, rng)
    rng.shuffle(lines)
    frame = pd.DataFrame(lines, columns=HEADER)
    return frame.to_csv(index=False).encode(), rows - bad


def to_xlsx(data: bytes) -> bytes:
    """The CSV export as an XLSX workbook of text cells (what a CRM's Excel export holds)."""
    from io import BytesIO

    from openpyxl import Workbook

    frame = pd.read_csv(BytesIO(data), dtype=str, keep_default_na=False)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Users")
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append(list(row))
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- measurements


def plan_for(client: WhatfixClient, data: bytes, name: str = "crm.csv"):
    table = user_sync.read_upload(data, name)
    validation = user_sync.validate(table, user_sync.guess_mapping(table.columns))
    current = with_retries(lambda: user_sync.load_current(client))
    return table, validation, user_sync.build_plan(validation, current.end_users,
                                                   current.segments)


def measure_preview(client: WhatfixClient, data: bytes) -> dict[str, float]:
    """Validation and preview of the file (the current lists fetched once, timed apart)."""
    started = time.perf_counter()
    current = with_retries(lambda: user_sync.load_current(client))
    fetch_s = time.perf_counter() - started
    started = time.perf_counter()
    table = user_sync.read_upload(data, "crm.csv")
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    validation = user_sync.validate(table, user_sync.guess_mapping(table.columns))
    validate_s = time.perf_counter() - started
    started = time.perf_counter()
    plan = user_sync.build_plan(validation, current.end_users, current.segments)
    preview_s = time.perf_counter() - started
    print(f"  fetch current users+segments: {fetch_s:.2f} s ({len(current.end_users):,} users)")
    print(f"  read CSV: {read_s:.2f} s; validate: {validate_s:.2f} s; diff+segments: "
          f"{preview_s:.2f} s; total (read+validate+preview): "
          f"{read_s + validate_s + preview_s:.2f} s (limit {PREVIEW_LIMIT_S:.0f} s)")
    print(f"  plan: {plan.summary()}")
    workbook = to_xlsx(data)
    started = time.perf_counter()
    sheet_table = user_sync.read_upload(workbook, "crm.xlsx")
    xlsx_s = time.perf_counter() - started
    same = sheet_table.frame.equals(table.frame)
    print(f"  the same export as XLSX ({len(workbook) / 1e6:.1f} MB): read {xlsx_s:.2f} s; "
          f"same cells as the CSV: {same}")
    return {"fetch_s": fetch_s, "read_s": read_s, "validate_s": validate_s,
            "preview_s": preview_s, "summary": plan.summary()}


def measure_faults(base_url: str, data: bytes, valid_rows: int) -> None:
    """Apply at 20% faults, retry the failed rows until none is left, check convergence."""
    settings = demo_settings(base_url, concurrency=FAULT_CONCURRENCY)
    with WhatfixClient(settings) as client:
        table, _, plan = plan_for(client, data)
        total = plan.total_rows
        started = time.perf_counter()
        recorder = user_sync.OutcomeRecorder()
        result = user_sync.apply_plan(plan, user_sync.end_user_writer(client), recorder=recorder,
                                      concurrency=FAULT_CONCURRENCY)
        elapsed = time.perf_counter() - started
        frame = recorder.frame()
        assert frame["row"].is_unique and len(frame) == total == sum(result.counts.values())
        print(f"  first apply: {result.counts} in {elapsed:.1f} s "
              f"({result.sent:,} rows sent); every row one outcome: {len(frame) == total}")
        rounds = 0
        while result.counts["failed"] and rounds < MAX_RETRY_ROUNDS:
            rounds += 1
            retry_data = user_sync.failed_rows_csv(table, recorder.frame())
            table, _, plan = plan_for(client, retry_data, "failed.csv")
            recorder = user_sync.OutcomeRecorder()
            result = user_sync.apply_plan(plan, user_sync.end_user_writer(client),
                                          recorder=recorder, concurrency=FAULT_CONCURRENCY)
            print(f"  retry round {rounds}: {result.counts}")
        _, _, final = plan_for(client, data)
        summary = final.summary()
        equal = summary["create"] == summary["update"] == 0 and summary["unchanged"] == valid_rows
        print(f"  after {rounds} retry round(s): preview of the whole file = {summary}; "
              f"end users equal the file's valid rows: {equal}")


def measure_throughput(users: int) -> None:
    """Apply time at 50 ms latency against rows / concurrency x latency."""
    with server_process(users, LATENCY_MS, 0.0, *SIM_ARGS) as base_url:
        for concurrency, rows in THROUGHPUT_RUNS:
            lines = ["userId,email,name,role"] + [
                f"tp{concurrency}-{i},tp{concurrency}.{i}@acme.example,T {i},Analyst"
                for i in range(rows)]
            data = ("\n".join(lines) + "\n").encode()
            with WhatfixClient(demo_settings(base_url, concurrency=concurrency)) as client:
                _, _, plan = plan_for(client, data)
                to_send = len(plan.to_send)
                started = time.perf_counter()
                result = user_sync.apply_plan(plan, user_sync.end_user_writer(client),
                                              concurrency=concurrency)
                elapsed = time.perf_counter() - started
            ideal = to_send / concurrency * LATENCY_MS / 1000
            ratio = elapsed / ideal
            print(f"  concurrency {concurrency}: {to_send:,} rows in {elapsed:.2f} s, limit "
                  f"{ideal:.2f} s, ratio {ratio:.2f} (target <= {THROUGHPUT_LIMIT}); "
                  f"{result.counts['created']:,} created")


def measure_kill_resume(users: int) -> None:
    """SIGKILL the CLI mid-apply, then run it again: only what is still different is sent."""
    with server_process(users, KILL_LATENCY_MS, 0.0, *SIM_ARGS) as base_url, \
            TemporaryDirectory() as folder:
        work = Path(folder)
        lines = ["userId,email,name,role"] + [f"kill-{i},kill{i}@acme.example,K {i},Analyst"
                                              for i in range(KILL_ROWS)]
        source = work / "crm.csv"
        source.write_text("\n".join(lines) + "\n")
        outcomes = work / "crm-outcomes.csv"
        env = env_for(base_url, 8, work / "state")
        command = [sys.executable, "-m", "whatfix_data", "sync-users", str(source), "--quiet"]
        process = subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        while not outcomes.exists() or len(outcomes.read_text().splitlines()) <= KILL_AFTER_LINES:
            time.sleep(0.02)
        process.kill()
        process.wait()
        killed = pd.read_csv(outcomes)
        written = int((killed["outcome"] == "created").sum())
        rerun = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True,
                               check=False)
        after = pd.read_csv(outcomes)
        unchanged = int((after["outcome"] == "unchanged").sum())
        sent = int(after["outcome"].isin(["created", "updated"]).sum())
        print(f"  killed after {len(killed):,} outcomes on disk ({written:,} created); rerun "
              f"exit {rerun.returncode}: {unchanged:,} unchanged (not sent), {sent:,} sent; "
              f"sent == rows still different: {sent + unchanged == KILL_ROWS}; "
              f"applied-but-unrecorded at the kill: {unchanged - written}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--users", type=int, default=40_000)
    parser.add_argument("--parts", default="preview,faults,throughput,kill",
                        help="comma-separated subset of: preview, faults, throughput, kill")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    print(f"User sync benchmark: {args.rows:,}-row export, {args.users:,} existing users")
    if parts & {"preview", "faults"}:
        with server_process(args.users, 0, 0.0, *SIM_ARGS) as base_url, \
                WhatfixClient(demo_settings(base_url, concurrency=8)) as client:
            users = with_retries(lambda: user_sync.load_current(client)).end_users
            data, valid_rows = make_export(users.to_dict("records"), args.rows)
            print(f"1. validation + preview ({len(data) / 1e6:.1f} MB CSV)")
            measure_preview(client, data)
    if "faults" in parts:
        print(f"2. apply at {FAULT_RATE:.0%} faults, concurrency {FAULT_CONCURRENCY}")
        with server_process(args.users, 0, FAULT_RATE, *SIM_ARGS) as base_url:
            measure_faults(base_url, data, valid_rows)
    if "throughput" in parts:
        print(f"3. throughput at {LATENCY_MS} ms latency")
        measure_throughput(2_000)
    if "kill" in parts:
        print(f"4. CLI killed mid-apply ({KILL_ROWS:,} rows, {KILL_LATENCY_MS} ms latency)")
        measure_kill_resume(2_000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
