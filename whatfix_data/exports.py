"""Safe spreadsheets: the one CSV writer of the project and the typed XLSX writer.

Every text cell that a spreadsheet could read as a formula is neutralised the OWASP way
(https://owasp.org/www-community/attacks/CSV_Injection): a text value starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return gets a leading ``'``. Numbers, dates and booleans are never
touched, so a negative number stays a number. Column headers are text too and get the same guard,
because some headers (segment names, pivoted values) come from the API.

No other module writes CSV: downloads, the CLI and the review pack all call :func:`to_csv_bytes`
or :func:`write_csv`, so no export can bypass the guard. The API's own CSV report goes through
:func:`neutralise_csv_bytes`, the same guard cell by cell.

Files written here name users (end users, engagement, sync outcomes): they are created ``0600``,
and any folder created for them ``0700`` (:func:`write_private_bytes`, :func:`private_folder`).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import re
from collections.abc import Callable, Hashable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # openpyxl is imported when a workbook is written: the app's first run
    # (which writes none) starts 0.1 s sooner
    from openpyxl.cell.cell import Cell

# Leading characters that make Excel, LibreOffice or Google Sheets evaluate a cell (OWASP list).
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
# Control characters other than tab/CR/LF, which some readers drop before parsing a cell.
_LEADING_CONTROL = re.compile(r"^[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")
# What goes in front of a dangerous text value: spreadsheets show it as text, never as a formula.
NEUTRALISING_PREFIX = "'"

# Files that name users: readable by their owner only, in folders only their owner can list.
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
# A cell of a CSV that is a plain number stays as it is (a negative number is not a formula).
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

CSV_ENCODING = "utf-8"
# RFC 4180 line ends; with "\r\n" the writer also quotes any field holding a bare "\r".
CSV_LINE_TERMINATOR = "\r\n"

# Columns holding rates in percent (0..100, as in the API) end like this; XLSX stores them as
# fractions with a percent format, so Excel shows "45.3%" and formulas see 0.453.
PERCENT_SUFFIXES: tuple[str, ...] = ("_pct",)
PERCENT_FORMAT = "0.0%"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
INTEGER_FORMAT = "0"
FLOAT_FORMAT = "0.00"

# Column widths in Excel character units: fitted to the content, within sane bounds.
MIN_COLUMN_WIDTH = 8
MAX_COLUMN_WIDTH = 60
WIDTH_PADDING = 2
DATE_WIDTH = len("2026-11-27") + WIDTH_PADDING
DATETIME_WIDTH = len("2026-11-27 10:00:00") + WIDTH_PADDING

# Excel limits on sheet names: 31 characters, none of []:*?/\ .
SHEET_NAME_MAX = 31
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
DEFAULT_SHEET_NAME = "Data"
REPLACEMENT_CHARACTER = "\ufffd"


# --------------------------------------------------------------------------- neutralisation


def neutralise_text(value: str) -> str:
    """Return ``value`` with a leading ``'`` if a spreadsheet would read it as a formula.

    Invisible control characters before the trigger do not hide it: some readers drop them.
    """
    if _LEADING_CONTROL.sub("", value).startswith(FORMULA_TRIGGERS):
        return NEUTRALISING_PREFIX + value
    return value


_NESTED_JSON = json.JSONEncoder(sort_keys=True, default=str, ensure_ascii=False)


def _cell_to_text(value: Any) -> Any:
    """Text form of one cell of a text/object column; missing values stay missing."""
    if value is None or (not isinstance(value, list | dict | tuple) and pd.isna(value)):
        return None
    if isinstance(value, str):
        return neutralise_text(value)
    if isinstance(value, dict | list | tuple):
        # Nested API fields (user attributes, segment rules) are written as JSON text, which
        # starts with "{" or "[": never a formula. One encoder for all cells: json.dumps with
        # options builds a new one per call (5.8 against 4.1 us for a user's attributes).
        return _NESTED_JSON.encode(value)
    if isinstance(value, bool | int | float | date | datetime | pd.Timestamp):
        return value  # a real number/date in an object column stays typed
    return neutralise_text(str(value))


def _is_text_column(series: pd.Series) -> bool:
    """True for columns whose cells are text (or arbitrary objects) rather than numbers/dates."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return True
    return pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)


def _safe_header(name: Hashable) -> str:
    return neutralise_text(str(name))


