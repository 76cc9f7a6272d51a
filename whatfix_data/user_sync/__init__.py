"""User sync: upsert end users from a CRM or identity-provider export, exactly and resumably.

The flow, shared by the page (pages/user_sync.py) and the CLI (``sync-users``)::

    table = read_upload(data, "export.csv")          # reading: CSV/XLSX, encoding, row numbers
    mapping = guess_mapping(table.columns)           # mapping: header -> userId/email/name/attrs
    validation = validate(table, mapping)            # validation: every problem with its row
    current = load_current(client)                   # remote: end users + segments, fresh
    plan = build_plan(validation, current.end_users, current.segments)   # preview: the diff
    result = apply_plan(plan, end_user_writer(client), recorder=OutcomeRecorder(path),
                        audit=AuditLog(default_audit_path()))            # apply: one outcome/row
    refresh_cache(client)          # the one place a sync invalidates caches, then re-fetches

Every input row ends in exactly one outcome: created, updated, unchanged, invalid or failed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from whatfix_data.exports import private_folder
from whatfix_data.user_sync.apply import ApplyProgress, ApplyResult, apply_plan, outcome_summary
from whatfix_data.user_sync.mapping import (
    ColumnMapping,
    MappingError,
    guess_mapping,
    parse_mapping_options,
)
from whatfix_data.user_sync.outcomes import (
    OUTCOMES,
    AuditLog,
    OutcomeRecorder,
    audit_run_jsonl,
    failed_rows_csv,
    failed_rows_frame,
    outcomes_csv,
    read_audit_log,
)
from whatfix_data.user_sync.preview import Plan, build_plan, value_changes
from whatfix_data.user_sync.reading import SourceTable, SyncFileError, read_path, read_upload
from whatfix_data.user_sync.remote import (
    CurrentState,
    account_changed,
    end_user_writer,
    load_current,
    on_account_change,
    put_end_user,
    refresh_cache,
)
from whatfix_data.user_sync.validation import MAX_ATTRIBUTES, Validation, validate

SYNC_DIR_ENV = "WHATFIX_SYNC_DIR"
STATE_DIR_NAME = "whatfix-dashboard"
SYNC_DIR_NAME = "user-sync"
AUDIT_FILE_NAME = "audit.jsonl"
OUTCOMES_DIR_NAME = "outcomes"


def sync_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where sync logs live: $WHATFIX_SYNC_DIR, else $XDG_STATE_HOME (or ~/.local/state)."""
    env = os.environ if env is None else env
    if env.get(SYNC_DIR_ENV):
        return Path(env[SYNC_DIR_ENV])
    home = Path(env.get("HOME") or Path.home())
    base = Path(env.get("XDG_STATE_HOME") or home / ".local" / "state")
    return base / STATE_DIR_NAME / SYNC_DIR_NAME


def private_sync_dir(env: Mapping[str, str] | None = None) -> Path:
    """The sync folder and its outcomes folder, created (or set back to) mode 0700: they hold
    files that name users."""
    folder = private_folder(sync_dir(env), tighten=True)
    private_folder(folder / OUTCOMES_DIR_NAME, tighten=True)
    return folder


def default_audit_path(env: Mapping[str, str] | None = None) -> Path:
    """The audit log every sync appends to (JSON lines); see :func:`private_sync_dir`."""
    return sync_dir(env) / AUDIT_FILE_NAME


def new_outcomes_path(file_name: str, env: Mapping[str, str] | None = None) -> Path:
    """A fresh outcomes file for one run of one uploaded file (the page keeps every run)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(file_name).stem)[:60]
    return private_sync_dir(env) / OUTCOMES_DIR_NAME / f"{stamp}-{stem or 'upload'}-outcomes.csv"


__all__ = [
    "MAX_ATTRIBUTES",
    "OUTCOMES",
    "ApplyProgress",
    "ApplyResult",
    "AuditLog",
    "ColumnMapping",
    "CurrentState",
    "MappingError",
    "OutcomeRecorder",
    "Plan",
    "SourceTable",
    "SyncFileError",
    "Validation",
    "account_changed",
    "apply_plan",
    "audit_run_jsonl",
    "build_plan",
    "default_audit_path",
    "end_user_writer",
    "failed_rows_csv",
    "failed_rows_frame",
    "guess_mapping",
    "load_current",
    "new_outcomes_path",
    "on_account_change",
    "outcome_summary",
    "outcomes_csv",
    "parse_mapping_options",
    "private_sync_dir",
    "put_end_user",
    "read_audit_log",
    "read_path",
    "read_upload",
    "refresh_cache",
    "sync_dir",
    "validate",
    "value_changes",
]
