"""User Sync (admin): upload a CRM/IdP export, map its columns, validate, preview, apply.

Thin by design: reading, validation, the diff, the apply and the outcome files all live in
``whatfix_data.user_sync`` (the CLI ``sync-users`` runs the same code). The apply runs in this
script run; leaving the page or closing the tab stops it, and nothing is lost: every outcome so
far is on disk, the rows not sent are "failed", and running the file again sends only what still
differs.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

import ui
from ui import apply as apply_ui
from whatfix_data import user_sync
from whatfix_data.config import upload_limits
from whatfix_data.user_sync.apply import ApplyProgress
from whatfix_data.user_sync.outcomes import FAILED

UPLOAD_TYPES = ["csv", "xlsx", "txt", "tsv"]
K_UPLOAD = "us_upload"
K_TABLE = "us_table"  # (file digest, SourceTable)
K_PLAN = "us_plan"  # (plan key, Plan)
K_VALIDATION = "us_validation"  # (table id + mapping, Validation)
K_RESULT = "us_result"  # the last apply: dict with result, outcomes, failed CSV, paths
DIGEST_CHARS = 12
NONE_LABEL = "(none)"
ACTION_LABELS = {"create": "Create", "update": "Update", "unchanged": "Unchanged"}
SEGMENT_CHANGE_COLUMNS = ["segment", "members_now", "joining", "leaving", "members_after"]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:DIGEST_CHARS]


def download_stem(file_name: str, what: str) -> str:
    """Name of a download derived from the uploaded file, e.g. "crm-export validation problems".

    Not the dashboard's title/account/date-range name: a sync file does not depend on the filters.
    """
    return f"{Path(file_name).stem} {what}"


def read_table(uploaded: Any) -> tuple[str, user_sync.SourceTable]:
    """The uploaded file as a SourceTable, read once per file (kept in the session)."""
    data = uploaded.getvalue()
    digest = _digest(data)
    cached = st.session_state.get(K_TABLE)
    if cached and cached[0] == digest:
        return cached
    # Forget the previous file first: if this one cannot be read, nothing stale stays on screen.
    st.session_state.pop(K_TABLE, None)
    st.session_state.pop(K_PLAN, None)
    # The same limits as `sync-users` (WHATFIX_MAX_UPLOAD_*), checked before parsing.
    table = user_sync.read_upload(data, uploaded.name, upload_limits(st.secrets, os.environ))
    st.session_state[K_TABLE] = (digest, table)
    return digest, table


def mapping_editor(digest: str, table: user_sync.SourceTable) -> user_sync.ColumnMapping:
    """Selectors for userId/email/name, ignored and text-only columns; starts from the guess."""
    columns = table.columns
    guess = user_sync.guess_mapping(columns)
    options = ["", *columns]

    def pick(column: Any, label: str, current: str, key: str) -> str:
        return column.selectbox(label, options, index=options.index(current),
                                format_func=lambda c: c or NONE_LABEL, key=f"{key}_{digest}")

    left, middle, right = st.columns(3)
    user_id = pick(left, "userId column", guess.user_id, "us_map_uid")
    email = pick(middle, "email column", guess.email, "us_map_email")
    name = pick(right, "name column", guess.name, "us_map_name")
    ignored = st.multiselect("Columns not to send", columns, default=list(guess.ignored),
                             key=f"us_map_ignored_{digest}")
    core = {user_id, email, name}
    candidates = [c for c in columns if c not in core and c not in ignored]
    text_columns = st.multiselect(
        "Attributes to keep as text (no number or true/false typing, e.g. zip codes)",
        candidates, key=f"us_map_text_{digest}")
    mapping = guess.with_fields(columns, user_id=user_id, email=email, name=name,
                                ignored=ignored, text_columns=text_columns)
    renames = st.text_area(
        "Attribute names (optional, one per line as attribute=column, like the CLI's --mapping)",
        key=f"us_map_renames_{digest}", placeholder="role=Job Title", height=68)
    mapping = user_sync.parse_mapping_options(
        [line for line in renames.splitlines() if line.strip()], mapping)
    names = ", ".join(mapping.attributes.values()) or "none"
    st.caption(f"Attributes sent: {ui.md_escape(names)}. Empty cells keep the user's current "
               "value; a sync never deletes attributes.")
    return mapping


def validation_section(digest: str, table: user_sync.SourceTable,
                       mapping: user_sync.ColumnMapping) -> user_sync.Validation:
    """Counts, file findings, and every problem with its row number (downloadable)."""
    key = _plan_key(digest, mapping)
    cached = st.session_state.get(K_VALIDATION)
    if cached and cached[0] == key:
        validation = cached[1]
    else:  # validated once per file and mapping, not on every rerun of the page
        validation = user_sync.validate(table, mapping)
        st.session_state[K_VALIDATION] = (key, validation)
    for finding in validation.findings:
        st.warning(ui.md_escape(finding.problem), icon=":material/warning:")
    rows, valid, invalid = st.columns(3)
    rows.metric("Rows in the file", f"{validation.total_rows:,}")
    valid.metric("Valid rows", f"{validation.valid_count:,}")
    invalid.metric("Invalid rows (never sent)", f"{validation.invalid_count:,}")
    ui.table(validation.problems, key="us_problems", title="Validation problems",
             empty="No problems: every row can be sent.",
             file_stem=download_stem(table.file_name, "validation problems"),
             config={"problem": st.column_config.TextColumn("Problem", width="large")})
    return validation


def _plan_key(digest: str, mapping: user_sync.ColumnMapping) -> str:
    return f"{digest}|{mapping!r}"


def preview_section(digest: str, mapping: user_sync.ColumnMapping,
                    validation: user_sync.Validation, file_name: str) -> user_sync.Plan | None:
    """Compare with the current end users on request; show creates, updates and segment moves."""
    key = _plan_key(digest, mapping)
    stored = st.session_state.get(K_PLAN)
    if st.button("Preview changes", icon=":material/difference:", key="us_preview",
                 disabled=validation.valid_count == 0):
        with st.spinner("Reading the current end users and segments"):
            current = user_sync.load_current(ui.client())
            plan = user_sync.build_plan(validation, current.end_users, current.segments)
        st.session_state[K_PLAN] = stored = (key, plan)
    if not stored or stored[0] != key:
        st.caption("The preview compares the valid rows with the end users in Whatfix now.")
        return None
    plan = stored[1]
    show_plan(plan, file_name)
    return plan


def show_plan(plan: user_sync.Plan, file_name: str) -> None:
    """Counts per action, the rows to send with what changes, and per-segment membership moves."""
    counts = plan.summary()
    cells = st.columns(4)
    cells[0].metric("Create", f"{counts['create']:,}")
    cells[1].metric("Update", f"{counts['update']:,}")
    cells[2].metric("Unchanged (not sent)", f"{counts['unchanged']:,}")
    cells[3].metric("Invalid (not sent)", f"{counts['invalid']:,}")
    to_send = plan.to_send
    changes = pd.DataFrame({
        "row": to_send["row"],
        "user_id": to_send["user_id"].astype(str),
        "action": to_send["action"].map(ACTION_LABELS),
        "changed": [", ".join([*f, *a]) for f, a in zip(
            to_send["changed_fields"], to_send["changed_attributes"], strict=True)],
    })
    ui.table(changes, key="us_changes", title="Changes to send",
             empty="Nothing to send: Whatfix already holds every value of the file.",
             file_stem=download_stem(file_name, "changes to send"))
    if not to_send.empty:
        st.markdown("**Old and new value of each changed field** (an empty old value: the user "
                    "has none yet)")
        ui.table(user_sync.value_changes(plan), key="us_values", title="Old and new values",
                 file_stem=download_stem(file_name, "old and new values"))
    moved = plan.segment_changes
    moved = moved[(moved["joining"] > 0) | (moved["leaving"] > 0)]
    # Segments by name as the admin knows them (the id only when a segment has no name).
    segment = moved["name"].astype("string").fillna(moved["segment_id"].astype("string"))
    moved = moved.assign(segment=segment)[SEGMENT_CHANGE_COLUMNS]
    st.markdown("**Segment membership after the sync** (local rule evaluation)")
    ui.table(moved, key="us_segments", title="Segment changes",
             empty="No segment gains or loses a member.",
             file_stem=download_stem(file_name, "segment changes"))


def apply_section(table: user_sync.SourceTable, plan: user_sync.Plan) -> None:
    """The apply button, its progress bar with counts, then the outcome downloads."""
    to_send = len(plan.to_send)
    st.caption("Keep this tab open while the sync runs. Leaving or closing it stops the sync: "
               "the outcomes so far are kept, and the same file can simply be uploaded again.")
    if st.button(f"Apply {to_send:,} changes", type="primary", icon=":material/sync:",
                 key="us_apply", disabled=to_send == 0):
        st.session_state[K_RESULT] = run_apply(table, plan)
        st.session_state.pop(K_PLAN, None)  # the API changed: a new preview is needed
        st.rerun()


def run_apply(table: user_sync.SourceTable, plan: user_sync.Plan) -> dict[str, Any]:
    """Apply with a live progress bar; the outcomes stream to a file under the sync folder."""
    def progress_text(progress: ApplyProgress) -> str:
        counts = ", ".join(f"{name} {count:,}" for name, count in progress.counts.items())
        return f"Sent {progress.sent:,} of {progress.to_send:,} rows: {counts}"

    run = apply_ui.run_apply(plan, user_sync.new_outcomes_path(table.file_name), progress_text)
    return {
        "refresh_problem": run.refresh_problem,
        "result": run.result,
        "outcomes": run.outcomes,
        "failed_csv": user_sync.failed_rows_csv(table, run.outcomes),
        "outcomes_path": str(run.outcomes_path),
        "audit_path": str(run.audit_path),
        "audit_run": run.audit_run,
        "file_name": table.file_name,
    }


def result_section(stored: dict[str, Any]) -> None:
    """Counts per outcome, where the files are, and the downloads."""
    result = stored["result"]
    apply_ui.run_banner(
        result, interrupted="The sync was interrupted. Rows not sent are marked failed: upload "
        "the failed rows (or the whole file) again to finish.",
        finished=f"Sync finished: every one of the {result.total:,} rows has an outcome.")
    if stored.get("refresh_problem"):
        st.warning("The end users could not be read again after the sync, so other pages may "
                   f"show older data for a while: {ui.md_escape(stored['refresh_problem'])}")
    apply_ui.outcome_counts(result)
    st.caption("Download the outcomes (one line per row of the file) and this run's audit "
               "entries below; the server also keeps both in its user-sync folder.")
    source = stored["file_name"]
    row = st.container(horizontal=True)
    row.download_button(
        "Download outcomes CSV", data=user_sync.outcomes_csv(stored["outcomes"]),
        file_name=ui.stem_file_name(download_stem(source, "outcomes"), "csv"), mime="text/csv",
        key="us_dl_outcomes", icon=":material/download:", on_click="ignore")
    row.download_button(
        "Download audit entries (JSON lines)",
        data=user_sync.audit_run_jsonl(stored["audit_path"], stored["audit_run"]),
        file_name=ui.stem_file_name(download_stem(source, "audit"), "jsonl"),
        mime="application/jsonl", key="us_dl_audit", icon=":material/download:",
        on_click="ignore")
    if result.counts.get(FAILED):
        row.download_button(
            f"Download {result.counts[FAILED]:,} failed rows", data=stored["failed_csv"],
            file_name=ui.stem_file_name(download_stem(source, "failed"), "csv"),
            mime="text/csv", key="us_dl_failed", icon=":material/download:", on_click="ignore")
    failed = stored["outcomes"][stored["outcomes"]["outcome"] == FAILED]
    ui.table(failed, key="us_failed", title="Failed rows", empty="No row failed.",
             file_stem=download_stem(source, "failed rows"))


def main() -> None:
    """Draw the User Sync page."""
    st.title("User Sync")
    st.caption("Upsert end users from a CRM or identity-provider export. Nothing is sent before "
               "you preview and apply; every row ends created, updated, unchanged, invalid or "
               "failed, and the same file can be run again safely.")
    stored = st.session_state.get(K_RESULT)
    if stored:
        with ui.section("Last sync"):
            result_section(stored)
    uploaded = st.file_uploader("CSV or XLSX export, header row first", type=UPLOAD_TYPES,
                                key=K_UPLOAD)
    if uploaded is None:
        st.info("Upload a file with a userId column (and email, name and attribute columns).",
                icon=":material/upload_file:")
        return
    loaded = None
    with ui.section():
        loaded = read_table(uploaded)
    if loaded is None:
        return
    digest, table = loaded
    st.caption(f"{ui.md_escape(table.file_name)}: {len(table):,} rows, "
               f"{len(table.columns)} columns, read as {table.encoding}.")
    st.subheader("Column mapping")
    try:
        mapping = mapping_editor(digest, table)
        mapping.check(table.columns)
    except user_sync.MappingError as exc:
        st.error(ui.md_escape(str(exc)), icon=":material/error:")
        return
    validation = None
    with ui.section("Validation"):
        validation = validation_section(digest, table, mapping)
    if validation is None:
        return
    plan = None
    with ui.section("Preview"):
        plan = preview_section(digest, mapping, validation, table.file_name)
    if plan is not None:
        with ui.section("Apply"):
            apply_section(table, plan)

main()
