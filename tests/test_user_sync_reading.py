"""Reading exports (whatfix_data.user_sync.reading), the mapping guess and value typing."""

from __future__ import annotations

import io
from datetime import date, datetime

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from whatfix_data.exports import to_csv_bytes
from whatfix_data.user_sync.mapping import (
    ColumnMapping,
    MappingError,
    guess_mapping,
    parse_mapping_options,
)
from whatfix_data.user_sync.outcomes import failed_rows_csv
from whatfix_data.user_sync.reading import SyncFileError, read_upload
from whatfix_data.user_sync.values import TEXT, comparable, type_column


def _xlsx(rows: list[list[object]], extra_sheet: bool = False) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if extra_sheet:
        book.create_sheet("Notes")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- encodings


def test_utf8_with_bom_is_read_without_finding() -> None:
    table = read_upload("\ufeffuserId,name\nu1,Zoë\n".encode(), "users.csv")
    assert table.encoding == "utf-8-sig"
    assert table.columns == ["userId", "name"]
    assert table.frame.loc[0, "name"] == "Zoë"
    assert table.findings == []


def test_cp1252_falls_back_with_a_finding() -> None:
    table = read_upload("userId,name\nu1,José Müller\n".encode("cp1252"), "legacy.csv")
    assert table.encoding == "cp1252"
    assert table.frame.loc[0, "name"] == "José Müller"
    assert len(table.findings) == 1
    assert "not UTF-8" in table.findings[0].problem


def test_utf16_with_bom_is_decoded() -> None:
    table = read_upload("userId\tname\nu1\tÅsa\n".encode("utf-16"), "excel.txt")
    assert table.encoding == "utf-16"
    assert table.frame.loc[0, "name"] == "Åsa"


def test_binary_and_empty_files_are_refused_with_a_message() -> None:
    with pytest.raises(SyncFileError, match="empty"):
        read_upload(b"  \n", "empty.csv")
    with pytest.raises(SyncFileError, match="binary"):
        read_upload(b"\x00\x01\x02garbage", "image.csv")
    with pytest.raises(SyncFileError, match="XLSX"):
        read_upload(b"PK\x03\x04 not really a zip", "broken.xlsx")


def test_header_only_file_gives_a_finding_and_no_rows() -> None:
    table = read_upload(b"userId,email\n", "header.csv")
    assert len(table) == 0
    assert any("no data rows" in f.problem for f in table.findings)


# --------------------------------------------------------------------------- CSV shape


def test_semicolon_delimiter_and_row_numbers_skip_blank_lines() -> None:
    data = b"userId;email\nu1;a@x.com\n\nu2;b@x.com\n;\n"
    table = read_upload(data, "eu.csv")
    assert table.frame["userId"].tolist() == ["u1", "u2"]
    # The header is row 1; the blank line 3 and the empty record on line 5 are not rows.
    assert table.rows.tolist() == [2, 4]


def test_quoted_multiline_cell_counts_as_one_spreadsheet_row() -> None:
    data = b'userId,note\nu1,"line one\nline two"\nu2,x\n'
    table = read_upload(data, "notes.csv")
    assert table.rows.tolist() == [2, 3]
    assert table.frame.loc[0, "note"] == "line one\nline two"


def test_duplicate_and_empty_headers_are_renamed() -> None:
    table = read_upload(b"userId,role,,role\nu1,a,b,c\n", "dups.csv")
    assert table.columns == ["userId", "role", "column 3", "role (2)"]
    assert any("role (2)" in f.problem for f in table.findings)
    assert "role (2)" in guess_mapping(table.columns).ignored


def test_short_rows_are_padded_and_long_rows_are_flagged() -> None:
    table = read_upload(b"userId,a,b\nu1\nu2,1,2,3\n", "ragged.csv")
    assert table.frame.loc[0].tolist() == ["u1", "", ""]
    assert table.overlong_rows == {3: 4}


