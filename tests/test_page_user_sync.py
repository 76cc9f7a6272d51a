"""The User Sync page (pages/user_sync.py) driven with AppTest, against a fresh built-in server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "user_sync.py")
TIMEOUT_S = 60
GOOD_FILE = (
    b"User ID,E-mail,Full name,role,seats\n"
    b"p-1,p1@acme.example,P One,Admin,5\n"
    b"p-2,p2@acme.example,P Two,Analyst,10\n"
    b"p-3,not-an-email,P Three,Analyst,3\n"
    b"ac-000001,,,Admin,\n"
)


@pytest.fixture()
def page_env(monkeypatch, tmp_path, sync_server):
    """The page talks to `sync_server` (WHATFIX_* variables) and logs under tmp_path."""
    account = sync_server.accounts[0]
    for name in [n for n in os.environ if n.startswith("WHATFIX_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("WHATFIX_BASE_URL", sync_server.base_url)
    monkeypatch.setenv("WHATFIX_ACCOUNT_ID", account.account_id)
    monkeypatch.setenv("WHATFIX_INTEGRATION_KEY", account.integration_key)
    monkeypatch.setenv("WHATFIX_USER", account.user_email)
    monkeypatch.setenv("WHATFIX_CACHE", "memory")
    monkeypatch.setenv("WHATFIX_SYNC_DIR", str(tmp_path / "sync"))
    return sync_server


def _open() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT_S)
    at.run()
    return at


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="us_upload").set_value((name, data, "text/csv"))
    at.run()
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def test_page_asks_for_a_file_first(page_env) -> None:
    at = _open()
    assert not at.exception
    assert at.title[0].value == "User Sync"
    assert any("userId column" in i.value for i in at.info)


def test_upload_shows_guessed_mapping_and_validation(page_env) -> None:
    at = _upload(_open(), "crm.csv", GOOD_FILE)
    assert not at.exception and not at.error
    selects = {s.label: s.value for s in at.selectbox}
    assert selects["userId column"] == "User ID"
    assert selects["email column"] == "E-mail"
    assert selects["name column"] == "Full name"
    metrics = _metrics(at)
    assert metrics["Rows in the file"] == "4"
    assert metrics["Invalid rows (never sent)"] == "1"
    problems = at.dataframe[0].value
    assert problems["row"].tolist() == [4]
    assert any(b.label == "Download CSV" for b in at.get("download_button"))
    # Sync files do not depend on the dashboard filters: a page run alone never draws them.
    assert "Date range" not in selects


def test_segment_changes_are_shown_by_name(page_env) -> None:
    at = _upload(_open(), "crm.csv", GOOD_FILE)
    _button(at, "us_preview").click().run()
    assert not at.exception and not at.error
    moved = next(d.value for d in at.dataframe if "joining" in d.value.columns)
    assert list(moved.columns) == ["segment", "members_now", "joining", "leaving",
                                   "members_after"]
    assert not moved["segment"].str.startswith("seg-").any(), "names, not ids"


def test_preview_then_apply_then_nothing_left_to_send(page_env) -> None:
    at = _upload(_open(), "crm.csv", GOOD_FILE)
    _button(at, "us_preview").click().run()
    assert not at.exception and not at.error
    metrics = _metrics(at)
    assert (metrics["Create"], metrics["Update"], metrics["Invalid (not sent)"]) == ("2", "1", "1")
    apply = _button(at, "us_apply")
    assert apply.label == "Apply 3 changes"
    apply.click().run()
    assert not at.exception and not at.error
    assert any("every one of the 4 rows" in s.value for s in at.success)
    metrics = _metrics(at)
    assert (metrics["Created"], metrics["Updated"], metrics["Invalid"], metrics["Failed"]) == (
        "2", "1", "1", "0")
    assert page_env.stats()["byOperation"]["upsertEndUser"] == 3
    labels = [b.label for b in at.get("download_button")]
    assert "Download outcomes CSV" in labels
    outcome_files = list((Path(os.environ["WHATFIX_SYNC_DIR"]) / "outcomes").glob("*.csv"))
    assert len(outcome_files) == 1 and len(outcome_files[0].read_text().splitlines()) == 5
    # A second preview of the same file finds nothing to send.
    _button(at, "us_preview").click().run()
    assert _metrics(at)["Unchanged (not sent)"] == "3"
    assert _button(at, "us_apply").disabled


def test_unreadable_upload_shows_an_error_not_a_traceback(page_env) -> None:
    at = _upload(_open(), "empty.csv", b"   ")
    assert not at.exception
    assert any("empty" in e.value for e in at.error)


def test_mapping_without_user_id_is_explained(page_env) -> None:
    at = _upload(_open(), "crm.csv", GOOD_FILE)
    next(s for s in at.selectbox if s.label == "userId column").set_value("").run()
    assert not at.exception
    assert any("userId" in e.value for e in at.error)


def test_attributes_can_be_renamed_in_the_mapping(page_env) -> None:
    at = _upload(_open(), "crm.csv", GOOD_FILE)
    renames = next(t for t in at.text_area if t.label.startswith("Attribute names"))
    renames.set_value("job=role").run()
    assert not at.exception and not at.error
    assert any("Attributes sent: job, seats." in c.value for c in at.caption)
    renames = next(t for t in at.text_area if t.label.startswith("Attribute names"))
    renames.set_value("nonsense").run()
    assert any("FIELD=COLUMN" in e.value for e in at.error)
