"""Read an uploaded CRM/IdP export (CSV or XLSX) into a table of text cells, with file findings.

Every cell becomes text (``""`` for an empty cell) so that CSV and XLSX go through one typing and
validation path, and so that the failed rows can be written back as a CSV that reads the same.
Row numbers are the ones a spreadsheet shows: the header is row 1, the first data row is row 2.

Encodings are tried in order: UTF-8 (with or without BOM), UTF-16 when it has a BOM, then
Windows-1252 and finally Latin-1; a fallback is reported as a finding, because accented names may
be wrong when the guess is wrong.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from whatfix_data.errors import WhatfixError
from whatfix_data.exports import FORMULA_TRIGGERS, NEUTRALISING_PREFIX
from whatfix_data.user_sync.xlsx import WorkbookError, read_first_sheet

# File kinds recognised by their first bytes; XLSX is a ZIP container.
XLSX_MAGIC = b"PK\x03\x04"
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
FALLBACK_ENCODINGS: tuple[str, ...] = ("cp1252", "latin-1")
# Delimiters a CRM export realistically uses (European Excel writes ';').
CSV_DELIMITERS = ",;\t|"
SNIFF_BYTES = 64 * 1024
# The header is spreadsheet row 1, so data row i (0-based) is row i + 2.
FIRST_DATA_ROW = 2
# Bytes that never appear in a text export: a NUL means a binary file (or an unmarked UTF-16 one).
BINARY_MARKER = b"\x00"
DUPLICATE_SUFFIX = " ({n})"


class SyncFileError(WhatfixError):
    """The uploaded file cannot be read as a user export (empty, binary, unreadable workbook)."""

    default_message = "The file could not be read. Upload a CSV or XLSX export with a header row."


@dataclass(frozen=True)
class FileFinding:
    """A problem with the file as a whole (not with one row)."""

    problem: str
    column: str = ""


@dataclass
class SourceTable:
    """The file as text: one column per header cell, ``rows`` holding spreadsheet row numbers."""

    frame: pd.DataFrame
    rows: pd.Series
    file_name: str
    encoding: str
    findings: list[FileFinding] = field(default_factory=list)
    # Row numbers of data lines with more cells than the header (their extra cells are dropped).
    overlong_rows: dict[int, int] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    def __len__(self) -> int:
        return len(self.frame)


def read_upload(data: bytes, file_name: str) -> SourceTable:
    """Read CSV or XLSX bytes (detected from the content, not only the name) into a SourceTable.

    Raises SyncFileError for empty, binary or unreadable files, or a file without a header row.
    """
    if not data or not data.strip():
        raise SyncFileError(f"'{file_name}' is empty: export the users again, with a header row.")
    if data.startswith(XLSX_MAGIC) or Path(file_name).suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(data, file_name)
    return _read_csv(data, file_name)


def read_path(path: str | Path) -> SourceTable:
    """Read a CSV or XLSX file from disk (see :func:`read_upload`)."""
    source = Path(path)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise SyncFileError(f"Cannot read '{source}': {exc.strerror or exc}.") from exc
    return read_upload(data, source.name)


# --------------------------------------------------------------------------- decoding


def decode_text(data: bytes) -> tuple[str, str, list[FileFinding]]:
    """Decode export bytes: (text, encoding used, findings about the encoding)."""
    if data.startswith(UTF8_BOM):
        return data[len(UTF8_BOM):].decode("utf-8", errors="replace"), "utf-8-sig", []
    if data.startswith(UTF16_BOMS):
        return data.decode("utf-16"), "utf-16", []
    if BINARY_MARKER in data[:SNIFF_BYTES]:
        raise SyncFileError(
            "The file looks binary, not like a CSV or XLSX export. Save it as CSV (UTF-8) or XLSX."
        )
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as exc:
        position = exc.start
    for encoding in FALLBACK_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        finding = FileFinding(
            f"The file is not UTF-8 (first bad byte at offset {position}); it was read as "
            f"{encoding}. Check accented names in the preview, or save the export as "
            "'CSV UTF-8' and upload it again."
        )
        return text, encoding, [finding]
    raise SyncFileError("The file's encoding could not be read. Save it as 'CSV UTF-8'.")


# --------------------------------------------------------------------------- CSV


def _sniff_delimiter(text: str) -> str:
    """The delimiter of the export; ',' when the sample is ambiguous."""
    sample = text[:SNIFF_BYTES]
    try:
        return csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _read_csv(data: bytes, file_name: str) -> SourceTable:
    text, encoding, findings = decode_text(data)
    delimiter = _sniff_delimiter(text)
    try:
        # The C parser is ~10x faster than the csv module on a 50,000-row export.
        raw = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, dtype=str,
                          keep_default_na=False, na_filter=False, skip_blank_lines=False,
                          engine="c")
    except pd.errors.ParserError:
        raw = _records_frame(_csv_records(text, delimiter, file_name))  # ragged rows
    except pd.errors.EmptyDataError as exc:
        raise SyncFileError(f"'{file_name}' is empty: export the users again, with a header "
                            "row.") from exc
    return _build_table(raw, file_name, encoding, findings)


def _csv_records(text: str, delimiter: str, file_name: str) -> list[list[str]]:
    """Records with the csv module: slower, but it accepts rows longer than the header."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return list(reader)
    except csv.Error as exc:
        raise SyncFileError(f"'{file_name}' is not a readable CSV file ({exc}).") from exc


