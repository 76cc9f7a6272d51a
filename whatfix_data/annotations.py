"""Annotations: dated notes a PM adds for an account ("Released v4.2"), optionally tied to a flow.

Notes explain a jump on a trend; they are drawn beside the content-edit markers
(:func:`whatfix_data.charts.add_annotations`), listed in the review pack, and exported/imported
as CSV through the project's one CSV writer (:mod:`whatfix_data.exports`, formula-guarded).

Storage: the project's one per-account record store (:mod:`whatfix_data.store`, kind
``notes``, one record per note), per account (``Settings.store_scope``: base URL + account id;
the key is never part of it), at the notes' own place:

* a SQLite file by default: ``$WHATFIX_ANNOTATIONS_FILE``, else
  ``$XDG_DATA_HOME/whatfix-dashboard/annotations.sqlite`` (``~/.local/share``), a 0600 file in a
  0700 folder, because notes can name customers and releases;
* the shared Redis when the cache setting (``WHATFIX_CACHE``) is a ``redis://`` URL, so every
  dashboard process of a team sees the same notes.

A note's text is kept exactly as typed (HTML and formulas included): it is escaped where it is
shown (charts, markdown) and guarded where it is exported (CSV), never altered in the store.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from whatfix_data.cache import SQLITE_BUSY_TIMEOUT_MS
from whatfix_data.config import Settings
from whatfix_data.errors import WhatfixError
from whatfix_data.exports import to_csv_bytes
from whatfix_data.store import RecordStore, is_redis_spec
from whatfix_data.windows import DateRange, from_iso, today_for

MAX_TEXT_CHARS = 500
MAX_FLOW_ID_CHARS = 200
# Bounds that keep a store (and a chart) usable whatever is imported.
MAX_NOTES_PER_ACCOUNT = 2_000
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_PROBLEMS_SHOWN = 20
# The dashboard's date inputs start here too: nothing older can be charted.
EARLIEST_NOTE_DATE = date(2015, 1, 1)

ANNOTATIONS_FILE_ENV = "WHATFIX_ANNOTATIONS_FILE"
DATA_DIR_NAME = "whatfix-dashboard"
ANNOTATIONS_FILE_NAME = "annotations.sqlite"
NOTES_KIND = "notes"  # the notes' kind in the record store
# Control characters other than newline and tab: invisible, and some viewers choke on them.
_FORBIDDEN_CONTROL = {chr(c) for c in range(32) if chr(c) not in "\n\t"} | {"\x7f"}

CSV_COLUMNS: tuple[str, ...] = ("date", "flow_id", "text", "note_id", "created_at", "updated_at")


class AnnotationError(WhatfixError):
    """A note that cannot be saved as given (empty, too long, bad date); says what to change."""

    default_message = "The note could not be saved."


class AnnotationStoreError(WhatfixError):
    """The notes store (SQLite file or Redis) cannot be read or written."""

    default_message = "The notes could not be read or saved."


@dataclass(frozen=True)
class Note:
    """One dated note. ``flow_id`` None: about the whole account (drawn on every trend)."""

    note_id: str
    day: date
    text: str
    flow_id: str | None = None
    created_at: str = ""
    updated_at: str = ""

    def to_record(self) -> dict[str, Any]:
        """The note as a store record (JSON types)."""
        return {**asdict(self), "day": self.day.isoformat()}

    @classmethod
    def from_record(cls, values: Mapping[str, Any]) -> Note:
        return cls(**{**values, "day": date.fromisoformat(values["day"])})

    def to_json(self) -> str:
        return json.dumps(self.to_record(), ensure_ascii=False)


# --------------------------------------------------------------------------------- validation


def _now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def clean_text(text: Any) -> str:
    """The note text trimmed, or AnnotationError when it is empty, too long or has control
    characters. HTML and formulas are allowed: they are shown and exported as literal text."""
    value = "" if text is None else str(text).replace("\r\n", "\n").strip()
    if not value:
        raise AnnotationError("Write the note's text: an empty note explains nothing.")
    if len(value) > MAX_TEXT_CHARS:
        raise AnnotationError(
            f"A note is at most {MAX_TEXT_CHARS} characters; this one has {len(value):,}. "
            "Shorten it (a link to the release notes works well)."
        )
    if any(ch in _FORBIDDEN_CONTROL for ch in value):
        raise AnnotationError("The note holds invisible control characters; type it again "
                              "or paste it as plain text.")
    return value


def check_day(day: Any, today: date | None = None) -> date:
    """The note's date, or AnnotationError when it is not a date or outside the data
    (before EARLIEST_NOTE_DATE or after today, UTC)."""
    today = today or today_for()
    try:
        value = from_iso(day, "note date") if isinstance(day, str | date) else None
    except ValueError:
        value = None
    if value is None:
        raise AnnotationError(f"The note's date {str(day)[:40]!r} is not a date; use YYYY-MM-DD.")
    if value > today:
        raise AnnotationError(f"The note's date {value:%Y-%m-%d} is after today ({today:%Y-%m-%d}):"
                              " there is no data to explain yet.")
    if value < EARLIEST_NOTE_DATE:
        raise AnnotationError(f"The note's date {value:%Y-%m-%d} is before "
                              f"{EARLIEST_NOTE_DATE:%Y-%m-%d}, the first day the dashboard shows.")
    return value


def clean_flow_id(flow_id: Any) -> str | None:
    """The flow the note is about, or None for the whole account."""
    if flow_id is None or (not isinstance(flow_id, str) and pd.isna(flow_id)):
        return None
    value = str(flow_id).strip()
    if not value:
        return None
    if len(value) > MAX_FLOW_ID_CHARS or any(ch in _FORBIDDEN_CONTROL for ch in value):
        raise AnnotationError("The note's flow id is not a flow id (too long or with control "
                              "characters); choose the flow from the list.")
    return value


def new_note(day: Any, text: Any, flow_id: Any = None, *, today: date | None = None,
             note_id: str | None = None) -> Note:
    """A validated new note (AnnotationError says what to change)."""
    stamp = _now_text()
    return Note(note_id=note_id or uuid.uuid4().hex, day=check_day(day, today),
                text=clean_text(text), flow_id=clean_flow_id(flow_id), created_at=stamp,
                updated_at=stamp)


def edited(note: Note, *, day: Any, text: Any, flow_id: Any, today: date | None = None) -> Note:
    """``note`` with new values, validated; created_at kept, updated_at now."""
    return replace(note, day=check_day(day, today), text=clean_text(text),
                   flow_id=clean_flow_id(flow_id), updated_at=_now_text())


# --------------------------------------------------------------------------------- the stores


def sorted_notes(notes: Iterable[Note]) -> list[Note]:
    """Newest date first, then by creation (a stable order for lists and tables)."""
    return sorted(notes, key=lambda n: (n.day, n.created_at, n.note_id), reverse=True)


class NoteStore:
    """One account's notes in the record store (kind ``notes``, key the note id)."""

    def __init__(self, records: RecordStore) -> None:
        self.records = records

    def list_notes(self) -> list[Note]:
        notes = []
        for value in self.records.records(NOTES_KIND).values():
            try:
                notes.append(Note.from_record(value))
            except (KeyError, TypeError, ValueError):  # a record this version cannot read
                continue
        return sorted_notes(notes)

    def save(self, note: Note) -> None:
        """Insert or replace a note; AnnotationError when a new one would pass
        MAX_NOTES_PER_ACCOUNT."""
        ids = self.records.raw(NOTES_KIND)
        if note.note_id not in ids and len(ids) >= MAX_NOTES_PER_ACCOUNT:
            raise AnnotationError(f"This account already has {MAX_NOTES_PER_ACCOUNT:,} notes, "
                                  "the most the dashboard keeps; delete old ones first.")
        self.records.put(NOTES_KIND, note.note_id, note.to_record())

    def delete(self, note_id: str) -> bool:
        return self.records.delete(NOTES_KIND, note_id)


