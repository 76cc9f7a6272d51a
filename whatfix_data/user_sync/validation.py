"""Row validation before anything is sent: every problem with its row number, valid rows typed.

Checks (vectorised over columns, not a Python loop per row): missing userId, control characters
in a userId or one longer than the API accepts, the same userId on two rows (all its rows are
refused: which one is right is not ours to guess), an invalid email, more than MAX_ATTRIBUTES
attributes, cells a spreadsheet would run as a formula, text that could not be decoded or was
converted twice between encodings, and rows with more cells than the header (their columns are
shifted). A row with any problem is invalid and never sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from whatfix_data.user_sync.mapping import ColumnMapping
from whatfix_data.user_sync.reading import FileFinding, SourceTable
from whatfix_data.user_sync.values import type_column

# The API's limit on custom attributes per end user.
MAX_ATTRIBUTES = 50
# Longer ids are refused by the API (400): refuse them here, before anything is sent.
MAX_USER_ID_LENGTH = 200
# Pragmatic email shape (the HTML living standard's, plus a dot in the domain).
EMAIL_PATTERN = (
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
# '=...' always runs; '+', '-', '@' run when followed by a call, a sheet reference or a DDE pipe.
FORMULA_PATTERN = r"^(?:=|[+\-@].*[(!|])"
CONTROL_PATTERN = r"[\x00-\x1f\x7f]"
REPLACEMENT_CHARACTER = "\ufffd"
# UTF-8 read as Latin-1/Windows-1252 and saved again: "é" becomes "Ã©", "’" becomes "â€™".
MOJIBAKE_PATTERN = "[ÃÂ][\u0080-\u00bf]|â€"
USER_ID_FIELD = "userId"
PROBLEM_COLUMNS: tuple[str, ...] = ("row", "user_id", "column", "problem")
RECORD_COLUMNS: tuple[str, ...] = ("row", "user_id", "email", "name", "attributes")


@dataclass
class Validation:
    """The outcome of validating a file with a mapping.

    ``records``: valid rows (row, user_id, email, name, attributes: dict of typed values), in file
    order. ``problems``: one line per problem (row, user_id, column, problem). ``invalid``: one
    line per invalid row (row, user_id, message). ``findings``: file-level notes.
    """

    records: pd.DataFrame
    problems: pd.DataFrame
    invalid: pd.DataFrame
    findings: list[FileFinding] = field(default_factory=list)
    total_rows: int = 0

    @property
    def valid_count(self) -> int:
        return len(self.records)

    @property
    def invalid_count(self) -> int:
        return len(self.invalid)


def _problem_frame(rows: np.ndarray, user_ids: np.ndarray, column: str, texts) -> pd.DataFrame:
    texts = [texts] * len(rows) if isinstance(texts, str) else list(texts)
    return pd.DataFrame(
        {"row": rows, "user_id": user_ids, "column": column, "problem": texts}
    )


class _Collector:
    """Collects problems as frames while the checks run; one concat at the end."""

    def __init__(self, rows: np.ndarray, user_ids: np.ndarray) -> None:
        self.rows = rows
        self.user_ids = user_ids
        self.parts: list[pd.DataFrame] = []

    def add(self, mask: np.ndarray, column: str, texts) -> None:
        if not mask.any():
            return
        if not isinstance(texts, str) and len(texts) == len(mask):
            texts = list(np.asarray(texts, dtype=object)[mask])
        self.parts.append(_problem_frame(self.rows[mask], self.user_ids[mask], column, texts))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "row" else object)
                                 for c in PROBLEM_COLUMNS})
        out = pd.concat(self.parts, ignore_index=True)
        return out.sort_values("row", kind="stable").reset_index(drop=True)


def validate(table: SourceTable, mapping: ColumnMapping) -> Validation:
    """Validate every row of ``table`` under ``mapping`` (see the module docstring)."""
    mapping.check(table.columns)
    frame = table.frame
    rows = table.rows.to_numpy()
    user_ids = frame[mapping.user_id].to_numpy(dtype=object)
    collect = _Collector(rows, user_ids)
    _check_user_ids(frame[mapping.user_id], rows, collect)
    if mapping.email:
        _check_emails(frame[mapping.email], collect, mapping.email)
    mapped = [mapping.user_id, mapping.email, mapping.name, *mapping.attributes]
    for column in (c for c in mapped if c):
        _check_cells(frame[column], collect, column)
    _check_attribute_count(frame, mapping, collect)
    _check_overlong(table, rows, collect)
    problems = collect.frame()
    invalid = _invalid_rows(problems)
    records = _records(table, mapping, ~np.isin(rows, invalid["row"].to_numpy()))
    return Validation(records=records, problems=problems, invalid=invalid,
                      findings=list(table.findings), total_rows=len(frame))


def _check_user_ids(ids: pd.Series, rows: np.ndarray, collect: _Collector) -> None:
    missing = (ids == "").to_numpy()
    collect.add(missing, USER_ID_FIELD, "userId is missing: every row needs one.")
    control = ids.str.contains(CONTROL_PATTERN, regex=True).to_numpy(dtype=bool)
    collect.add(control, USER_ID_FIELD, "userId contains control characters (tab, line break).")
    too_long = (ids.str.len() > MAX_USER_ID_LENGTH).to_numpy(dtype=bool)
    collect.add(too_long, USER_ID_FIELD,
                f"userId is longer than {MAX_USER_ID_LENGTH} characters, the API's limit.")
    doubled = (ids.duplicated(keep=False) & ~pd.Series(missing, index=ids.index)).to_numpy()
    if doubled.any():
        by_id = pd.Series(rows[doubled]).groupby(ids.to_numpy()[doubled]).agg(list)
        texts = [
            "userId also appears on row(s) "
            + ", ".join(str(r) for r in by_id[uid] if r != row)
            + ": fix the file so each user appears once."
            for uid, row in zip(ids.to_numpy()[doubled], rows[doubled], strict=True)
        ]
        collect.parts.append(_problem_frame(rows[doubled], ids.to_numpy()[doubled],
                                            USER_ID_FIELD, texts))


def _check_emails(emails: pd.Series, collect: _Collector, column: str) -> None:
    present = emails != ""
    valid = emails.str.fullmatch(EMAIL_PATTERN).fillna(False).astype(bool)
    bad = (present & ~valid).to_numpy()
    collect.add(bad, column, "email is not a valid address (expected name@domain.tld).")


def _check_cells(text: pd.Series, collect: _Collector, column: str) -> None:
    formula = text.str.contains(FORMULA_PATTERN, regex=True).to_numpy(dtype=bool)
    collect.add(formula, column,
                f"'{column}' holds a spreadsheet formula; export the value, not the formula.")
    undecoded = text.str.contains(REPLACEMENT_CHARACTER, regex=False).to_numpy(dtype=bool)
    collect.add(undecoded, column,
                f"'{column}' has characters that could not be decoded: save the file as UTF-8.")
    garbled = text.str.contains(MOJIBAKE_PATTERN, regex=True).to_numpy(dtype=bool) & ~undecoded
    collect.add(garbled, column,
                f"'{column}' looks converted twice between encodings (e.g. 'Ã©' for 'é'): "
                "export the file again as UTF-8.")


def _check_attribute_count(frame: pd.DataFrame, mapping: ColumnMapping, collect: _Collector):
    if len(mapping.attributes) <= MAX_ATTRIBUTES:
        return
    counts = (frame[list(mapping.attributes)] != "").sum(axis=1).to_numpy()
    too_many = counts > MAX_ATTRIBUTES
    texts = [f"row has {n} attributes; the API accepts at most {MAX_ATTRIBUTES}." for n in counts]
    collect.add(too_many, "attributes", texts)


def _check_overlong(table: SourceTable, rows: np.ndarray, collect: _Collector) -> None:
    if not table.overlong_rows:
        return
    mask = np.isin(rows, list(table.overlong_rows))
    width = len(table.columns)
    texts = [
        f"row has {table.overlong_rows.get(int(r), width)} cells but the header has {width}: "
        "a value probably contains an unquoted delimiter."
        for r in rows
    ]
    collect.add(mask, "(row)", texts)


def _invalid_rows(problems: pd.DataFrame) -> pd.DataFrame:
    """One line per invalid row: its problems joined into one message."""
    if problems.empty:
        return pd.DataFrame({"row": pd.Series([], dtype="int64"),
                             "user_id": pd.Series([], dtype=object),
                             "message": pd.Series([], dtype=object)})
    grouped = problems.groupby("row", sort=True).agg(
        user_id=("user_id", "first"), message=("problem", " ".join)
    )
    return grouped.reset_index()


def _records(table: SourceTable, mapping: ColumnMapping, keep: np.ndarray) -> pd.DataFrame:
    """Valid rows with typed attribute values; empty cells are left out of ``attributes``."""
    frame = table.frame.loc[keep]
    typed = [type_column(frame[c], mapping.column_type(c)).to_numpy() for c in mapping.attributes]
    names = list(mapping.attributes.values())
    attributes = [
        {name: value for name, value in zip(names, cells, strict=True) if value is not None}
        for cells in zip(*typed, strict=True)
    ] if typed else [{} for _ in range(len(frame))]
    # Explicit object dtype: pandas would otherwise infer `str` and turn None into NaN.
    columns = {
        "row": pd.Series(table.rows.to_numpy()[keep], dtype="int64"),
        "user_id": pd.Series(frame[mapping.user_id].to_numpy(dtype=object), dtype=object),
        "email": pd.Series(_optional_text(frame, mapping.email), dtype=object),
        "name": pd.Series(_optional_text(frame, mapping.name), dtype=object),
        "attributes": pd.Series(attributes, dtype=object),
    }
    return pd.DataFrame(columns)


def _optional_text(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A text column with None for empty cells (not provided: the current value is kept)."""
    if not column:
        return np.full(len(frame), None, dtype=object)
    values = frame[column].to_numpy(dtype=object).copy()
    values[values == ""] = None
    return values
