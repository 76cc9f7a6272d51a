"""Target widgets shared by the Overview (KPI targets) and Flows (per-flow targets): set, list
with their status over the sidebar's range, delete, and lines on the charts.

The targets themselves, their validation and evaluation live in ``whatfix_data.targets``; they
are stored per account (``Settings.store_spec``), so ``python -m whatfix_data alerts`` and the
review pack read the same ones. Targets judge the whole account, never the sidebar's segment.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.data import load
from ui.filters import filters
from ui.render import table
from ui.session import LOGGER, md_escape, settings
from whatfix_data import charts
from whatfix_data import targets as target_model
from whatfix_data.errors import WhatfixError

FLASH_KEY = "targets_flash"
PER_LABELS = {target_model.PER_RANGE: "over the range", target_model.PER_WEEK: "every week"}
DIRECTION_LABELS = {target_model.AT_LEAST: "at least", target_model.AT_MOST: "at most"}
SCOPE_NOTE = ("Targets judge the whole account (not the sidebar's segment); weekly targets judge "
              "each complete ISO week of the range. `python -m whatfix_data alerts` checks the "
              "same targets from cron.")


def store() -> target_model.TargetStore:
    """The account's target store (a SQLite file or Redis: cheap to open per run)."""
    return target_model.TargetStore(settings())


def all_targets() -> list[target_model.Target]:
    """The account's targets (StoreError / ConfigurationError when the store cannot be read:
    the Targets section shows it)."""
    return store().targets()


def chart_targets() -> list[target_model.Target]:
    """The targets to draw on charts and flag in tables; none when the store cannot be read, so
    a broken store never costs a chart (the Targets section says what is wrong)."""
    try:
        return all_targets()
    except WhatfixError:
        LOGGER.warning("The targets store could not be read; charts are drawn without targets.")
        return []


def evaluations(targets: list[target_model.Target] | None = None) -> list[target_model.Evaluation]:
    """Each target against the sidebar's range (weekly trends for weekly targets)."""
    targets = all_targets() if targets is None else targets
    if not targets:
        return []
    current = filters()
    data = {}
    for name in target_model.datasets_needed(targets):
        granularity = "week" if name.endswith("-trend") else None
        data[name] = load(name, current.date_range, granularity, warn_stale=False).frame
    return target_model.evaluate(targets, data, current.date_range)


def _flash() -> None:
    """The outcome of the last save or delete (set by the button callbacks)."""
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        kind, text = message
        if kind == "error":
            st.error(md_escape(text), icon=":material/error:")
        else:
            st.success(md_escape(text), icon=":material/check_circle:")


def _save(key: str, flow_id: str | None, flow_name: str | None) -> None:
    """Button callback (runs before the script, so it survives any rerun): validate and save."""
    state = st.session_state
    try:
        target = target_model.make_target(
            state.get(f"{key}_metric"), state.get(f"{key}_threshold"),
            per=state.get(f"{key}_per"), direction=state.get(f"{key}_direction"),
            flow_id=flow_id, flow_name=flow_name)
        store().save(target)
    except WhatfixError as exc:
        state[FLASH_KEY] = ("error", exc.user_message)
        return
    state[FLASH_KEY] = ("ok", f"Target saved: {target.label} ({target.applies_to}).")


def _delete(target_key: str, label: str) -> None:
    """Button callback: delete one target."""
    try:
        store().delete(target_key)
    except WhatfixError as exc:
        st.session_state[FLASH_KEY] = ("error", exc.user_message)
        return
    st.session_state[FLASH_KEY] = ("ok", f"Target deleted: {label}.")