def test_neutralised_cells_read_back_as_written() -> None:
    original = pd.DataFrame({"userId": ["u1"], "phone": ["+1 555 0100"], "f": ["=SUM(A1)"]})
    table = read_upload(to_csv_bytes(original), "round.csv")
    assert table.frame.loc[0, "phone"] == "+1 555 0100"
    assert table.frame.loc[0, "f"] == "=SUM(A1)"


# --------------------------------------------------------------------------- XLSX


def test_xlsx_cells_become_canonical_text() -> None:
    data = _xlsx([
        ["User ID", "Email", "Seats", "Active", "Start", "Login", "Score"],
        ["u1", "a@x.com", 5, True, datetime(2026, 1, 5), datetime(2026, 1, 5, 9, 30), 2.5],
        ["u2", None, None, False, date(2025, 12, 31), None, "=1+1"],
    ], extra_sheet=True)
    table = read_upload(data, "users.xlsx")
    assert table.encoding == "xlsx"
    assert table.frame.loc[0].tolist() == [
        "u1", "a@x.com", "5", "true", "2026-01-05", "2026-01-05T09:30:00", "2.5"]
    assert table.frame.loc[1, "Score"] == "=1+1"  # the formula, not its result
    assert any("2 sheets" in f.problem for f in table.findings)


# --------------------------------------------------------------------------- typing


def test_values_are_typed_per_cell() -> None:
    text = pd.Series(["42", "-7", "3.5", "1.5e3", "TRUE", "false", "02139", "+44 20 7946",
                      "2026-11-27", "", "12345678901234567", "inf", "Admin"], dtype=object)
    typed = type_column(text).tolist()
    assert typed == [42, -7, 3.5, 1500.0, True, False, "02139", "+44 20 7946", "2026-11-27",
                     None, "12345678901234567", "inf", "Admin"]
    assert type(typed[0]) is int and type(typed[4]) is bool


def test_text_columns_are_not_typed() -> None:
    typed = type_column(pd.Series(["42", "true", ""], dtype=object), TEXT).tolist()
    assert typed == ["42", "true", None]


def test_comparable_keys_follow_the_api_types() -> None:
    assert comparable(5) == comparable(5.0)
    assert comparable(True) != comparable(1)
    assert comparable("5") != comparable(5)
    assert comparable(None) == comparable(float("nan"))


# --------------------------------------------------------------------------- mapping


def test_mapping_is_guessed_from_common_headers() -> None:
    mapping = guess_mapping(["Employee ID", "E-Mail Address", "Full Name", "Department",
                             "createdAt", "Region"])
    assert mapping.user_id == "Employee ID"
    assert mapping.email == "E-Mail Address"
    assert mapping.name == "Full Name"
    assert mapping.attributes == {"Department": "Department", "Region": "Region"}
    assert mapping.ignored == ("createdAt",)


def test_mapping_without_an_id_column_is_refused() -> None:
    mapping = guess_mapping(["Email", "Department"])
    assert mapping.user_id == ""
    with pytest.raises(MappingError, match="userId"):
        mapping.check(["Email", "Department"])


def test_mapping_options_edit_the_guess() -> None:
    columns = ["Id", "Mail", "Job Title", "Notes", "Zip"]
    mapping = parse_mapping_options(
        ["email=Mail", "role=Job Title", "-Notes", "Zip:text"], guess_mapping(columns))
    assert mapping.email == "Mail"
    assert mapping.attributes == {"Job Title": "role", "Zip": "Zip"}
    assert "Notes" in mapping.ignored
    assert mapping.column_type("Zip") == "text"
    mapping.check(columns)
    with pytest.raises(MappingError, match="FIELD=COLUMN"):
        parse_mapping_options(["nonsense"], mapping)


def test_mapping_with_fields_rebuilds_attributes() -> None:
    columns = ["userId", "email", "name", "role", "team"]
    mapping = guess_mapping(columns).with_fields(columns, name="", ignored=["team"],
                                                 text_columns=["role"])
    assert mapping.name == ""
    assert mapping.attributes == {"name": "name", "role": "role"}
    assert mapping.ignored == ("team",)
    assert mapping.types == {"role": "text"}


