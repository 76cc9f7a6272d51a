"""The first sheet of an XLSX workbook as rows of canonical cell text, formulas kept visible.

Values come from calamine (Rust; a 50,000-row export in about a second, where openpyxl takes
tens of seconds); calamine gives a formula's cached result, so formula cells are found in the
sheet's XML (``<c r="D5"><f>...``) and shown as ``=...``, for validation to refuse. Without
python-calamine installed, openpyxl reads the sheet instead (same result, slower).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from xml.etree import ElementTree

# Integral floats up to this size are written without ".0" (Excel stores every number as float).
MAX_EXACT_INTEGER = 1e15
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# A cell whose first child is a formula: <c r="H2" ...><f>1+1</f> (prefixes allowed).
_FORMULA_CELL = re.compile(
    rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3})([0-9]+)"[^>]*>\s*<(?:\w+:)?f(?:\s[^>]*)?(?:/>|>(.*?)<)',
    re.DOTALL,
)


class WorkbookError(ValueError):
    """The bytes are not a readable XLSX workbook."""


@dataclass(frozen=True)
class Sheet:
    """The first sheet: its name, the workbook's sheet count, and its rows as text."""

    name: str
    sheet_count: int
    records: list[list[str]]


def cell_text(value: object) -> str:
    """Canonical text of one cell, so that a value types the same as it would in a CSV."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        # A date typed in Excel arrives as midnight: keep it a plain ISO date, as it was entered.
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < MAX_EXACT_INTEGER:
            return str(int(value))  # 12345.0 is the id 12345, not a decimal
        return repr(value)
    return str(value)


def read_first_sheet(data: bytes) -> Sheet:
    """The first sheet of the workbook; raises WorkbookError when it cannot be read."""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        return _read_with_openpyxl(data)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for every kind of damage
        raise WorkbookError(str(exc)) from exc
    records = [[cell_text(None if v == "" else v) for v in row] for row in rows]
    _show_formulas(data, records)
    return Sheet(sheet.name, len(workbook.sheet_names), records)


def _first_sheet_path(archive: zipfile.ZipFile) -> str:
    """The XML part of the workbook's first sheet (workbook order, not file name order)."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    first = workbook.find(f"{_MAIN_NS}sheets/{_MAIN_NS}sheet")
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    if first is None:
        raise WorkbookError("the workbook has no sheet")
    rel_id = first.get(f"{_REL_NS}id")
    for rel in rels.iter(f"{_PKG_REL_NS}Relationship"):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "").lstrip("/")
            return target if target.startswith("xl/") else f"xl/{target}"
    raise WorkbookError("the first sheet's part is missing")


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + (letter - ord("A") + 1)
    return index - 1


def _show_formulas(data: bytes, records: list[list[str]]) -> None:
    """Replace each formula cell's cached value by ``=formula`` (in place)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = archive.read(_first_sheet_path(archive))
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError) as exc:
        raise WorkbookError(str(exc)) from exc
    for match in _FORMULA_CELL.finditer(xml):
        row, column = int(match.group(2)) - 1, _column_index(match.group(1))
        if row >= len(records):
            continue
        formula = (match.group(3) or b"").decode("utf-8", errors="replace")
        cells = records[row]
        if column >= len(cells):
            cells.extend([""] * (column + 1 - len(cells)))
        cells[column] = "=" + (formula or "(shared formula)")


def _read_with_openpyxl(data: bytes) -> Sheet:
    from openpyxl import load_workbook

    try:
        # data_only=False: a formula stays visible as '=...' so validation can refuse it.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise WorkbookError(str(exc)) from exc
    try:
        sheet = workbook.worksheets[0]
        records = [[cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        return Sheet(sheet.title, len(workbook.worksheets), records)
    finally:
        workbook.close()
