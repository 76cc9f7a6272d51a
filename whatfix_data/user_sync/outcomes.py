"""Where every row's outcome goes: the outcomes CSV (streamed), the JSON-lines audit log, and the
failed-rows file that can be uploaded again as is.

The outcomes CSV (``row,userId,outcome,message``) is written through the project's one CSV writer
(:func:`whatfix_data.exports.to_csv_bytes`), header once, then small chunks appended and flushed
to the operating system, so killing the process loses at most the last FLUSH_SECONDS of outcomes
(and a re-run recomputes those from the server anyway: only what still differs is sent).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from whatfix_data.exports import open_private, to_csv_bytes
from whatfix_data.user_sync.reading import SourceTable

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
INVALID = "invalid"
FAILED = "failed"
OUTCOMES: tuple[str, ...] = (CREATED, UPDATED, UNCHANGED, INVALID, FAILED)
OUTCOME_COLUMNS: tuple[str, ...] = ("row", "userId", "outcome", "message")
# A chunk is written when it holds this many rows or is this old, whichever comes first.
# One to_csv_bytes call costs a few ms whatever its size: per-row writes would cost a core at
# hundreds of rows per second, while 0.1 s chunks lose at most that much on a SIGKILL (and a re-run
# finds those rows unchanged anyway).
FLUSH_ROWS = 100
FLUSH_SECONDS = 0.1
# Outcomes and audit logs name users: 0600 files in 0700 folders (exports.open_private).


def empty_outcomes() -> pd.DataFrame:
    """An outcomes frame with no rows and the fixed columns."""
    return pd.DataFrame({
        "row": pd.Series([], dtype="int64"),
        "userId": pd.Series([], dtype=object),
        "outcome": pd.Series([], dtype=object),
        "message": pd.Series([], dtype=object),
    })


def outcomes_frame(lines: list[tuple[int, str, str, str]]) -> pd.DataFrame:
    """Outcome tuples (row, userId, outcome, message) as a frame with the fixed columns."""
    if not lines:
        return empty_outcomes()
    rows, ids, outcomes, messages = zip(*lines, strict=True)
    return pd.DataFrame({
        "row": pd.Series(rows, dtype="int64"),
        "userId": pd.Series(ids, dtype=object),
        "outcome": pd.Series(outcomes, dtype=object),
        "message": pd.Series(messages, dtype=object),
    })


def _body_lines(csv_bytes: bytes) -> bytes:
    """The CSV bytes without their header line (the header is written once per file)."""
    return csv_bytes.split(b"\n", 1)[1] if b"\n" in csv_bytes else b""


@dataclass
class OutcomeRecorder:
    """Keeps every outcome in memory and, when a path is given, streams them to a CSV file.

    ``record`` is thread-safe. Counts per outcome are kept as rows arrive.
    """

    path: Path | None = None
    lines: list[tuple[int, str, str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    _pending: list[tuple[int, str, str, str]] = field(default_factory=list)
    _handle: BinaryIO | None = None
    _last_flush: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.path is not None:
            self.path = Path(self.path)
            descriptor = open_private(self.path, os.O_WRONLY | os.O_TRUNC)
            self._handle = os.fdopen(descriptor, "wb")
            self._handle.write(to_csv_bytes(empty_outcomes()))
            self._handle.flush()

    def record(self, row: int, user_id: str, outcome: str, message: str = "") -> None:
        """Add one row's outcome; the file gets it within FLUSH_SECONDS."""
        line = (int(row), str(user_id), outcome, message)
        with self._lock:
            self.lines.append(line)
            self.counts[outcome] += 1
            self._pending.append(line)
            due = time.monotonic() - self._last_flush >= FLUSH_SECONDS
            if len(self._pending) >= FLUSH_ROWS or due:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def flush_if_due(self) -> None:
        """Write pending outcomes older than FLUSH_SECONDS (called while waiting for replies)."""
        with self._lock:
            if self._pending and time.monotonic() - self._last_flush >= FLUSH_SECONDS:
                self._flush_locked()

    def _flush_locked(self) -> None:
        self._last_flush = time.monotonic()
        if self._handle is None or not self._pending:
            self._pending.clear()
            return
        self._handle.write(_body_lines(to_csv_bytes(outcomes_frame(self._pending))))
        self._handle.flush()
        self._pending.clear()

    def close(self) -> None:
        """Write what is pending and close the file (safe to call twice)."""
        with self._lock:
            self._flush_locked()
            if self._handle is not None:
                self._handle.close()
                self._handle = None

    def frame(self) -> pd.DataFrame:
        """All outcomes so far, in row order."""
        with self._lock:
            lines = list(self.lines)
        return outcomes_frame(lines).sort_values("row", kind="stable").reset_index(drop=True)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def outcomes_csv(outcomes: pd.DataFrame) -> bytes:
    """The outcomes as a downloadable CSV, in row order."""
    return to_csv_bytes(outcomes.sort_values("row", kind="stable"))


def failed_rows_frame(table: SourceTable, outcomes: pd.DataFrame) -> pd.DataFrame:
    """The original columns and cell text of the failed rows: a file to upload again as is."""
    failed = outcomes.loc[outcomes["outcome"] == FAILED, "row"].to_numpy()
    keep = table.rows.isin(failed).to_numpy()
    return table.frame.loc[keep].reset_index(drop=True)


def failed_rows_csv(table: SourceTable, outcomes: pd.DataFrame) -> bytes:
    """:func:`failed_rows_frame` as CSV bytes (formula guard undone again when read back)."""
    return to_csv_bytes(failed_rows_frame(table, outcomes))


class AuditLog:
    """Append-only JSON lines, one per row sent: time, run, row, userId, outcome, HTTP status and
    the names (never the values) of the fields and attributes that changed. No credentials."""

    def __init__(self, path: str | Path, run_id: str | None = None) -> None:
        self.path = Path(path)
        self.run_id = run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        fd = open_private(self.path, os.O_WRONLY | os.O_APPEND)
        self._handle = os.fdopen(fd, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, entry: dict[str, Any]) -> None:
        """Append one entry (a ``time`` and the run id are added) and flush it."""
        line = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "run": self.run_id, **entry}
        text = json.dumps(line, ensure_ascii=False, default=str)
        with self._lock:
            self._handle.write(text + "\n")
            self._handle.flush()

    def close(self) -> None:
        with self._lock:
            if not self._handle.closed:
                self._handle.close()


def read_audit_log(path: str | Path) -> list[dict[str, Any]]:
    """Every entry of an audit log file (for the page and the tests)."""
    source = Path(path)
    if not source.exists():
        return []
    with source.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def audit_run_jsonl(path: str | Path, run_id: str) -> bytes:
    """The audit entries of one run as JSON lines: the download of a run in the browser."""
    entries = [e for e in read_audit_log(path) if e.get("run") == run_id]
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries).encode("utf-8")