def _neutralised_strings(series: pd.Series) -> pd.Series:
    """`neutralise_text` over a string column at once (what `_cell_to_text` does cell by cell:
    a 200,000-row export spent most of its CSV time there)."""
    visible = series.str.replace(_LEADING_CONTROL.pattern, "", regex=True)
    risky = visible.str.startswith(FORMULA_TRIGGERS).fillna(False).to_numpy(dtype=bool)
    safe = series.mask(risky, NEUTRALISING_PREFIX + series)
    return safe.astype(object).where(safe.notna(), None)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell and header neutralised; other columns unchanged.

    Text columns come back as ``object`` columns (so mixed typed values inside an object column
    survive); numeric, datetime and boolean columns keep their dtype.
    """
    out = pd.DataFrame(index=frame.index)
    for position in range(frame.shape[1]):
        series = frame.iloc[:, position]
        if isinstance(series.dtype, pd.StringDtype):
            series = _neutralised_strings(series)
        elif _is_text_column(series):
            values = [_cell_to_text(v) for v in series.astype(object).tolist()]
            series = pd.Series(values, index=frame.index, dtype=object)
        out[position] = series
    out.columns = [_safe_header(name) for name in frame.columns]
    return out


# --------------------------------------------------------------------------- CSV


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV bytes (RFC 4180: header row, CRLF, no index), formulas neutralised.

    Timestamps are written as ``YYYY-MM-DD HH:MM:SS+00:00``; missing values as empty cells. No
    byte-order mark, so scripts read it as plain UTF-8 (the XLSX download is the Excel-native one).
    """
    safe = neutralise_frame(frame)
    for position in range(safe.shape[1]):
        series = safe.iloc[:, position]
        if isinstance(series.dtype, pd.DatetimeTZDtype) and str(series.dtype.tz) == "UTC":
            safe.isetitem(position, _utc_text(series))
    text = safe.to_csv(index=False, lineterminator=CSV_LINE_TERMINATOR)
    return text.encode(CSV_ENCODING)


