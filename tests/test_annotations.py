"""whatfix_data.annotations: validation, the SQLite and Redis stores, CSV export/import."""

from __future__ import annotations

import csv
import io
import stat
import uuid
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import FIXED_TODAY

from whatfix_data import annotations
from whatfix_data.annotations import AnnotationError, Note
from whatfix_data.config import Settings
from whatfix_data.windows import DateRange

HOSTILE_TEXTS = [
    "<script>alert(1)</script><b>bold</b>",
    "=HYPERLINK(\"http://evil.example\",\"click\")",
    "+1+2", "-3", "@SUM(A1:A2)", "Released v4.2, \"quoted\", and a\nsecond line",
]


def _settings(cache: str = "memory", account: str = "acme") -> Settings:
    return Settings(base_url="http://127.0.0.1:1/api/v1", account_id=account,
                    integration_key="secret-key-123", user="pm@acme.example", cache=cache)


@pytest.fixture()
def store(tmp_path):
    return annotations.SQLiteNoteStore(tmp_path / "notes" / "a.sqlite", "acme")


def test_empty_text_is_refused_with_a_message():
    for text in ("", "   ", "\n\t", None):
        with pytest.raises(AnnotationError, match="empty"):
            annotations.new_note(FIXED_TODAY, text, today=FIXED_TODAY)


def test_ten_thousand_characters_are_refused_and_say_the_limit():
    with pytest.raises(AnnotationError) as caught:
        annotations.new_note(FIXED_TODAY, "x" * 10_000, today=FIXED_TODAY)
    assert "10,000" in caught.value.user_message
    assert str(annotations.MAX_TEXT_CHARS) in caught.value.user_message


@pytest.mark.parametrize("day", [FIXED_TODAY + timedelta(days=1), date(2014, 12, 31),
                                 "2026-13-01", "yesterday", 42])
def test_a_date_outside_the_data_is_refused(day):
    with pytest.raises(AnnotationError, match="date"):
        annotations.new_note(day, "Released", today=FIXED_TODAY)


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_text_is_kept_exactly(store, text):
    note = annotations.new_note(FIXED_TODAY, text, today=FIXED_TODAY)
    store.save(note)
    assert [n.text for n in store.list_notes()] == [text.strip()]


def test_sqlite_store_add_edit_delete_and_private_file(tmp_path, store):
    first = annotations.new_note("2026-11-01", "Released v4.2", today=FIXED_TODAY)
    second = annotations.new_note("2026-11-10", "Email campaign", "flow-1", today=FIXED_TODAY)
    store.save(first)
    store.save(second)
    assert [n.text for n in store.list_notes()] == ["Email campaign", "Released v4.2"]
    changed = annotations.edited(first, day="2026-11-02", text="Released v4.2.1", flow_id="",
                                 today=FIXED_TODAY)
    store.save(changed)
    notes = {n.note_id: n for n in store.list_notes()}
    assert notes[first.note_id].text == "Released v4.2.1"
    assert notes[first.note_id].day == date(2026, 11, 2)
    assert notes[first.note_id].created_at == first.created_at
    assert store.delete(second.note_id) and not store.delete(second.note_id)
    assert [n.note_id for n in store.list_notes()] == [first.note_id]
    path = tmp_path / "notes" / "a.sqlite"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # Another account in the same file sees none of these notes.
    assert annotations.SQLiteNoteStore(path, "other").list_notes() == []


def test_open_store_default_file_is_in_the_data_folder_keyed_by_account(tmp_path):
    env = {"HOME": str(tmp_path)}
    one = annotations.open_store(_settings(account="acme"), env)
    one.save(annotations.new_note(FIXED_TODAY, "a", today=FIXED_TODAY))
    path = tmp_path / ".local" / "share" / "whatfix-dashboard" / "annotations.sqlite"
    assert path.exists()
    assert len(annotations.open_store(_settings(account="acme"), env).list_notes()) == 1
    assert annotations.open_store(_settings(account="beta"), env).list_notes() == []
    assert b"secret-key-123" not in path.read_bytes()


def test_unwritable_file_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(annotations.AnnotationStoreError, match="WHATFIX_ANNOTATIONS_FILE"):
        annotations.open_store(_settings(), {annotations.ANNOTATIONS_FILE_ENV:
                                             str(blocker / "notes.sqlite")})


def test_redis_store_when_the_cache_is_redis(redis_url):
    account = f"acme-{uuid.uuid4().hex[:8]}"
    store = annotations.open_store(_settings(cache=redis_url, account=account), {})
    assert isinstance(store, annotations.RedisNoteStore)
    note = annotations.new_note(FIXED_TODAY, "<b>Released</b>", today=FIXED_TODAY)
    store.save(note)
    again = annotations.open_store(_settings(cache=redis_url, account=account), {})
    assert again.list_notes() == [note]
    assert annotations.open_store(_settings(cache=redis_url, account=account + "x"),
                                  {}).list_notes() == []
    assert again.delete(note.note_id) and again.list_notes() == []