def test_mapping_check_names_missing_and_doubled_columns() -> None:
    with pytest.raises(MappingError, match="no column named 'x'"):
        ColumnMapping(user_id="x").check(["userId"])
    with pytest.raises(MappingError, match="mapped twice"):
        ColumnMapping(user_id="a", email="a").check(["a"])


# --------------------------------------------------------------------------- round trip

_CELL = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=12
).map(str.strip)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_CELL, _CELL, _CELL), min_size=1, max_size=8))
def test_failed_rows_file_reads_back_as_the_original_cells(rows) -> None:
    """Whatever the cells hold (formula triggers, quotes, delimiters, accents), the failed-rows
    file written through the safe CSV writer reads back to exactly the same text."""
    lines = [[f"u{i}", *cells] for i, cells in enumerate(rows)]
    original = pd.DataFrame(lines, columns=["userId", "a", "b", "c"])
    table = read_upload(to_csv_bytes(original), "original.csv")
    outcomes = pd.DataFrame({"row": table.rows, "userId": table.frame["userId"],
                             "outcome": "failed", "message": ""})
    again = read_upload(failed_rows_csv(table, outcomes), "failed.csv")
    assert again.frame.to_dict("records") == table.frame.to_dict("records")
    assert again.frame["userId"].tolist() == [f"u{i}" for i in range(len(rows))]


def test_xlsx_fast_reader_and_openpyxl_fallback_agree() -> None:
    from whatfix_data.user_sync import xlsx

    data = _xlsx([
        ["User ID", "Seats", "Start", "Login", "Score", "Active", "Zip", "Calc"],
        [12345, 5, datetime(2026, 1, 5), datetime(2026, 1, 5, 9, 30), 2.5, True, "00123",
         "=A2*2"],
        ["u2", None, date(2025, 12, 31), None, -0.25, False, None, "=SUM(B2:B3)"],
    ])
    fast = xlsx.read_first_sheet(data)
    slow = xlsx._read_with_openpyxl(data)
    assert fast.records == slow.records
    assert fast.records[1] == ["12345", "5", "2026-01-05", "2026-01-05T09:30:00", "2.5", "true",
                               "00123", "=A2*2"]
    assert fast.records[2][7] == "=SUM(B2:B3)"


# --------------------------------------------------------------------------- upload limits


def _lying_bomb(path):
    """The zip bomb with its sheet declaring a few MB: the ratio check alone cannot see it."""
    from support import SHEET_PATH, lie_about_size, write_zip_bomb

    write_zip_bomb(path)
    lie_about_size(path, SHEET_PATH, 3_000_000)
    return path


def test_zip_bomb_is_refused_by_its_ratio_before_parsing(tmp_path) -> None:
    from support import write_zip_bomb

    bomb = tmp_path / "users.xlsx"
    size = write_zip_bomb(bomb)
    assert size < 10 * 1024 * 1024  # a few MB that inflate to 1 GiB
    with pytest.raises(SyncFileError) as refused:
        read_upload(bomb.read_bytes(), "users.xlsx")
    message = str(refused.value)
    assert "WHATFIX_MAX_ZIP_RATIO" in message and "zip bomb" in message
    assert "to 1,023.9 MiB" in message  # the inflated size is named


def test_zip_bomb_lying_about_its_size_is_refused_while_inflating(tmp_path) -> None:
    with pytest.raises(SyncFileError) as refused:
        read_upload(_lying_bomb(tmp_path / "users.xlsx").read_bytes(), "users.xlsx")
    assert "more than the 3,000,000 bytes it declares" in str(refused.value)