def _records_frame(records: list[list[str]]) -> pd.DataFrame:
    """Records of any lengths as a text frame with positional columns, short rows padded."""
    width = max((len(r) for r in records), default=0)
    return pd.DataFrame([r + [""] * (width - len(r)) for r in records], dtype=str)


# --------------------------------------------------------------------------- XLSX


def _read_xlsx(data: bytes, file_name: str) -> SourceTable:
    try:
        sheet = read_first_sheet(data)
    except WorkbookError as exc:
        raise SyncFileError(
            f"'{file_name}' is not a readable XLSX workbook. Save it again from Excel, or as CSV."
        ) from exc
    findings = []
    if sheet.sheet_count > 1:
        findings.append(FileFinding(
            f"The workbook has {sheet.sheet_count} sheets; only the first, '{sheet.name}', "
            "was read."
        ))
    if not sheet.records:
        raise SyncFileError(f"'{file_name}' is empty: export the users again, with a header row.")
    return _build_table(_records_frame(sheet.records), file_name, "xlsx", findings)


# --------------------------------------------------------------------------- table building


def unneutralise(value: str) -> str:
    """Undo the CSV writer's formula guard: ``'=x`` -> ``=x``, so a downloaded file reads back.

    A spreadsheet treats a leading apostrophe as "this is text"; removing it before validation
    means a re-uploaded failed-rows file gives the same values as the original upload.
    """
    if value.startswith(NEUTRALISING_PREFIX) and value[1:2] and value[1] in FORMULA_TRIGGERS:
        return value[1:]
    return value


def _header_names(header: list[str]) -> tuple[list[str], list[FileFinding]]:
    """Trimmed, non-empty, unique column names; duplicates get a ' (2)' suffix and a finding."""
    names: list[str] = []
    findings: list[FileFinding] = []
    seen: dict[str, int] = {}
    for position, raw in enumerate(header, start=1):
        name = unneutralise(raw.strip()) or f"column {position}"
        key = name.casefold()
        if key in seen:
            seen[key] += 1
            renamed = name + DUPLICATE_SUFFIX.format(n=seen[key])
            findings.append(FileFinding(
                f"Column '{name}' appears more than once; the copy in column {position} was "
                f"renamed '{renamed}' and is ignored unless you map it.",
                column=renamed,
            ))
            name = renamed
        else:
            seen[key] = 1
        names.append(name)
    return names, findings


def _header_width(header: list[str]) -> int:
    """Header cells up to the last non-empty one (Excel often saves a few blank columns)."""
    width = len(header)
    while width and not header[width - 1].strip():
        width -= 1
    return width


def _build_table(
    raw: pd.DataFrame, file_name: str, encoding: str, findings: list[FileFinding]
) -> SourceTable:
    """Header row + data rows -> SourceTable; blank lines are dropped but keep their numbers."""
    raw = raw.fillna("")
    header = [str(c) for c in raw.iloc[0].tolist()] if len(raw) else []
    width = _header_width(header)
    if not width:
        raise SyncFileError(
            f"'{file_name}' has no header row. The first row must name the columns "
            "(for example userId, email, name, role)."
        )
    columns, header_findings = _header_names(header[:width])
    body = raw.iloc[1:]
    cleaned = pd.DataFrame({name: _clean_column(body.iloc[:, i])
                            for i, name in enumerate(columns)}, index=body.index)
    extra = body.iloc[:, width:].apply(_clean_column) if raw.shape[1] > width else None
    blank = (cleaned == "").all(axis=1)
    if extra is not None:
        spill = (extra != "").any(axis=1)
        blank &= ~spill
    keep = ~blank.to_numpy()
    # Row numbers as a spreadsheet shows them: raw row i (header = 0) is row i + 1.
    row_numbers = np.arange(len(body), dtype="int64")[keep] + FIRST_DATA_ROW
    overlong: dict[int, int] = {}
    if extra is not None:
        cells = (extra != "").to_numpy()
        last = np.where(cells.any(axis=1), cells.shape[1] - np.argmax(cells[:, ::-1], axis=1), 0)
        overlong = {int(r) + FIRST_DATA_ROW: width + int(n)
                    for r, n in enumerate(last) if n and keep[r]}
    frame = cleaned.loc[keep].reset_index(drop=True)
    all_findings = [*findings, *header_findings]
    if frame.empty:
        all_findings.append(FileFinding("The file has a header row but no data rows."))
    return SourceTable(
        frame=frame,
        rows=pd.Series(row_numbers, dtype="int64"),
        file_name=file_name,
        encoding=encoding,
        findings=all_findings,
        overlong_rows=overlong,
    )


def _clean_column(series: pd.Series) -> pd.Series:
    """Trim surrounding whitespace and undo the formula guard, vectorised over one column."""
    text = series.astype(str).str.strip()
    guarded = text.str.match(_GUARDED_PATTERN)
    if guarded.any():
        text = text.where(~guarded, text.str.slice(1))
    return text


_GUARDED_PATTERN = re.escape(NEUTRALISING_PREFIX) + "[" + "".join(
    re.escape(char) for char in FORMULA_TRIGGERS
) + "]"