def _file_problem(spec: str, exc: Exception, opening: bool) -> AnnotationStoreError:
    reason = getattr(exc, "strerror", None) or type(exc).__name__
    return AnnotationStoreError(
        f"The notes file {spec} cannot be used ({reason}). Set {ANNOTATIONS_FILE_ENV} "
        "to a writable path; nothing was changed.")


def _redis_problem(spec: str, exc: Exception, opening: bool) -> AnnotationStoreError:
    return AnnotationStoreError(
        "The shared notes store (Redis, from the cache setting) did not answer; try "
        "again in a moment. Nothing was changed.")


def _adopt_old_notes_table(path: Path) -> None:
    """Move the notes of a file written before the record store (table ``notes``: account,
    note_id, body) into the store's table, once, so an upgrade loses no note."""
    try:
        with sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000) as db:
            if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'notes'"
                          ).fetchone() is None:
                return
            db.execute("INSERT OR IGNORE INTO records SELECT account, ?, note_id, body "
                       "FROM notes", (NOTES_KIND,))
            db.execute("DROP TABLE notes")
    except sqlite3.Error as exc:
        raise _file_problem(str(path), exc, False) from None


class SQLiteNoteStore(NoteStore):
    """Notes in a local SQLite file (the record store's table, every account in it)."""

    def __init__(self, path: Path, account: str) -> None:
        self.path = Path(path)
        super().__init__(RecordStore.at(str(self.path), account, _file_problem))
        _adopt_old_notes_table(self.path)


