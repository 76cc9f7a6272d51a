"""Read an uploaded CRM/IdP export (CSV or XLSX) into a table of text cells, with file findings.

Every cell becomes text (``""`` for an empty cell) so that CSV and XLSX go through one typing and
validation path, and so that the failed rows can be written back as a CSV that reads the same.
Row numbers are the ones a spreadsheet shows: the header is row 1, the first data row is row 2.

Encodings are tried in order: UTF-8 (with or without BOM), UTF-16 when it has a BOM, then
Windows-1252 and finally Latin-1; a fallback is reported as a finding, because accented names may
be wrong when the guess is wrong.

Uploads are untrusted: the byte, row and column ceilings of :class:`whatfix_data.config.
UploadLimits` (settings, the same for the page and the CLI) are checked before the file is
parsed, so an oversized file, a 10,000-column header or a zip bomb is refused within a second
with a message that names the limit. The CSV is parsed from its bytes (never one big decoded
copy), so memory stays within a small multiple of the file size.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from whatfix_data.config import UploadLimits, upload_limits
from whatfix_data.errors import WhatfixError
from whatfix_data.exports import FORMULA_TRIGGERS, NEUTRALISING_PREFIX
from whatfix_data.user_sync.xlsx import WorkbookError, WorkbookTooLargeError, read_first_sheet

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
# UTF-8 is checked in pieces of this size (a whole decoded copy would double the memory).
DECODE_CHUNK_BYTES = 1024 * 1024
MIB = 1024 * 1024


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


def read_upload(data: bytes, file_name: str, limits: UploadLimits | None = None) -> SourceTable:
    """Read CSV or XLSX bytes (detected from the content, not only the name) into a SourceTable.

    Raises SyncFileError for empty, binary or unreadable files, a file without a header row, or
    one past the upload ``limits`` (default: the WHATFIX_* settings, see config.upload_limits).
    """
    limits = limits or upload_limits()
    if not data or not data.strip():
        raise SyncFileError(f"'{file_name}' is empty: export the users again, with a header row.")
    check_size(len(data), file_name, limits)
    if data.startswith(XLSX_MAGIC) or Path(file_name).suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(data, file_name, limits)
    return _read_csv(data, file_name, limits)


def read_path(path: str | Path, limits: UploadLimits | None = None) -> SourceTable:
    """Read a CSV or XLSX file from disk (see :func:`read_upload`); its size is checked first."""
    source = Path(path)
    limits = limits or upload_limits()
    try:
        check_size(source.stat().st_size, source.name, limits)
        data = source.read_bytes()
    except OSError as exc:
        raise SyncFileError(f"Cannot read '{source}': {exc.strerror or exc}.") from exc
    return read_upload(data, source.name, limits)


def check_size(size: int, file_name: str, limits: UploadLimits) -> None:
    """SyncFileError naming the limit when a file has more bytes than an upload may have."""
    if size > limits.max_upload_bytes:
        raise SyncFileError(
            f"'{file_name}' is {size / MIB:,.1f} MiB; uploads are limited to "
            f"{limits.max_upload_bytes / MIB:,.1f} MiB (WHATFIX_MAX_UPLOAD_BYTES). Split the "
            "export into smaller files."
        )


def _too_many_columns(file_name: str, columns: int, limits: UploadLimits) -> SyncFileError:
    return SyncFileError(
        f"'{file_name}' has {columns:,} columns; the limit is {limits.max_upload_columns:,} "
        "(WHATFIX_MAX_UPLOAD_COLUMNS). A user export needs userId, email, name and at most 50 "
        "attributes: remove the other columns."
    )


def _too_many_rows(file_name: str, limits: UploadLimits) -> SyncFileError:
    return SyncFileError(
        f"'{file_name}' has more than {limits.max_upload_rows:,} data rows, the limit "
        "(WHATFIX_MAX_UPLOAD_ROWS). Split the export into smaller files."
    )


# --------------------------------------------------------------------------- decoding


def detect_encoding(data: bytes) -> tuple[str, list[FileFinding]]:
    """The encoding of export bytes and findings about it, without decoding a whole copy."""
    if data.startswith(UTF8_BOM):
        return "utf-8-sig", []
    if data.startswith(UTF16_BOMS):
        return "utf-16", []
    if BINARY_MARKER in data[:SNIFF_BYTES]:
        raise SyncFileError(
            "The file looks binary, not like a CSV or XLSX export. Save it as CSV (UTF-8) or XLSX."
        )
    position = _first_bad_utf8(data)
    if position is None:
        return "utf-8", []
    for encoding in FALLBACK_ENCODINGS:
        try:
            codecs.decode(data, encoding)
        except UnicodeDecodeError:
            continue
        finding = FileFinding(
            f"The file is not UTF-8 (first bad byte at offset {position}); it was read as "
            f"{encoding}. Check accented names in the preview, or save the export as "
            "'CSV UTF-8' and upload it again."
        )
        return encoding, [finding]
    raise SyncFileError("The file's encoding could not be read. Save it as 'CSV UTF-8'.")


def _first_bad_utf8(data: bytes) -> int | None:
    """Offset of the first byte that is not valid UTF-8, or None (checked piece by piece)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for offset in range(0, len(data), DECODE_CHUNK_BYTES):
        piece = view[offset:offset + DECODE_CHUNK_BYTES]
        try:
            decoder.decode(piece, final=offset + DECODE_CHUNK_BYTES >= len(data))
        except UnicodeDecodeError as exc:
            return offset + exc.start
    return None