def _utc_text(series: pd.Series) -> pd.Series:
    """UTC timestamps as the text pandas' CSV writer gives them ("2026-11-27 08:30:00+00:00"),
    three times faster: it formats a zoned timestamp one cell at a time (1.1 s for 200,000
    rows, the CLI export's largest cost), numpy a whole column at once. A column with a
    fraction of a second anywhere (none from the API) is left to pandas, which then writes
    every cell with the fraction."""
    values = series.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    seconds = values.astype("datetime64[s]")
    missing = np.isnat(values)
    if series.empty or (seconds[~missing] != values[~missing]).any():
        return series
    text = np.char.add(np.char.replace(np.datetime_as_string(seconds, unit="s"), "T", " "),
                       "+00:00").astype(object)
    text[missing] = None
    return pd.Series(text, index=series.index, dtype=object)


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write the frame as a safe CSV file (see :func:`to_csv_bytes`), created 0600; return the
    path written."""
    return write_private_bytes(path, to_csv_bytes(frame))


def neutralise_csv_bytes(data: bytes, clean: Callable[[str], str] | None = None) -> bytes:
    """A CSV file from elsewhere (the API's own report) with every formula cell neutralised.

    Each cell is first passed through ``clean`` (e.g. ``frames.clean_text``); numbers stay as
    they are, so the rows still agree with the same report read as JSON. The file is rewritten
    with the project's dialect (UTF-8, CRLF, minimal quoting).
    """
    text = data.decode(CSV_ENCODING, errors="replace").lstrip("\ufeff")
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=CSV_LINE_TERMINATOR)
    for record in csv.reader(io.StringIO(text, newline="")):
        writer.writerow([_guard_cell(cell, clean) for cell in record])
    return out.getvalue().encode(CSV_ENCODING)


def _guard_cell(cell: str, clean: Callable[[str], str] | None) -> str:
    value = clean(cell) if clean is not None else cell
    return value if _NUMBER.match(value) else neutralise_text(value)


def private_folder(folder: str | Path, *, tighten: bool = False) -> Path:
    """Create ``folder`` (and missing parents) with mode 0700; ``tighten`` also sets 0700 on an
    existing one (for folders that belong to the app, never a folder the user chose)."""
    target = Path(folder)
    missing = []
    probe = target
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for created in reversed(missing):
        created.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        os.chmod(created, PRIVATE_DIR_MODE)  # mkdir's mode is filtered by the umask
    if tighten and target.is_dir():
        os.chmod(target, PRIVATE_DIR_MODE)
    return target


def open_private(path: str | Path, flags: int) -> int:
    """A file descriptor of ``path`` created (or reset) to mode 0600, missing folders 0700."""
    target = Path(path)
    private_folder(target.parent)
    descriptor = os.open(target, flags | os.O_CREAT, PRIVATE_FILE_MODE)
    os.fchmod(descriptor, PRIVATE_FILE_MODE)  # an existing file keeps its mode otherwise
    return descriptor


def write_private_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to a file readable by its owner only (0600); return the path."""
    target = Path(path)
    with os.fdopen(open_private(target, os.O_WRONLY | os.O_TRUNC), "wb") as out:
        out.write(data)
    return target


# --------------------------------------------------------------------------- XLSX


def safe_sheet_name(name: str) -> str:
    """A sheet name Excel accepts: forbidden characters replaced, at most 31 characters."""
    cleaned = _SHEET_NAME_FORBIDDEN.sub("_", name).strip().strip("'")
    return cleaned[:SHEET_NAME_MAX] or DEFAULT_SHEET_NAME


def is_percent_column(name: Hashable) -> bool:
    """True for rate columns in percent (0..100), which XLSX shows with a percent format."""
    return str(name).endswith(PERCENT_SUFFIXES)


def _column_kind(name: Hashable, series: pd.Series) -> str:
    """One of percent, datetime, date, int, float, bool, text: decides cell values and format."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        if is_percent_column(name):
            return "percent"
        return "int" if pd.api.types.is_integer_dtype(dtype) else "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    non_null = series.dropna()
    if len(non_null) and all(
        isinstance(v, date) and not isinstance(v, datetime) for v in non_null.head(50)
    ):
        return "date"
    return "text"


_KIND_FORMATS: dict[str, str | None] = {
    "percent": PERCENT_FORMAT,
    "datetime": DATETIME_FORMAT,
    "date": DATE_FORMAT,
    "int": INTEGER_FORMAT,
    "float": FLOAT_FORMAT,
    "bool": None,
    "text": None,
}


def _xlsx_values(kind: str, series: pd.Series) -> list[Any]:
    """Python cell values for one column: None for missing, typed otherwise."""
    if kind == "datetime":
        stamps = series.dt.tz_convert("UTC").dt.tz_localize(None) if series.dt.tz else series
        return [None if pd.isna(v) else v.to_pydatetime() for v in stamps]
    if kind == "percent":
        return [None if pd.isna(v) else float(v) / 100.0 for v in series.astype(object)]
    if kind == "int":
        return [None if pd.isna(v) else int(v) for v in series.astype(object)]
    if kind == "float":
        return [None if pd.isna(v) else float(v) for v in series.astype(object)]
    if kind == "bool":
        return [None if pd.isna(v) else bool(v) for v in series.astype(object)]
    if kind == "date":
        return [None if pd.isna(v) else v for v in series.astype(object)]
    return [xml_safe(_cell_to_text(v)) for v in series.astype(object)]


def xml_safe(value: Any) -> Any:
    """Text without the control characters XML (hence XLSX) cannot hold, each replaced (not
    removed: that could uncover a leading "=") by U+FFFD, so the reader sees something was
    there. Applied after neutralising, which already sees through such characters."""
    if isinstance(value, str):
        return _illegal_xml_characters().sub(REPLACEMENT_CHARACTER, value)
    return value


@functools.cache
def _illegal_xml_characters() -> re.Pattern[str]:
    """openpyxl's pattern of the characters XML cannot hold (openpyxl imported on first use)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE


def _column_width(kind: str, header: str, values: list[Any]) -> float:
    """Width that fits the header and the longest displayed value, within the bounds."""
    if kind == "datetime":
        content = DATETIME_WIDTH
    elif kind == "date":
        content = DATE_WIDTH
    elif kind == "percent":
        content = len("100.0%")
    elif kind == "float":
        content = max((len(f"{v:.2f}") for v in values if v is not None), default=0)
    else:
        content = max((len(str(v)) for v in values if v is not None), default=0)
    width = max(len(header), content) + WIDTH_PADDING
    return float(min(MAX_COLUMN_WIDTH, max(MIN_COLUMN_WIDTH, width)))


def _cell(new_cell: Callable[..., Cell], value: Any, number_format: str | None) -> Cell:
    cell = new_cell(value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never let openpyxl turn a text value into a formula
    if number_format and value is not None:
        cell.number_format = number_format
    return cell


def to_xlsx_bytes(frame: pd.DataFrame, sheet_name: str = DEFAULT_SHEET_NAME) -> bytes:
    """The frame as an .xlsx workbook with one sheet: bold frozen header row, filters,
    typed columns (dates as dates, rates as percentages), fitted widths, formulas neutralised."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(safe_sheet_name(sheet_name))
    new_cell = functools.partial(WriteOnlyCell, sheet)
    headers = [xml_safe(_safe_header(name)) for name in frame.columns]
    kinds = [_column_kind(name, frame.iloc[:, i]) for i, name in enumerate(frame.columns)]
    columns = [_xlsx_values(kind, frame.iloc[:, i]) for i, kind in enumerate(kinds)]

    # Write-only sheets need widths, panes and filters set before the first row is appended.
    for index, (kind, header, values) in enumerate(zip(kinds, headers, columns, strict=True)):
        letter = get_column_letter(index + 1)
        sheet.column_dimensions[letter].width = _column_width(kind, header, values)
    sheet.freeze_panes = "A2"
    if headers:
        last = get_column_letter(len(headers))
        sheet.auto_filter.ref = f"A1:{last}{max(1, len(frame) + 1)}"

    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = _cell(new_cell, header, None)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)

    formats = [_KIND_FORMATS[kind] for kind in kinds]
    for row in zip(*columns, strict=True):
        sheet.append([_cell(new_cell, v, fmt) for v, fmt in zip(row, formats, strict=True)])

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