class RedisNoteStore(NoteStore):
    """Notes in the shared Redis (the record store's hash per account and kind)."""

    def __init__(self, url: str, account: str) -> None:
        super().__init__(RecordStore.at(url, account, _redis_problem))


def default_annotations_path(env: Mapping[str, str] | None = None) -> Path:
    """$WHATFIX_ANNOTATIONS_FILE, else the user's data folder ($XDG_DATA_HOME or ~/.local/share)."""
    env = os.environ if env is None else env
    if env.get(ANNOTATIONS_FILE_ENV):
        return Path(env[ANNOTATIONS_FILE_ENV]).expanduser()
    home = Path(env.get("HOME") or Path.home())
    base = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / DATA_DIR_NAME / ANNOTATIONS_FILE_NAME


def open_store(settings: Settings, env: Mapping[str, str] | None = None) -> NoteStore:
    """The notes store of the settings' account: Redis when the cache is a redis:// URL."""
    if is_redis_spec(settings.cache):
        return RedisNoteStore(settings.cache.strip(), settings.store_scope)
    return SQLiteNoteStore(default_annotations_path(env), settings.store_scope)


# ------------------------------------------------------------------------------ reading notes


def in_range(notes: Iterable[Note], date_range: DateRange, flow_id: str | None = None,
             ) -> list[Note]:
    """The notes dated inside the range; with ``flow_id``, the account-wide ones and that
    flow's, without it, every note (an account trend sums every flow)."""
    return [n for n in sorted_notes(notes)
            if date_range.start <= n.day <= date_range.end
            and (flow_id is None or n.flow_id in (None, flow_id))]


def notes_frame(notes: Iterable[Note], flow_names: Mapping[str, str] | None = None,
                ) -> pd.DataFrame:
    """One row per note: date, flow_id, (flow_name with ``flow_names``), text, note_id,
    created_at, updated_at; newest first."""
    rows = [{"date": n.day, "flow_id": n.flow_id or "", "text": n.text, "note_id": n.note_id,
             "created_at": n.created_at, "updated_at": n.updated_at} for n in sorted_notes(notes)]
    frame = pd.DataFrame(rows, columns=list(CSV_COLUMNS))
    for column in ("flow_id", "text", "note_id", "created_at", "updated_at"):
        frame[column] = frame[column].astype(object)
    if flow_names is not None:
        names = [("" if not f else flow_names.get(f, f)) for f in frame["flow_id"]]
        frame.insert(2, "flow_name", pd.Series(names, dtype=object))
    return frame


