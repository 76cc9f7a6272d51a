"""Notes on the charts: the add/edit/delete/import widget and the markers on every trend.

The notes live in ``whatfix_data.annotations`` (per account, SQLite or the shared Redis). Every
change goes through a callback that validates first: a refused note stays in the form with the
reason beside it, so nothing typed is lost.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
import streamlit as st

from ui.filters import today
from ui.session import LOGGER, md_escape, scope, settings
from whatfix_data import annotations, charts
from whatfix_data.errors import WhatfixError
from whatfix_data.windows import DateRange

K_ADD_DAY = "note_add_day"
K_ADD_FLOW = "note_add_flow"
K_ADD_TEXT = "note_add_text"
K_PICK = "note_pick"
K_MESSAGE = "_note_message"  # (kind, text) shown once after a callback
K_IMPORT = "note_import_file"
ACCOUNT_WIDE = ""
# Another session's new note shows on this session's charts within this many seconds.
NOTES_TTL_S = 5


def _store() -> annotations.NoteStore:
    return annotations.open_store(settings())


@st.cache_data(ttl=NOTES_TTL_S, max_entries=64, show_spinner=False)
def _scope_notes(cache_scope: str) -> list[annotations.Note]:
    """The notes of the scope's account, read once per few seconds however many trends a page
    draws (a store that does not answer costs one timeout, not one per chart)."""
    try:
        return _store().list_notes()
    except WhatfixError as exc:
        LOGGER.warning("Notes not shown: %s", exc.user_message)
        return []


def notes() -> list[annotations.Note]:
    """This account's notes; [] (and a log line) when the store cannot be read, so a chart
    never fails because of its notes."""
    return _scope_notes(scope())


def _changed() -> None:
    """After this session changed a note: every trend shows it on the next run."""
    _scope_notes.clear()


def notes_version() -> str:
    """A digest of this account's notes: part of a cached review pack's key, so a pack built
    before a note was added, edited or deleted is not served again."""
    text = "\n".join(n.to_json() for n in notes())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def annotate(fig: Any, date_range: DateRange, flow_id: str | None = None) -> Any:
    """Draw the notes of ``date_range`` on a trend figure (one flow's with ``flow_id``)."""
    return charts.add_annotations(fig, annotations.in_range(notes(), date_range, flow_id),
                                  flow_id=flow_id)


def _say(kind: str, text: str) -> None:
    st.session_state[K_MESSAGE] = (kind, text)


def _add() -> None:
    """Form callback: save the new note, or keep the form as typed and say why not."""
    try:
        note = annotations.new_note(st.session_state.get(K_ADD_DAY),
                                    st.session_state.get(K_ADD_TEXT),
                                    st.session_state.get(K_ADD_FLOW) or None, today=today())
        _store().save(note)
    except WhatfixError as exc:
        _say("error", exc.user_message)
        return
    _changed()
    st.session_state[K_ADD_TEXT] = ""
    _say("success", f"Note added for {note.day:%Y-%m-%d}.")


def _edit_keys(note_id: str) -> tuple[str, str, str]:
    return f"note_edit_day_{note_id}", f"note_edit_flow_{note_id}", f"note_edit_text_{note_id}"


def _save_edit(note: annotations.Note) -> None:
    day_key, flow_key, text_key = _edit_keys(note.note_id)
    try:
        changed = annotations.edited(note, day=st.session_state.get(day_key),
                                     text=st.session_state.get(text_key),
                                     flow_id=st.session_state.get(flow_key) or None,
                                     today=today())
        _store().save(changed)
    except WhatfixError as exc:
        _say("error", exc.user_message)
        return
    _changed()
    _say("success", f"Note of {changed.day:%Y-%m-%d} saved.")


def _delete(note: annotations.Note) -> None:
    try:
        _store().delete(note.note_id)
    except WhatfixError as exc:
        _say("error", exc.user_message)
        return
    _changed()
    st.session_state.pop(K_PICK, None)
    _say("success", f"Note of {note.day:%Y-%m-%d} deleted.")


def _import() -> None:
    uploaded = st.session_state.get(K_IMPORT)
    if uploaded is None:
        _say("error", "Choose a CSV file of notes first.")
        return
    try:
        result = annotations.import_csv(_store(), uploaded.getvalue(), today=today())
    except WhatfixError as exc:
        _say("error", exc.user_message)
        return
    _changed()
    text = f"Import: {result.summary()}"
    for line, problem in result.problems[:annotations.MAX_IMPORT_PROBLEMS_SHOWN]:
        text += f"\n- line {line}: {problem}"
    _say("warning" if result.problems else "success", text)


def _show_message() -> None:
    message = st.session_state.pop(K_MESSAGE, None)
    if message:
        kind, text = message
        getattr(st, kind)(md_escape(text).replace("\n\\- ", "\n- "))


def _flow_choice(label: str, key: str, flow_names: dict[str, str], container: Any,
                 current: str | None = None) -> None:
    options = [ACCOUNT_WIDE, *flow_names]
    if current and current not in options:
        options.append(current)
    container.selectbox(label, options, index=options.index(current or ACCOUNT_WIDE), key=key,
                        format_func=lambda f: "Whole account (every trend)" if not f
                        else str(flow_names.get(f) or f))


def notes_editor(flow_names: dict[str, str] | None = None) -> None:
    """Add a note; list, edit, delete, export and import this account's notes."""
    flow_names = flow_names or {}
    st.caption("A dated note (\"Released v4.2\", \"Email campaign\") is drawn on every trend "
               "whose range includes its date; a note about one flow shows on that flow's trend "
               "and on the account trends. Notes are kept per account and go into the review "
               "pack.")
    _show_message()
    with st.form("note_add_form", clear_on_submit=False):
        left, right = st.columns([1, 2])
        left.date_input("Date", value=today(), min_value=annotations.EARLIEST_NOTE_DATE,
                        max_value=today(), key=K_ADD_DAY)
        _flow_choice("About", K_ADD_FLOW, flow_names, right)
        st.text_area("Note", key=K_ADD_TEXT, height=68, placeholder="Released v4.2",
                     help=f"At most {annotations.MAX_TEXT_CHARS} characters.")
        st.form_submit_button("Add note", icon=":material/add_comment:", on_click=_add,
                              key="note_add")
    try:
        current = _store().list_notes()
    except WhatfixError as exc:
        st.error(md_escape(exc.user_message), icon=":material/error:")
        return
    _list_and_edit(current, flow_names)
    _export_import(current)


def _list_and_edit(current: list[annotations.Note], flow_names: dict[str, str]) -> None:
    if not current:
        st.info("No notes yet for this account.", icon=":material/info:")
        return
    frame = annotations.notes_frame(current, flow_names).drop(
        columns=["note_id", "created_at", "flow_id"])
    st.dataframe(frame, hide_index=True, key="notes_table",
                 column_config={"text": st.column_config.TextColumn("Note", width="large")})
    by_id = {n.note_id: n for n in current}
    picked = st.selectbox(
        "Edit or delete", [None, *by_id], key=K_PICK,
        format_func=lambda i: "Choose a note" if i is None
        else f"{by_id[i].day:%Y-%m-%d} · {by_id[i].text[:60]}")
    if picked is None or picked not in by_id:
        return
    note = by_id[picked]
    day_key, flow_key, text_key = _edit_keys(note.note_id)
    with st.form(f"note_edit_form_{note.note_id}", clear_on_submit=False):
        left, right = st.columns([1, 2])
        left.date_input("Date", value=note.day, min_value=annotations.EARLIEST_NOTE_DATE,
                        max_value=max(today(), note.day), key=day_key)
        _flow_choice("About", flow_key, flow_names, right, note.flow_id)
        st.text_area("Note", value=note.text, key=text_key, height=68)
        buttons = st.container(horizontal=True)
        with buttons:
            st.form_submit_button("Save changes", icon=":material/save:", on_click=_save_edit,
                                  args=(note,), key=f"note_save_{note.note_id}")
            st.form_submit_button("Delete note", icon=":material/delete:", on_click=_delete,
                                  args=(note,), key=f"note_delete_{note.note_id}")


def _export_import(current: list[annotations.Note]) -> None:
    row = st.container(horizontal=True)
    row.download_button(
        "Export notes (CSV)", data=lambda: annotations.notes_csv(current),
        file_name=f"{charts.figure_filename('notes', '', settings().account_id)}.csv",
        mime="text/csv", key="notes_export", icon=":material/download:", on_click="ignore",
        disabled=not current)
    with st.expander("Import notes from CSV"):
        st.caption("Columns date, text and optionally flow_id and note_id (an exported file "
                   "works as is). A row with a known note_id updates that note; a refused row "
                   "is listed with its line number and the others are imported.")
        st.file_uploader("Notes CSV", type=["csv"], key=K_IMPORT)
        st.button("Import", key="notes_import", on_click=_import, icon=":material/upload:")


def flow_names_of(flows: pd.DataFrame | None) -> dict[str, str]:
    """flow_id -> name from a flows frame (for the "About" choice), most viewed first."""
    if flows is None or flows.empty:
        return {}
    ranked = flows.sort_values("views", ascending=False)
    return {str(f): str(n) if pd.notna(n) else str(f)
            for f, n in zip(ranked["flow_id"], ranked["flow_name"], strict=True)}
