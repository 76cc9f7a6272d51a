"""The first sheet of an XLSX workbook as rows of canonical cell text, formulas kept visible.

Values come from calamine (Rust; a 50,000-row export in about a second, where openpyxl takes
tens of seconds); calamine gives a formula's cached result, so formula cells are found in the
sheet's XML (``<c r="D5"><f>...``) and shown as ``=...``, for validation to refuse. Without
python-calamine installed, openpyxl reads the sheet instead (same result, slower).

A workbook is untrusted: before any parser sees it, :func:`inspect_workbook` checks every ZIP
member's declared size and compression ratio against the upload limits, then streams the first
sheet's XML once (bounded memory, the declared sizes enforced by :mod:`zipfile`) to find its last
row and column and its formulas. A zip bomb, or a single cell at row 1,048,576 that would make
the parser fill a dense range, is refused there, in a fraction of a second.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from xml.etree import ElementTree

from whatfix_data.config import UploadLimits

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
# Any cell reference (<c r="AB12" ...>), for the sheet's last row and column.
_CELL_REF = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3})([0-9]+)"')
_CELL_START = re.compile(rb"<(?:\w+:)?c[\s>/]")
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")
SCAN_CHUNK_BYTES = 1024 * 1024
# A cell longer than this (a huge inline string) is scanned without carrying its start over.
MAX_CARRY_BYTES = 1024 * 1024
# Members this small may have any ratio (a tiny XML of repeated tags compresses well).
RATIO_FLOOR_BYTES = 1024 * 1024
MAX_MEMBERS = 10_000
# ZIP local file header: signature, versions, flags, method, times, crc, sizes, name/extra lengths.
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_STORED, _DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
MIB = 1024 * 1024


class WorkbookError(ValueError):
    """The bytes are not a readable XLSX workbook."""


class WorkbookTooLargeError(WorkbookError):
    """The workbook exceeds an upload limit; the message names the limit and its setting."""


@dataclass(frozen=True)
class SheetScan:
    """What one streaming pass over the first sheet's XML found."""

    path: str
    rows: int  # the last row number (or the number of row elements, if larger)
    columns: int  # the last column number
    formulas: list[tuple[int, int, str]]  # (0-based row, 0-based column, formula text)


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


def read_first_sheet(data: bytes, limits: UploadLimits | None = None) -> Sheet:
    """The first sheet of the workbook; raises WorkbookError when it cannot be read and
    WorkbookTooLargeError (before parsing) when it exceeds a limit."""
    scan = inspect_workbook(data, limits or UploadLimits())
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        return _read_with_openpyxl(data)  # after the same checks
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for every kind of damage
        raise WorkbookError(str(exc)) from exc
    records = [[cell_text(None if v == "" else v) for v in row] for row in rows]
    _show_formulas(scan.formulas, records)
    return Sheet(sheet.name, len(workbook.sheet_names), records)


def _mib(size: int) -> str:
    return f"{size / MIB:,.1f} MiB"