def test_redis_down_is_a_clear_error():
    store = annotations.RedisNoteStore("redis://127.0.0.1:1/0", "acme")
    with pytest.raises(annotations.AnnotationStoreError, match="did not answer"):
        store.list_notes()


def test_in_range_keeps_account_notes_and_the_flow_s_notes():
    notes = [Note("a", date(2026, 11, 1), "all"), Note("b", date(2026, 11, 2), "f1", "f1"),
             Note("c", date(2026, 11, 3), "f2", "f2"), Note("d", date(2026, 10, 1), "old")]
    window = DateRange(date(2026, 10, 29), FIXED_TODAY)
    assert {n.note_id for n in annotations.in_range(notes, window)} == {"a", "b", "c"}
    assert {n.note_id for n in annotations.in_range(notes, window, "f1")} == {"a", "b"}


# ------------------------------------------------------------------------------------ CSV

note_texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t=+-@<>\"',"),
    min_size=1, max_size=annotations.MAX_TEXT_CHARS,
).map(str.strip).filter(
    # The one guard rule: a text starting with ' and a trigger reads back without the '.
    lambda t: bool(t) and not (t[:1] == "'" and t[1:2] in ("=", "+", "-", "@", "\t", "\r"))
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(note_texts, min_size=1, max_size=8),
       offsets=st.lists(st.integers(0, 3000), min_size=8, max_size=8))
def test_csv_round_trip_is_exact_and_formula_guarded(tmp_path_factory, texts, offsets):
    folder = tmp_path_factory.mktemp("rt")
    source = annotations.SQLiteNoteStore(folder / "a.sqlite", "acme")
    for text, offset in zip(texts, offsets, strict=False):
        source.save(annotations.new_note(FIXED_TODAY - timedelta(days=offset), text,
                                         "flow-1" if offset % 2 else None, today=FIXED_TODAY))
    data = annotations.notes_csv(source.list_notes())
    cells = [row[2] for row in csv.reader(io.StringIO(data.decode()))][1:]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells), cells
    target = annotations.SQLiteNoteStore(folder / "b.sqlite", "acme")
    result = annotations.import_csv(target, data, today=FIXED_TODAY)
    assert result.problems == [] and result.added == len(texts)
    assert target.list_notes() == source.list_notes()
    again = annotations.import_csv(target, data, today=FIXED_TODAY)
    assert (again.added, again.updated, again.unchanged) == (0, 0, len(texts))


def test_hostile_rows_are_reported_by_line_and_the_rest_imported(store):
    lines = ["date,flow_id,text", f"{FIXED_TODAY},,ok note", f"{FIXED_TODAY},,",
             "2099-01-01,,future", f"{FIXED_TODAY},,{'y' * 10_000}",
             f"{FIXED_TODAY},,'=HYPERLINK(\"x\")"]
    result = annotations.import_csv(store, "\n".join(lines).encode(), today=FIXED_TODAY)
    assert result.added == 2
    assert [line for line, _ in result.problems] == [3, 4, 5]
    assert {n.text for n in store.list_notes()} == {"ok note", "=HYPERLINK(\"x\")"}


@pytest.mark.parametrize("data, match", [
    (b"\xff\xfe\x00bad", "UTF-8"), (b"when,what\n2026-11-01,x\n", "no date or text"),
    (b"x" * (annotations.MAX_IMPORT_BYTES + 1), "MB"),
])
def test_unusable_files_are_refused_with_a_message(store, data, match):
    with pytest.raises(AnnotationError, match=match):
        annotations.import_csv(store, data, today=FIXED_TODAY)
    assert store.list_notes() == []


def test_imported_timestamps_must_be_timestamps(store):
    data = (f"date,text,created_at,updated_at\n{FIXED_TODAY},a,<script>x</script>,"
            f"2026-11-20T10:00:00+00:00\n").encode()
    annotations.import_csv(store, data, today=FIXED_TODAY)
    (note,) = store.list_notes()
    assert note.created_at != "<script>x</script>" and note.created_at.startswith("20")
    assert note.updated_at == "2026-11-20T10:00:00+00:00"


def test_a_notes_file_from_before_the_record_store_keeps_its_notes(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    note = annotations.new_note(FIXED_TODAY, "Released v4.1 (written by the old store)",
                                today=FIXED_TODAY)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (account TEXT NOT NULL, note_id TEXT NOT NULL, "
                   "body TEXT NOT NULL, PRIMARY KEY (account, note_id))")
        db.execute("INSERT INTO notes VALUES (?, ?, ?)", ("acme", note.note_id, note.to_json()))
    assert annotations.SQLiteNoteStore(path, "acme").list_notes() == [note]
    assert annotations.SQLiteNoteStore(path, "acme").list_notes() == [note]  # adopted once
    assert annotations.SQLiteNoteStore(path, "other").list_notes() == []
