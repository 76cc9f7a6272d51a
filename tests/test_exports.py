"""Safe spreadsheets: formula neutralisation in CSV and XLSX, typed XLSX columns, fitted widths."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whatfix_data.exports import (
    FORMULA_TRIGGERS,
    MAX_COLUMN_WIDTH,
    MIN_COLUMN_WIDTH,
    PERCENT_FORMAT,
    neutralise_frame,
    neutralise_text,
    safe_sheet_name,
    to_csv_bytes,
    to_xlsx_bytes,
    write_csv,
)

HOSTILE_NAMES = [
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-1+1",
    "\t=1+1",
    "\r=1+1",
]


def _read_csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def _read_sheet(data: bytes) -> openpyxl.worksheet.worksheet.Worksheet:
    return openpyxl.load_workbook(io.BytesIO(data)).active


def _flows_frame(names: list[str]) -> pd.DataFrame:
    """A frame shaped like the `flows` dataset, with negative numbers to prove they stay numbers."""
    count = len(names)
    return pd.DataFrame(
        {
            "flow_id": pd.array([f"f{i}" for i in range(count)], dtype="string"),
            "flow_name": pd.array(names, dtype="string"),
            "views": pd.array([-(i + 1) for i in range(count)], dtype="Int64"),
            "completions": pd.array([i for i in range(count)], dtype="Int64"),
            "completion_rate_pct": pd.array([-12.5 + i for i in range(count)], dtype="Float64"),
            "avg_time_to_complete_s": pd.array([-1.25] * count, dtype="Float64"),
        }
    )


# --------------------------------------------------------------------------- the rule itself


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_neutralise_text_prefixes_every_trigger(name: str) -> None:
    assert neutralise_text(name) == "'" + name


@pytest.mark.parametrize("name", ["\x00=1+1", "\x1b\x01@SUM(1)"])
def test_neutralise_text_sees_through_leading_control_characters(name: str) -> None:
    # Some readers drop invisible control characters, which would uncover the formula.
    assert neutralise_text(name) == "'" + name


@pytest.mark.parametrize("name", ["Create invoice", "a=b", "", "'already quoted", "1+1", " =x"])
def test_neutralise_text_leaves_safe_text_alone(name: str) -> None:
    assert neutralise_text(name) == name


# --------------------------------------------------------------------------- CSV


def test_csv_neutralises_hostile_names_and_keeps_numbers() -> None:
    frame = _flows_frame(HOSTILE_NAMES)
    rows = _read_csv_rows(to_csv_bytes(frame))
    assert rows[0] == list(frame.columns)
    for offset, (row, name) in enumerate(zip(rows[1:], HOSTILE_NAMES, strict=True)):
        assert row[1] == "'" + name
        # Numbers, negative ones included, are written as plain numbers, never prefixed.
        assert int(row[2]) == -(offset + 1)
        assert float(row[4]) == pytest.approx(-12.5 + offset)
        assert row[5] == "-1.25"


def test_csv_neutralises_categorical_and_nested_values_and_headers() -> None:
    frame = pd.DataFrame(
        {
            "type": pd.Categorical(["=Flow", "Tooltip"]),
            "attributes": [{"plan": "=cmd"}, ["-x"]],
            "=evil header": [1, 2],
        }
    )
    rows = _read_csv_rows(to_csv_bytes(frame))
    assert rows[0] == ["type", "attributes", "'=evil header"]
    assert rows[1][0] == "'=Flow"
    assert rows[1][1] == '{"plan": "=cmd"}'  # JSON text starts with "{": safe as is
    assert rows[2][1] == '["-x"]'
    assert rows[1][2] == "1"


def test_csv_missing_values_are_empty_cells_and_timestamps_iso() -> None:
    frame = pd.DataFrame(
        {
            "name": pd.array(["a", None], dtype="string"),
            "views": pd.array([1, None], dtype="Int64"),
            "last_active": pd.to_datetime(["2026-11-01T10:00:00Z", None], utc=True),
        }
    )
    rows = _read_csv_rows(to_csv_bytes(frame))
    assert rows[2] == ["", "", ""]
    assert datetime.fromisoformat(rows[1][2]) == datetime.fromisoformat("2026-11-01T10:00:00+00:00")


def test_write_csv_writes_the_same_bytes(tmp_path) -> None:
    frame = _flows_frame(HOSTILE_NAMES)
    path = write_csv(frame, tmp_path / "flows.csv")
    assert path.read_bytes() == to_csv_bytes(frame)


def test_csv_round_trip_through_pandas_keeps_numeric_columns_numeric() -> None:
    frame = _flows_frame(HOSTILE_NAMES)
    back = pd.read_csv(io.BytesIO(to_csv_bytes(frame)))
    assert pd.api.types.is_integer_dtype(back["views"])
    assert pd.api.types.is_float_dtype(back["completion_rate_pct"])
    assert (back["views"] < 0).all()
    assert all(name.startswith("'") for name in back["flow_name"])


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
_hostile_text = st.builds(
    lambda trigger, rest: trigger + rest, st.sampled_from(FORMULA_TRIGGERS), _text
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(st.one_of(_text, _hostile_text), min_size=1, max_size=8),
    numbers=st.lists(st.integers(min_value=-(10**9), max_value=10**9), min_size=8, max_size=8),
)
def test_csv_property_no_text_cell_starts_with_a_trigger(
    names: list[str], numbers: list[int]
) -> None:
    frame = pd.DataFrame(
        {
            "name": pd.array(names, dtype="string"),
            "count": pd.array(numbers[: len(names)], dtype="Int64"),
        }
    )
    rows = _read_csv_rows(to_csv_bytes(frame))
    # Embedded newlines are quoted by the CSV writer, so a row count mismatch would be a bug.
    assert len(rows) == len(names) + 1
    for row, name, number in zip(rows[1:], names, numbers, strict=False):
        assert row[0] == neutralise_text(name)
        assert not row[0].startswith(FORMULA_TRIGGERS)
        assert int(row[1]) == number


# --------------------------------------------------------------------------- XLSX


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(st.one_of(_text, _hostile_text), min_size=1, max_size=6),
    numbers=st.lists(st.integers(min_value=-(10**9), max_value=10**9), min_size=6, max_size=6),
)
def test_xlsx_property_text_is_never_a_formula_and_numbers_stay_numbers(
    names: list[str], numbers: list[int]
) -> None:
    frame = pd.DataFrame(
        {
            "name": pd.array(names, dtype="string"),
            "count": pd.array(numbers[: len(names)], dtype="Int64"),
        }
    )
    sheet = _read_sheet(to_xlsx_bytes(frame, "Property"))
    for offset, (name, number) in enumerate(zip(names, numbers, strict=False)):
        cell = sheet.cell(row=offset + 2, column=1)
        assert cell.data_type != "f"
        # openpyxl reads an empty string back as an empty cell.
        assert (cell.value or "") == _xml_safe(neutralise_text(name))
        assert sheet.cell(row=offset + 2, column=2).value == number


def _xml_safe(text: str) -> str:
    """What an XLSX cell can hold: XML 1.0 has no control characters except tab, LF and CR,
    so the others become U+FFFD."""
    return "".join(c if c in "\t\n\r" or ord(c) >= 0x20 else "\ufffd" for c in text)



def test_xlsx_neutralises_hostile_names_and_keeps_types() -> None:
    frame = _flows_frame(HOSTILE_NAMES)
    sheet = _read_sheet(to_xlsx_bytes(frame, "Flows"))
    assert sheet.title == "Flows"
    header = [cell.value for cell in sheet[1]]
    assert header == list(frame.columns)
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    for offset, name in enumerate(HOSTILE_NAMES):
        row = sheet[offset + 2]
        assert row[1].value == "'" + name
        assert row[1].data_type == "s"  # text, never a formula
        assert isinstance(row[2].value, int) and row[2].value < 0
        # Rates are stored as fractions with a percent format: -12.5 % -> -0.125.
        assert row[4].value == pytest.approx((-12.5 + offset) / 100)
        assert row[4].number_format == PERCENT_FORMAT
        assert row[5].value == pytest.approx(-1.25)
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)


def test_xlsx_dates_and_timestamps_are_real_dates() -> None:
    frame = pd.DataFrame(
        {
            "window_start": [date(2026, 11, 1), date(2026, 11, 8)],
            "last_activity_at": pd.to_datetime(
                ["2026-11-01T10:30:00Z", "2026-11-02T23:59:59Z"], utc=True
            ),
        }
    )
    sheet = _read_sheet(to_xlsx_bytes(frame, "Trend"))
    assert sheet["A2"].value == datetime(2026, 11, 1)
    assert sheet["A2"].number_format == "yyyy-mm-dd"
    assert sheet["B3"].value == datetime(2026, 11, 2, 23, 59, 59)  # UTC, naive in Excel
    assert "hh:mm" in sheet["B3"].number_format


def test_xlsx_widths_fit_the_content_within_bounds() -> None:
    long_name = "A flow with a rather long descriptive name"
    frame = pd.DataFrame(
        {
            "id": pd.array(["x", "y"], dtype="string"),
            "flow_name": pd.array(["short", long_name], dtype="string"),
            "notes": pd.array(["n" * 500, "n"], dtype="string"),
        }
    )
    sheet = _read_sheet(to_xlsx_bytes(frame, "Widths"))
    widths = {key: dim.width for key, dim in sheet.column_dimensions.items()}
    assert widths["A"] == MIN_COLUMN_WIDTH
    assert widths["B"] >= len(long_name)
    assert widths["C"] == MAX_COLUMN_WIDTH


def test_xlsx_missing_values_are_empty_cells() -> None:
    frame = pd.DataFrame(
        {
            "name": pd.array([None], dtype="string"),
            "rate_pct": pd.array([None], dtype="Float64"),
            "when": pd.to_datetime([None], utc=True),
        }
    )
    sheet = _read_sheet(to_xlsx_bytes(frame, "Empty"))
    assert [cell.value for cell in sheet[2]] == [None, None, None]


def test_xlsx_sheet_name_is_made_valid() -> None:
    assert safe_sheet_name("Flows: [top]/week?") == "Flows_ _top__week_"
    assert len(safe_sheet_name("x" * 80)) == 31
    assert safe_sheet_name("") == "Data"


def test_xlsx_control_characters_cannot_uncover_a_formula() -> None:
    names = pd.array(["\x00=cmd|' /C calc'!A0", "a\x1bb"], dtype="string")
    frame = pd.DataFrame({"name\x01": names})
    sheet = _read_sheet(to_xlsx_bytes(frame, "Control"))
    assert sheet["A1"].value == "name\ufffd"
    # Never "=cmd...": the control character is replaced, and the text is neutralised.
    assert sheet["A2"].value == "'\ufffd=cmd|' /C calc'!A0"
    assert sheet["A3"].value == "a\ufffdb"


def test_xlsx_empty_frame_still_has_its_header() -> None:
    frame = _flows_frame([])
    sheet = _read_sheet(to_xlsx_bytes(frame, "Flows"))
    assert [cell.value for cell in sheet[1]] == list(frame.columns)
    assert sheet.max_row == 1


# --------------------------------------------------------------------------- data from the API


def test_hostile_names_from_the_api_are_neutralised_in_csv_and_xlsx(
    make_sim_server, make_settings
) -> None:
    """Users upserted with formula-like names come back from GET /end-users, typed by frames;
    both downloads neutralise them while dates stay dates."""
    from whatfix_data.client import WhatfixClient
    from whatfix_data.datasets import load_end_users
    from whatfix_data.frames import clean_text
    from whatfix_data.user_sync import put_end_user

    server = make_sim_server(users=20)
    with WhatfixClient(make_settings(server=server)) as client:
        for index, name in enumerate(HOSTILE_NAMES):
            status, _ = put_end_user(
                client, f"hostile-{index}",
                {"email": f"hostile{index}@acme.example", "name": name,
                 "attributes": {"department": name}},
            )
            assert status in (200, 201)
        users = load_end_users(client).frame
    hostile = users[users["user_id"].str.startswith("hostile-")].reset_index(drop=True)
    # frames cleans API text once (a tab or line break becomes a space: " =1+1" is no formula)
    cleaned = [clean_text(name) for name in HOSTILE_NAMES]
    assert sorted(hostile["name"]) == sorted(cleaned)
    guarded = ["'" + name if name.startswith(("=", "+", "-", "@")) else name for name in cleaned]

    rows = _read_csv_rows(to_csv_bytes(hostile))
    header = rows[0]
    names = [row[header.index("name")] for row in rows[1:]]
    assert sorted(names) == sorted(guarded)
    # Nested attributes are JSON text ('{"department": ...}'), which never starts a formula.
    assert all(row[header.index("attributes")].startswith("{") for row in rows[1:])

    sheet = _read_sheet(to_xlsx_bytes(hostile, "End users"))
    xlsx_header = [cell.value for cell in sheet[1]]
    name_col = xlsx_header.index("name") + 1
    xlsx_names = [sheet.cell(row=r, column=name_col).value for r in range(2, sheet.max_row + 1)]
    assert sorted(xlsx_names) == sorted(guarded)
    created = sheet.cell(row=2, column=xlsx_header.index("created_at") + 1)
    assert isinstance(created.value, datetime)
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)


def test_flows_from_the_api_keep_numbers_typed(make_settings) -> None:
    """The flows dataset of the session server: counts stay integers, rates become percents."""
    from whatfix_data.client import WhatfixClient
    from whatfix_data.datasets import load_flows
    from whatfix_data.windows import DateRange

    with WhatfixClient(make_settings()) as client:
        flows = load_flows(client, DateRange(date(2026, 10, 1), date(2026, 10, 31))).frame
    assert len(flows) > 0
    sheet = _read_sheet(to_xlsx_bytes(flows, "Flows"))
    header = [cell.value for cell in sheet[1]]
    views = sheet.cell(row=2, column=header.index("views") + 1)
    rate = sheet.cell(row=2, column=header.index("completion_rate_pct") + 1)
    assert isinstance(views.value, int)
    assert rate.number_format == PERCENT_FORMAT
    assert rate.value == pytest.approx(float(flows.loc[0, "completion_rate_pct"]) / 100)
    back = pd.read_csv(io.BytesIO(to_csv_bytes(flows)))
    assert back["views"].tolist() == flows["views"].astype(int).tolist()


# ------------------------------------------------------------------------ files that name users


def test_written_files_are_private_in_private_new_folders(tmp_path) -> None:
    import os
    import stat

    from whatfix_data.exports import write_csv, write_private_bytes

    chosen_mode = stat.S_IMODE(os.stat(tmp_path).st_mode)
    target = tmp_path / "new" / "deeper" / "end-users.csv"
    write_csv(pd.DataFrame({"email": ["a@x.com"]}), target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    for folder in (target.parent, target.parent.parent):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    loose = tmp_path / "loose.json"
    loose.write_bytes(b"{}")
    os.chmod(loose, 0o644)
    write_private_bytes(loose, b"[]")  # an existing file is made private too
    assert stat.S_IMODE(os.stat(loose).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path).st_mode) == chosen_mode  # a chosen folder is kept


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(
    alphabet=st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\x01", "\x7f", "a", " ", "'"]),
    max_size=6)), max_size=12))
def test_a_string_column_is_neutralised_like_the_same_cells_one_by_one(texts):
    """The vectorised path for string columns agrees with the cell-by-cell one (object)."""
    as_strings = pd.DataFrame({"name": pd.array(texts, dtype="string")})
    as_objects = pd.DataFrame({"name": pd.Series(texts, dtype=object)})
    assert neutralise_frame(as_strings)["name"].tolist() == \
        neutralise_frame(as_objects)["name"].tolist()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1))), max_size=12),
       st.sampled_from(["s", "ms", "us", "ns"]))
def test_utc_timestamps_are_written_as_pandas_writes_them(stamps, unit):
    """The fast path for UTC columns writes exactly what pandas' CSV writer writes for them."""
    column = pd.Series(pd.to_datetime(stamps, utc=True), dtype=f"datetime64[{unit}, UTC]")
    frame = pd.DataFrame({"at": column, "n": range(len(stamps))})
    expected = frame.to_csv(index=False, lineterminator="\r\n").encode()
    assert to_csv_bytes(frame) == expected