def notes_csv(notes: Iterable[Note]) -> bytes:
    """The notes as CSV (formula-guarded by the one CSV writer; read back by import_csv)."""
    return to_csv_bytes(notes_frame(notes))


@dataclass(frozen=True)
class ImportResult:
    """What an import did: notes added, updated, already present, and the rows refused."""

    added: int
    updated: int
    unchanged: int
    problems: list[tuple[int, str]]

    def summary(self) -> str:
        parts = f"{self.added} added, {self.updated} updated, {self.unchanged} already there"
        if self.problems:
            parts += f", {len(self.problems)} rows not imported"
        return parts + "."


def _unguard(value: str) -> str:
    # Imported here: user_sync's reader owns the rule that undoes the CSV writer's guard.
    from whatfix_data.user_sync.reading import unneutralise

    return unneutralise(value)


def read_csv(data: bytes) -> pd.DataFrame:
    """The cell text of an annotations CSV (AnnotationError for a file that is not one)."""
    if len(data) > MAX_IMPORT_BYTES:
        raise AnnotationError(f"The file is {len(data) / 1024 / 1024:.1f} MB; an annotations CSV "
                              f"is at most {MAX_IMPORT_BYTES // 1024 // 1024} MB.")
    try:
        text = data.decode("utf-8-sig")
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, ValueError, pd.errors.ParserError):
        raise AnnotationError("The file is not a UTF-8 CSV; export the notes from the "
                              "dashboard and edit that file.") from None
    frame.columns = [_unguard(str(c)).strip() for c in frame.columns]
    missing = [c for c in ("date", "text") if c not in frame.columns]
    if missing:
        raise AnnotationError(f"The file has no {' or '.join(missing)} column; expected the "
                              f"columns {', '.join(CSV_COLUMNS)}.")
    if len(frame) > MAX_NOTES_PER_ACCOUNT:
        raise AnnotationError(f"The file has {len(frame):,} notes; at most "
                              f"{MAX_NOTES_PER_ACCOUNT:,} can be imported.")
    return frame.map(_unguard)


def _stamp(text: Any, default: str) -> str:
    """A timestamp cell as written by notes_csv, else ``default`` (the file is untrusted)."""
    value = str(text or "").strip()
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return default
    return value if len(value) <= len("2026-11-27T10:00:00.000000+00:00") else default


def import_csv(store: NoteStore, data: bytes, *, today: date | None = None) -> ImportResult:
    """Add (or update, by note_id) every valid row; a refused row is reported with its line
    number and nothing else is skipped. A row without note_id gets a new one."""
    frame = read_csv(data)
    existing = {n.note_id: n for n in store.list_notes()}
    added = updated = unchanged = 0
    problems: list[tuple[int, str]] = []
    for line, row in enumerate(frame.to_dict("records"), start=2):
        note_id = str(row.get("note_id") or "").strip() or None
        try:
            if note_id is not None and (len(note_id) > MAX_FLOW_ID_CHARS
                                        or any(ch in _FORBIDDEN_CONTROL for ch in note_id)):
                raise AnnotationError("The note_id is not one the dashboard writes; leave it "
                                      "empty for a new note.")
            note = new_note(row.get("date"), row.get("text"), row.get("flow_id"), today=today,
                            note_id=note_id)
            before = existing.get(note.note_id)
            if before is not None and (before.day, before.text, before.flow_id) == (
                    note.day, note.text, note.flow_id):
                unchanged += 1
                continue
            if before is not None:
                note = replace(note, created_at=before.created_at)
            else:  # a note new to this store keeps its own times (an exact round trip)
                note = replace(note, created_at=_stamp(row.get("created_at"), note.created_at),
                               updated_at=_stamp(row.get("updated_at"), note.updated_at))
            store.save(note)
            existing[note.note_id] = note
            if before is None:
                added += 1
            else:
                updated += 1
        except AnnotationError as exc:
            problems.append((line, exc.user_message))
    return ImportResult(added, updated, unchanged, problems)