def decode_text(data: bytes) -> tuple[str, str, list[FileFinding]]:
    """Decode export bytes: (text, encoding used, findings about the encoding)."""
    encoding, findings = detect_encoding(data)
    return codecs.decode(data, encoding, errors="replace"), encoding, findings


# --------------------------------------------------------------------------- CSV


def _sniff_delimiter(text: str) -> str:
    """The delimiter of the export; ',' when the sample is ambiguous."""
    sample = text[:SNIFF_BYTES]
    try:
        return csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _read_csv(data: bytes, file_name: str, limits: UploadLimits) -> SourceTable:
    encoding, findings = detect_encoding(data)
    sample = codecs.decode(data[:SNIFF_BYTES], encoding, errors="ignore")
    delimiter = _sniff_delimiter(sample)
    header_width = _first_record_width(sample, delimiter)
    if header_width > limits.max_upload_columns:
        raise _too_many_columns(file_name, header_width, limits)
    try:
        # The C parser reads the bytes directly (no decoded copy) and ~10x faster than the csv
        # module; nrows stops it one row past the limit.
        raw = pd.read_csv(io.BytesIO(data), sep=delimiter, header=None, dtype=str,
                          keep_default_na=False, na_filter=False, skip_blank_lines=False,
                          engine="c", encoding=encoding, encoding_errors="replace",
                          nrows=limits.max_upload_rows + 2)
    except pd.errors.ParserError:  # ragged rows
        raw = _records_frame(_csv_records(data, encoding, delimiter, file_name, limits))
    except pd.errors.EmptyDataError as exc:
        raise SyncFileError(f"'{file_name}' is empty: export the users again, with a header "
                            "row.") from exc
    if len(raw) > limits.max_upload_rows + 1:
        raise _too_many_rows(file_name, limits)
    if raw.shape[1] > limits.max_upload_columns:
        raise _too_many_columns(file_name, raw.shape[1], limits)
    return _build_table(raw, file_name, encoding, findings)


def _first_record_width(sample: str, delimiter: str) -> int:
    """Cells of the first record of the sample (a lower bound when the header is longer)."""
    try:
        first = next(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter), [])
    except csv.Error:
        return sample.split("\n", 1)[0].count(delimiter) + 1
    return len(first)


def _csv_records(data: bytes, encoding: str, delimiter: str, file_name: str,
                 limits: UploadLimits) -> list[list[str]]:
    """Records with the csv module: slower, but it accepts rows longer than the header.

    The bytes are decoded as they are read, and reading stops at the first row past a limit.
    """
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="replace", newline="")
    records: list[list[str]] = []
    try:
        for record in csv.reader(text, delimiter=delimiter):
            if len(record) > limits.max_upload_columns:
                raise _too_many_columns(file_name, len(record), limits)
            records.append(record)
            if len(records) > limits.max_upload_rows + 1:
                raise _too_many_rows(file_name, limits)
    except csv.Error as exc:
        raise SyncFileError(f"'{file_name}' is not a readable CSV file ({exc}).") from exc
    return records


def _records_frame(records: list[list[str]]) -> pd.DataFrame:
    """Records of any lengths as a text frame with positional columns, short rows padded."""
    width = max((len(r) for r in records), default=0)
    return pd.DataFrame([r + [""] * (width - len(r)) for r in records], dtype=str)


# --------------------------------------------------------------------------- XLSX


def _read_xlsx(data: bytes, file_name: str, limits: UploadLimits) -> SourceTable:
    try:
        sheet = read_first_sheet(data, limits)
    except WorkbookTooLargeError as exc:
        raise SyncFileError(f"'{file_name}' {exc}") from None
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
    if len(sheet.records) > limits.max_upload_rows + 1:
        raise _too_many_rows(file_name, limits)
    width = max(len(record) for record in sheet.records)
    if width > limits.max_upload_columns:
        raise _too_many_columns(file_name, width, limits)
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