def target_form(key: str, metrics: dict[str, str], *, flow_id: str | None = None,
                flow_name: str | None = None) -> None:
    """Metric, threshold (typed, validated), at least / at most, over the range / every week."""
    _flash()
    left, middle, right = st.columns([3, 2, 2])
    left.selectbox("Metric", list(metrics), format_func=metrics.get, key=f"{key}_metric")
    middle.text_input("Target", key=f"{key}_threshold",
                      placeholder="e.g. 60 (rates in %) or 500",
                      help="A number: a rate between 0 and 100 %, a count of 0 or more.")
    right.radio("Must be", list(DIRECTION_LABELS), format_func=DIRECTION_LABELS.get,
                horizontal=True, key=f"{key}_direction")
    st.radio("Judged", list(PER_LABELS), format_func=PER_LABELS.get, horizontal=True,
             key=f"{key}_per")
    st.button("Save target", key=f"{key}_save", icon=":material/flag:", on_click=_save,
              args=(key, flow_id, flow_name))


def target_table(results: list[target_model.Evaluation], *, key: str,
                 empty: str = "No target set yet.") -> None:
    """Every evaluation (breached ones first) and a delete button per target."""
    ordered = sorted(results, key=lambda e: (not e.breached, e.target.key, e.period_start))
    table(target_model.evaluation_frame(ordered), key=key, title="Targets", empty=empty)
    seen: dict[str, target_model.Target] = {}
    for result in ordered:
        seen.setdefault(result.target.key, result.target)
    if not seen:
        return
    with st.expander("Delete a target"):
        for target_key, target in seen.items():
            label = f"{target.label} ({target.applies_to})"
            st.button(md_escape(f"Delete: {label}"), key=f"{key}_delete_{target_key}",
                      icon=":material/delete:", on_click=_delete, args=(target_key, label))


def breach_list(results: list[target_model.Evaluation]) -> None:
    """One warning line per breach (or a note that every target is met)."""
    broken = target_model.breaches(results)
    if not results:
        return
    if not broken:
        st.success("Every target is met in this range.", icon=":material/check_circle:")
        return
    lines = "\n".join(f"- {md_escape(e.line())}" for e in broken)
    st.warning(f"**{len(broken)} target breach(es) in this range**\n{lines}",
               icon=":material/flag:")


def with_target_lines(fig: Any, targets: list[target_model.Target], metric: str,
                      granularity: str, *, flow_id: str | None = None) -> Any:
    """Draw the target of ``metric`` (for the account, or ``flow_id``) on a trend figure when its
    unit fits the chart: rates always; weekly counts only on a weekly chart, range counts never
    (a range total is not a per-window value)."""
    for target in targets:
        if target.metric != metric or target.flow_id != flow_id:
            continue
        if not target.is_rate and not (target.per == target_model.PER_WEEK
                                       and granularity == "week"):
            continue
        charts.add_target_line(fig, target.threshold, f"Target: {target.label}")
    return fig


def flag_flows(frame: Any, results: list[target_model.Evaluation] | None = None) -> Any:
    """A flows table with a ``target`` column: "breached: ..." / "met" / empty (no target)."""
    if results is None:
        flow_targets_set = [t for t in chart_targets() if t.flow_id is not None]
        results = evaluations(flow_targets_set) if flow_targets_set else []
    status = target_model.flow_status(results)
    if not status or "flow_id" not in frame:
        return frame
    out = frame.copy()
    out["target"] = out["flow_id"].map(status).astype("string")
    return out


def flow_targets(flow_id: str, flow_name: str | None, *, key: str) -> None:
    """The chosen flow's targets over the range and the form to set one; a store that cannot be
    read is a warning here, so the rest of the flow's section is still drawn."""
    try:
        mine = [t for t in all_targets() if t.flow_id == flow_id]
    except WhatfixError as exc:
        st.warning(md_escape(exc.user_message), icon=":material/flag:")
        return
    metrics = {name: spec[0] for name, spec in target_model.FLOW_METRICS.items()}
    target_table(evaluations(mine), key=f"{key}_table",
                 empty="No target for this flow yet.")
    target_form(key, metrics, flow_id=flow_id, flow_name=flow_name)
