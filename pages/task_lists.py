"""Task Lists: completion per task list, per-user progress, one-task-left outreach, segments."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

import ui
from ui import apply as apply_ui
from whatfix_data import charts, exports, outreach, user_sync
from whatfix_data.analytics import tasks as task_stats
from whatfix_data.errors import WhatfixError
from whatfix_data.user_sync.outcomes import FAILED

K_OUTREACH_PLAN = "to_plan"  # (request, selection, Plan)
K_OUTREACH_RESULT = "to_result"
K_PREVIEW_ASKED = "_to_preview_asked"
K_APPLY_ASKED = "_to_apply_asked"


def _request(flag: str) -> None:
    """Button callback: remember that the action was asked for (read by this run)."""
    st.session_state[flag] = True


def distribution(current: ui.Filters, tasks: pd.DataFrame) -> None:
    """Users per progress bucket for each task list, and a summary per task list."""
    normalise = st.toggle("Show shares (%) instead of user counts", value=True, key="shares",
                          bind="query-params")
    fig = charts.task_list_distribution(tasks, normalise=normalise, subtitle=current.range_label)
    ui.chart(fig, key="tl_distribution")
    ui.table(task_stats.summary(tasks), key="tl_summary", title="Task list summary",
             empty="No task-list activity in this range.")


def per_user(tasks: pd.DataFrame) -> None:
    """Every user's progress on every task list."""
    ui.table(task_stats.progress(tasks), key="tl_users", title="Per-user task progress",
             empty="No task-list activity in this range.")


def one_task_left(tasks: pd.DataFrame) -> None:
    """Users one task away from finishing a list: the cheapest outreach win."""
    close = task_stats.one_task_left(tasks)
    st.caption(task_stats.one_task_left_summary(close))
    ui.table(close, key="tl_one_left", title="One task left",
             empty="Nobody has exactly one task left in this range.")


def by_segment(current: ui.Filters) -> None:
    """Average task completion of each segment's members."""
    breakdown = task_stats.completion_by_segment(
        ui.load("segments").frame, ui.membership(), ui.load("task-completion").frame
    )
    if current.segment_id:
        st.caption("Every segment side by side, each limited to its own members: the sidebar's "
                   "segment filter does not change this section.")
    ui.chart(charts.completion_by_segment(breakdown,
                                          subtitle=current.range_label), key="tl_segments")
    shown = breakdown[["segment_id", "name", "members", "task_rows", "task_completion_pct",
                       "task_lists_completed"]]
    ui.table(shown, key="tl_segments", title="Task completion by segment",
             empty="No segment has members.")


def _outreach_request(tasks: pd.DataFrame) -> tuple[tuple, pd.DataFrame, outreach.Tag] | None:
    """The PM's choice of task list, bucket and attribute; None (with a message) when unusable."""
    summary = task_stats.summary(tasks)
    if summary.empty:
        st.info("No task-list activity in this range: nobody to tag.", icon=":material/info:")
        return None
    names = dict(zip(summary["task_list_id"].astype(str), summary["task_list_name"].astype(str),
                     strict=True))
    labels = ui.option_labels(names)  # a URL-bound choice is named by its (unique) label
    left, right = st.columns(2)
    list_id = left.selectbox("Task list", list(names), format_func=lambda i: labels.get(i, i),
                             key="to_task_list", bind="query-params")
    bucket = right.selectbox("Users", list(outreach.BUCKETS),
                             format_func=outreach.BUCKET_LABELS.get, key="to_bucket",
                             bind="query-params")
    left, right = st.columns(2)
    name = left.text_input("Attribute name", value="nudge_onboarding", key="to_attr_name")
    value = right.text_input("Value", value=f"{ui.today():%Y-%m}", key="to_attr_value")
    try:
        tag = outreach.make_tag(name, value)
        selection = outreach.select_users(tasks, list_id, bucket)
    except WhatfixError as exc:
        st.error(ui.md_escape(exc.user_message), icon=":material/error:")
        return None
    who = outreach.BUCKET_LABELS[bucket].lower()
    st.caption(f"{len(selection):,} users of this task list ({ui.md_escape(who)}) in "
               f"{ui.md_escape(ui.filters().range_label)}; tagging sets only this attribute "
               "and keeps every other one.")
    request = (ui.scope(), list_id, bucket, tag.name, repr(tag.value),
               tuple(selection["user_id"]))
    return request, selection, tag