def test_workbook_past_the_unzipped_limit_is_refused(tmp_path) -> None:
    from whatfix_data.config import UploadLimits

    data = _xlsx([["userId", "notes"], *[[f"u{i}", "x" * 200] for i in range(2000)]])
    with pytest.raises(SyncFileError, match="WHATFIX_MAX_UNZIPPED_BYTES"):
        read_upload(data, "users.xlsx", UploadLimits(max_unzipped_bytes=100_000))
    assert len(read_upload(data, "users.xlsx")) == 2000  # the same file under the defaults


def test_a_far_away_cell_is_refused_before_the_parser_fills_the_range() -> None:
    """One cell at row 1,048,576 (or column XFD) would make a dense range of empty cells."""
    book = Workbook()
    sheet = book.active
    sheet.append(["userId", "email"])
    sheet.cell(row=1_048_576, column=1, value="far")
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(SyncFileError, match="WHATFIX_MAX_UPLOAD_ROWS"):
        read_upload(buffer.getvalue(), "far.xlsx")
    book = Workbook()
    book.active.append(["userId"])
    book.active.cell(row=2, column=16_384, value="far")
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(SyncFileError, match=r"16,384 columns.*WHATFIX_MAX_UPLOAD_COLUMNS"):
        read_upload(buffer.getvalue(), "wide.xlsx")


def test_ten_thousand_columns_are_refused_from_the_header() -> None:
    header = ",".join(f"c{i}" for i in range(10_000))
    data = "\n".join([header, *[",".join(["x"] * 10_000)] * 5]).encode()
    with pytest.raises(SyncFileError, match="10,000 columns; the limit is 120 "
                                            r"\(WHATFIX_MAX_UPLOAD_COLUMNS\)"):
        read_upload(data, "wide.csv")


def test_wide_rows_under_a_narrow_header_are_refused() -> None:
    data = b"userId,email\nu1,a@x.com\n" + b",".join([b"x"] * 500) + b"\n"
    with pytest.raises(SyncFileError, match="500 columns"):
        read_upload(data, "ragged.csv")


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(min_value=1, max_value=60), limit=st.integers(min_value=1, max_value=60))
def test_row_ceiling_refuses_exactly_past_the_limit(rows: int, limit: int) -> None:
    from whatfix_data.config import UploadLimits

    data = ("userId,email\n" + "".join(f"u{i},u{i}@x.com\n" for i in range(rows))).encode()
    limits = UploadLimits(max_upload_rows=limit)
    if rows > limit:
        with pytest.raises(SyncFileError, match=f"more than {limit:,} data rows"):
            read_upload(data, "rows.csv", limits)
    else:
        assert len(read_upload(data, "rows.csv", limits)) == rows


def test_byte_ceiling_is_checked_first_and_named(tmp_path) -> None:
    from whatfix_data.config import UploadLimits
    from whatfix_data.user_sync.reading import read_path

    source = tmp_path / "users.csv"
    source.write_bytes(b"userId\n" + b"u1\n" * 1000)
    with pytest.raises(SyncFileError, match=r"uploads are limited to 0\.0 MiB "
                                            r"\(WHATFIX_MAX_UPLOAD_BYTES\)"):
        read_path(source, UploadLimits(max_upload_bytes=1000))


def test_limits_are_settings(monkeypatch) -> None:
    from whatfix_data.config import ConfigurationError, upload_limits

    monkeypatch.setenv("WHATFIX_MAX_UPLOAD_COLUMNS", "7")
    assert upload_limits().max_upload_columns == 7
    data = ("userId," + ",".join(f"a{i}" for i in range(7)) + "\nu1" + ",x" * 7).encode()
    with pytest.raises(SyncFileError, match="8 columns; the limit is 7"):
        read_upload(data, "users.csv")
    assert upload_limits({"whatfix": {"max_zip_ratio": 5}}).max_zip_ratio == 5
    monkeypatch.setenv("WHATFIX_MAX_UPLOAD_ROWS", "0")
    with pytest.raises(ConfigurationError, match="WHATFIX_MAX_UPLOAD_ROWS"):
        upload_limits()