def _check_members(archive: zipfile.ZipFile, limits: UploadLimits) -> None:
    """Declared sizes and ratios of every member, before anything is inflated."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise WorkbookTooLargeError(f"holds {len(members):,} files; a workbook has a few dozen.")
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_FLOOR_BYTES and ratio > limits.max_zip_ratio:
            raise WorkbookTooLargeError(
                f"has a part ({member.filename}) that inflates {ratio:,.0f} times its packed "
                f"size, to {_mib(member.file_size)}; the limit is {limits.max_zip_ratio} times "
                "(WHATFIX_MAX_ZIP_RATIO). This is how a zip bomb looks: the file was not read."
            )
    if total > limits.max_unzipped_bytes:
        raise WorkbookTooLargeError(
            f"inflates to {_mib(total)} when unzipped; the limit is "
            f"{_mib(limits.max_unzipped_bytes)} (WHATFIX_MAX_UNZIPPED_BYTES). Split the export "
            "or save it as CSV."
        )


def _inflate(data: bytes, member: zipfile.ZipInfo) -> Iterator[bytes]:
    """A member's bytes, chunk by chunk, never more than it declares.

    zipfile (and the Rust reader of calamine) trust the declared size; a member that inflates
    past it is a lie meant to get past the limits, so it is refused here, before any parser.
    """
    header = data[member.header_offset:member.header_offset + _LOCAL_HEADER.size]
    if len(header) < _LOCAL_HEADER.size or not header.startswith(_LOCAL_SIGNATURE):
        raise WorkbookError(f"damaged part {member.filename}")
    fields = _LOCAL_HEADER.unpack(header)
    start = member.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1]
    packed = memoryview(data)[start:start + member.compress_size]
    if member.compress_type == _STORED:
        for offset in range(0, len(packed), SCAN_CHUNK_BYTES):
            yield bytes(packed[offset:offset + SCAN_CHUNK_BYTES])
        return
    if member.compress_type != _DEFLATED:
        raise WorkbookError(f"part {member.filename} uses an unknown compression")
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    pending = bytes(packed)
    while pending and not inflater.eof:
        chunk = inflater.decompress(pending, SCAN_CHUNK_BYTES)
        pending = inflater.unconsumed_tail
        produced += len(chunk)
        if produced > member.file_size:
            raise WorkbookTooLargeError(
                f"has a part ({member.filename}) that inflates to more than the "
                f"{member.file_size:,} bytes it declares. This is how a zip bomb looks: the file "
                "was not read."
            )
        if chunk:
            yield chunk


def inspect_workbook(data: bytes, limits: UploadLimits) -> SheetScan:
    """Check the ZIP members and stream every one once; raise before any parser runs."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_members(archive, limits)
            path = _first_sheet_path(archive)
            scan: SheetScan | None = None
            for member in archive.infolist():
                if member.is_dir():
                    continue
                if member.filename == path:
                    scan = _scan_sheet(_inflate(data, member), path)
                    _check_shape(scan, limits)
                else:
                    for _chunk in _inflate(data, member):
                        pass
    except WorkbookError:
        raise
    except (KeyError, zipfile.BadZipFile, zipfile.LargeZipFile, ElementTree.ParseError,
            zlib.error, EOFError, OSError, NotImplementedError, ValueError) as exc:
        raise WorkbookError(str(exc)) from exc
    if scan is None:
        raise WorkbookError("the first sheet's part is missing")
    return scan


def _check_shape(scan: SheetScan, limits: UploadLimits) -> None:
    if scan.columns > limits.max_upload_columns:
        raise WorkbookTooLargeError(
            f"has {scan.columns:,} columns in its first sheet; the limit is "
            f"{limits.max_upload_columns:,} (WHATFIX_MAX_UPLOAD_COLUMNS). A user export needs "
            "userId, email, name and at most 50 attributes."
        )
    if scan.rows > limits.max_upload_rows + 1:  # + the header row
        raise WorkbookTooLargeError(
            f"has {scan.rows - 1:,} data rows in its first sheet; the limit is "
            f"{limits.max_upload_rows:,} (WHATFIX_MAX_UPLOAD_ROWS). Split the export."
        )


def _scan_sheet(chunks: Iterable[bytes], path: str) -> SheetScan:
    """Last row/column and formulas of a sheet's XML, read in chunks (memory: one chunk)."""
    carry = b""
    last_row = last_column = row_tags = 0
    formulas: list[tuple[int, int, str]] = []

    def consume(part: bytes) -> None:
        nonlocal last_row, last_column, row_tags
        row_tags += len(_ROW_TAG.findall(part))
        for letters, digits in _CELL_REF.findall(part):
            last_row = max(last_row, int(digits))
            last_column = max(last_column, _column_index(letters) + 1)
        for match in _FORMULA_CELL.finditer(part):
            formula = (match.group(3) or b"").decode("utf-8", errors="replace")
            formulas.append((int(match.group(2)) - 1, _column_index(match.group(1)), formula))

    for chunk in chunks:
        buffer = carry + chunk
        # Everything before the last cell start is whole cells: scan it, carry the rest over.
        tail_from = max(0, len(buffer) - MAX_CARRY_BYTES)
        starts = [m.start() for m in _CELL_START.finditer(buffer, tail_from)]
        cut = starts[-1] if starts else len(buffer)
        consume(buffer[:cut])
        carry = buffer[cut:]
    consume(carry)
    return SheetScan(path, max(last_row, row_tags), last_column, formulas)


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


def _show_formulas(formulas: list[tuple[int, int, str]], records: list[list[str]]) -> None:
    """Replace each formula cell's cached value by ``=formula`` (in place)."""
    for row, column, formula in formulas:
        if row >= len(records):
            continue
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