def outreach_section(tasks: pd.DataFrame) -> None:
    """Tag the users of a progress bucket in Whatfix (preview first, then User Sync's apply)."""
    st.caption("Tag these users with an attribute in Whatfix, so that a segment rule on it "
               "(e.g. nudge_onboarding equals 2026-12) targets them with a nudge.")
    stored = st.session_state.get(K_OUTREACH_RESULT)
    if stored:
        outreach_result(stored)
    chosen = _outreach_request(tasks)
    if chosen is None:
        return
    request, selection, tag = chosen
    # Callbacks, not the buttons' return values: a flag survives a rerun of the script.
    st.button("Preview tagging", icon=":material/difference:", key="to_preview",
              disabled=selection.empty, on_click=_request, args=(K_PREVIEW_ASKED,))
    if st.session_state.pop(K_PREVIEW_ASKED, False):
        with st.spinner("Reading the current end users and segments"):
            current = user_sync.load_current(ui.client())
        st.session_state[K_OUTREACH_PLAN] = (request, selection,
                                             outreach.build_plan(selection, tag, current))
    planned = st.session_state.get(K_OUTREACH_PLAN)
    if not planned or planned[0] != request:
        return
    plan = planned[2]
    st.markdown(ui.md_escape(outreach.preview_sentence(plan, tag)))
    counts = plan.summary()
    cells = st.columns(3)
    cells[0].metric("To tag", f"{counts['update']:,}")
    cells[1].metric("Already tagged (not sent)", f"{counts['unchanged']:,}")
    cells[2].metric("Not end users (skipped)", f"{counts['invalid']:,}")
    moved = plan.segment_changes
    moved = moved[(moved["joining"] > 0) | (moved["leaving"] > 0)]
    st.markdown("**Segment membership after tagging** (local rule evaluation)")
    ui.table(moved[["name", "members_now", "joining", "leaving", "members_after"]],
             key="to_segments", title="Outreach segment changes",
             empty="No segment gains or loses a member.")
    to_send = len(plan.to_send)
    st.button(f"Tag {to_send:,} users", type="primary", icon=":material/sell:", key="to_apply",
              disabled=to_send == 0, on_click=_request, args=(K_APPLY_ASKED,))
    if st.session_state.pop(K_APPLY_ASKED, False) and to_send:
        st.session_state[K_OUTREACH_RESULT] = run_outreach(plan, planned[1], request)
        st.session_state.pop(K_OUTREACH_PLAN, None)  # the API changed: preview again
        st.rerun()


def run_outreach(plan: user_sync.Plan, selection: pd.DataFrame, request: tuple) -> dict[str, Any]:
    """User Sync's apply with a progress bar; outcomes to a file and to the session."""
    run = apply_ui.run_apply(
        plan, user_sync.new_outcomes_path(f"tag-{request[1]}-{request[2]}"),
        lambda progress: f"Tagged {progress.sent:,} of {progress.to_send:,}")
    if run.refresh_problem:  # the tagging is done and recorded; other pages refresh later
        st.toast("The end users could not be read again: other pages may show older data.")
    return {"result": run.result, "stem": f"outreach {request[1]} {request[2]} outcomes",
            "outcomes": outreach.outcomes_with_users(run.outcomes, selection)}


def outreach_result(stored: dict[str, Any]) -> None:
    """The last tagging run: counts per outcome, the outcomes download, what failed."""
    result = stored["result"]
    apply_ui.run_banner(
        result, interrupted="The tagging was interrupted: run it again to tag the users still "
        "missing (users already tagged are not sent again).",
        finished=f"Tagging finished: each of the {result.total:,} users has an outcome.")
    apply_ui.outcome_counts(result)
    st.download_button("Download outcomes CSV", data=exports.to_csv_bytes(stored["outcomes"]),
                       file_name=ui.stem_file_name(stored["stem"], "csv"), mime="text/csv",
                       key="to_dl_outcomes", icon=":material/download:", on_click="ignore")
    failed = stored["outcomes"][stored["outcomes"]["outcome"] == FAILED]
    ui.table(failed, key="to_failed", title="Users not tagged", empty="No user failed.",
             file_stem=f"{stored['stem']} failed")


def main() -> None:
    """Draw the Task Lists page."""
    current = ui.filters()
    # The rows and the lists that segment membership needs, at once
    ui.prefetch([("task-completion", current.date_range), ("end-users", None)])
    st.title("Task Lists")
    st.caption(current.range_label)
    ui.segment_note("task-completion")
    tasks = None
    with ui.section("Completion by task list"):
        tasks = ui.for_segment(ui.load("task-completion").frame)
        distribution(current, tasks)
    if tasks is not None:
        with ui.section("Users with one task left"):
            one_task_left(tasks)
        with ui.section("Tag users in Whatfix (outreach)"):
            outreach_section(tasks)
        with ui.section("Per-user progress"):
            per_user(tasks)
    with ui.section("Completion by segment"):
        by_segment(current)


main()
