"""The apply widget User Sync and Task Lists (outreach) share: User Sync's apply with a live
progress bar, outcomes streamed to a file under the sync folder, the audit log, then the caches
refreshed; and the counts per outcome of a finished run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ui.session import client as session_client
from whatfix_data import user_sync
from whatfix_data.errors import WhatfixError
from whatfix_data.user_sync.apply import ApplyProgress, ApplyResult
from whatfix_data.user_sync.outcomes import OUTCOMES


@dataclass(frozen=True)
class AppliedRun:
    """A finished apply: its result, the outcomes so far, the audit log's path and run id, and
    why the end users could not be read again afterwards ("" when they could)."""

    result: ApplyResult
    outcomes_path: Path
    outcomes: object  # pandas.DataFrame, one row per input row (OutcomeRecorder.frame())
    audit_path: Path
    audit_run: str
    refresh_problem: str


def run_apply(plan: user_sync.Plan, outcomes_path: Path,
              progress_text: Callable[[ApplyProgress], str]) -> AppliedRun:
    """Send ``plan`` with a progress bar labelled by ``progress_text``; ``user_sync.refresh_cache``
    then clears every page's cache once (its listeners), so they show the changed users."""
    client = session_client()
    bar = st.progress(0.0, text="Starting")

    def show(progress: ApplyProgress) -> None:
        share = progress.sent / progress.to_send if progress.to_send else 1.0
        bar.progress(min(share, 1.0), text=progress_text(progress))

    recorder = user_sync.OutcomeRecorder(outcomes_path)
    audit = user_sync.AuditLog(user_sync.default_audit_path())
    try:
        result = user_sync.apply_plan(plan, user_sync.end_user_writer(client),
                                      recorder=recorder, audit=audit,
                                      concurrency=client.settings.max_concurrency, progress=show)
    finally:
        recorder.close()
        audit.close()
    refresh_problem = ""
    try:
        user_sync.refresh_cache(client)
    except WhatfixError as exc:  # the apply itself is done and recorded: say so, go on
        refresh_problem = exc.user_message
    return AppliedRun(result=result, outcomes_path=outcomes_path, outcomes=recorder.frame(),
                      audit_path=audit.path, audit_run=audit.run_id,
                      refresh_problem=refresh_problem)


def outcome_counts(result: ApplyResult) -> None:
    """One metric per outcome (created, updated, unchanged, invalid, failed)."""
    cells = st.columns(len(OUTCOMES))
    for cell, name in zip(cells, OUTCOMES, strict=True):
        cell.metric(name.capitalize(), f"{result.counts.get(name, 0):,}")


def run_banner(result: ApplyResult, *, interrupted: str, finished: str) -> None:
    """A warning when the run was interrupted (``interrupted``), else a success (``finished``)."""
    if result.interrupted:
        st.warning(interrupted, icon=":material/pause:")
    else:
        st.success(finished, icon=":material/check_circle:")
