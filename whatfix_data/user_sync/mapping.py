"""Which file column feeds ``userId``, ``email``, ``name`` and each attribute: guessed, editable.

The guess looks at the header only (``User ID``, ``employee_id``, ``E-mail``, ``Full name``...);
every other column becomes an attribute named after its header, except server-managed fields
(``createdAt``, ``lastSeenAt``), which are ignored. The page and the CLI edit the same object.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from whatfix_data.user_sync.values import AUTO, COLUMN_TYPES

# Header spellings (lower-case, letters and digits only) recognised for each field, best first.
USER_ID_HEADERS: tuple[str, ...] = (
    "userid", "externalid", "externaluserid", "employeeid", "employeenumber",
    "uid", "id", "login", "username",
)
EMAIL_HEADERS: tuple[str, ...] = (
    "email", "emailaddress", "mail", "workemail", "primaryemail", "useremail", "businessemail",
)
NAME_HEADERS: tuple[str, ...] = ("name", "fullname", "displayname", "employeename")
# Fields the API sets itself: an export of end users carries them, but they must not be synced.
IGNORED_HEADERS: tuple[str, ...] = ("createdat", "lastseenat", "created", "lastseen")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
NO_COLUMN = ""


class MappingError(ValueError):
    """A mapping that cannot be used (unknown column, a column used twice, no userId)."""


def header_key(name: str) -> str:
    """A header reduced to lower-case letters and digits: ``E-Mail Address`` -> ``emailaddress``."""
    return _NOT_ALNUM.sub("", name.casefold())


@dataclass(frozen=True)
class ColumnMapping:
    """How the file's columns map to the API's end-user fields.

    ``attributes`` maps a file column to the attribute name sent; ``types`` gives a column's
    typing (``auto`` or ``text``; missing means ``auto``); ``ignored`` columns are not sent.
    """

    user_id: str
    email: str = NO_COLUMN
    name: str = NO_COLUMN
    attributes: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()

    def column_type(self, column: str) -> str:
        return self.types.get(column, AUTO)

    def check(self, columns: Iterable[str]) -> None:
        """Raise MappingError unless every mapped column exists and none is used twice."""
        available = set(columns)
        if not self.user_id:
            raise MappingError("Choose the column that holds the userId.")
        used = [self.user_id, self.email, self.name, *self.attributes]
        used = [c for c in used if c]
        missing = [c for c in used if c not in available]
        if missing:
            raise MappingError(f"The file has no column named {', '.join(map(repr, missing))}.")
        doubled = sorted({c for c in used if used.count(c) > 1})
        if doubled:
            raise MappingError(f"Column {', '.join(map(repr, doubled))} is mapped twice.")
        names = [n.strip() for n in self.attributes.values()]
        if any(not n for n in names):
            raise MappingError("Every attribute needs a name.")
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise MappingError(f"Attribute {', '.join(map(repr, twice))} is fed by two columns.")
        bad_types = sorted({t for t in self.types.values() if t not in COLUMN_TYPES})
        if bad_types:
            raise MappingError(f"Unknown column type {', '.join(bad_types)}.")

    def with_fields(
        self,
        columns: Iterable[str],
        *,
        user_id: str | None = None,
        email: str | None = None,
        name: str | None = None,
        ignored: Iterable[str] | None = None,
        text_columns: Iterable[str] | None = None,
    ) -> ColumnMapping:
        """A new mapping with these choices; every other column becomes an attribute again."""
        user_id = self.user_id if user_id is None else user_id
        email = self.email if email is None else email
        name = self.name if name is None else name
        ignored_set = set(self.ignored if ignored is None else ignored)
        core = {user_id, email, name}
        attributes = {
            c: self.attributes.get(c, c) for c in columns if c not in core and c not in ignored_set
        }
        types = dict(self.types)
        if text_columns is not None:
            types = {c: "text" for c in text_columns}
        return replace(
            self, user_id=user_id, email=email, name=name, attributes=attributes, types=types,
            ignored=tuple(c for c in columns if c in ignored_set and c not in core),
        )


def _pick(keys: Mapping[str, str], candidates: tuple[str, ...], taken: set[str]) -> str:
    """The first column whose header key is one of ``candidates`` (in their order)."""
    for candidate in candidates:
        for column, key in keys.items():
            if key == candidate and column not in taken:
                return column
    return NO_COLUMN


def guess_mapping(columns: Iterable[str]) -> ColumnMapping:
    """The mapping guessed from the header; user_id is empty when nothing looks like an id."""
    names = list(columns)
    keys = {c: header_key(c) for c in names}
    taken: set[str] = set()
    email = _pick(keys, EMAIL_HEADERS, taken)
    taken.add(email)
    user_id = _pick(keys, USER_ID_HEADERS, taken)
    taken.add(user_id)
    name = _pick(keys, NAME_HEADERS, taken)
    taken.add(name)
    ignored = tuple(
        c for c in names
        if c not in taken and (keys[c] in IGNORED_HEADERS or _is_renamed_duplicate(c))
    )
    attributes = {c: c for c in names if c not in taken and c not in ignored}
    return ColumnMapping(user_id=user_id, email=email, name=name, attributes=attributes,
                         ignored=ignored)


def _is_renamed_duplicate(column: str) -> bool:
    """True for the ``role (2)`` names the reader gives to repeated headers."""
    return re.search(r" \(\d+\)$", column) is not None


def parse_mapping_options(options: Iterable[str], base: ColumnMapping) -> ColumnMapping:
    """Apply CLI options like ``userId=Employee ID``, ``role=Job Title``, ``-Notes`` (ignore),
    ``Zip:text`` (no typing) to ``base``; raises MappingError for a malformed option."""
    mapping = base
    for option in options:
        mapping = _apply_option(option.strip(), mapping)
    return mapping


def _apply_option(option: str, mapping: ColumnMapping) -> ColumnMapping:
    if option.startswith("-") and len(option) > 1:
        column = option[1:]
        attributes = {c: n for c, n in mapping.attributes.items() if c != column}
        return replace(mapping, attributes=attributes, ignored=(*mapping.ignored, column))
    if option.endswith((":text", ":auto")):
        column, _, kind = option.rpartition(":")
        return replace(mapping, types={**mapping.types, column: kind})
    target, sep, column = option.partition("=")
    if not sep or not target.strip() or not column.strip():
        raise MappingError(
            f"Cannot read mapping option '{option}'. Use FIELD=COLUMN (userId=Employee ID, "
            "email=Mail, name=Full name, or ATTRIBUTE=COLUMN), -COLUMN to ignore a column, "
            "or COLUMN:text to keep a column as text."
        )
    return _assign(mapping, target.strip(), column.strip())


def _assign(mapping: ColumnMapping, target: str, column: str) -> ColumnMapping:
    """Feed ``target`` (userId, email, name, or an attribute name) from ``column``."""
    attributes = {c: n for c, n in mapping.attributes.items() if c != column}
    ignored = tuple(c for c in mapping.ignored if c != column)
    core = {"userId": "user_id", "email": "email", "name": "name"}
    if target in core:
        previous = getattr(mapping, core[target])
        if previous and previous != column:
            attributes[previous] = previous  # the column it replaces becomes an attribute again
        return replace(mapping, attributes=attributes, ignored=ignored, **{core[target]: column})
    for core_field in core.values():
        if getattr(mapping, core_field) == column:
            mapping = replace(mapping, **{core_field: NO_COLUMN})
    if column in mapping.attributes:  # a rename keeps the column's place in the order
        attributes = {c: (target if c == column else n) for c, n in mapping.attributes.items()}
    else:
        attributes[column] = target
    return replace(mapping, attributes=attributes, ignored=ignored)
