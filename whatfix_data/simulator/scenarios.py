"""Response scenarios that imitate a misbehaving API (set through /__sim__/scenario).

Record transforms work on a deep copy of the payload: the account data never changes.
Pagination transforms (`huge_total`, `negative_total`, `ends_early`) change what a list page
claims or holds. `non_json` and `truncated_json` act on the serialized body and `never_answers`
on the exchange itself (see server.py).
"""

from __future__ import annotations

import copy
import math
from typing import Any

KEY_FIELDS = ("userId", "contentId", "flowId", "segmentId", "taskListId")
HTML_BODY = (b"<!DOCTYPE html><html><head><title>Service maintenance</title></head>"
             b"<body><h1>We'll be right back</h1><p>Whatfix is under maintenance.</p>"
             b"</body></html>")
UNPARSEABLE = "n/a"
IMPOSSIBLE_RATE = 130.0
HUGE_TOTAL = 10_000_000
NEGATIVE_TOTAL = -42
EXTRA_FIELDS = {"internalScore": 0.42, "_links": {"self": "https://example.invalid/record"}}


def _records(payload: Any) -> list[dict[str, Any]]:
    """The records of a payload: its `data` list, or the payload itself for a single record."""
    if isinstance(payload, dict) and isinstance(payload.get("data"), list):
        return [r for r in payload["data"] if isinstance(r, dict)]
    return [payload] if isinstance(payload, dict) else []


def _numeric_fields(record: dict[str, Any]) -> list[str]:
    return [k for k, v in record.items() if isinstance(v, int | float) and not isinstance(v, bool)]


def missing_fields(record: dict[str, Any], index: int) -> None:
    """Every other record loses one non-key field (rotating through its fields)."""
    optional = [k for k in record if k not in KEY_FIELDS]
    if index % 2 == 0 and optional:
        del record[optional[(index // 2) % len(optional)]]


def extra_fields(record: dict[str, Any], index: int) -> None:
    """Every record gains fields the spec does not define."""
    record.update(copy.deepcopy(EXTRA_FIELDS))
    record["simRowNumber"] = index


def wrong_types(record: dict[str, Any], index: int) -> None:
    """Numbers become strings ("12"); every fourth record has one unparseable value ("n/a")."""
    numeric = _numeric_fields(record)
    for name in numeric:
        record[name] = str(record[name])
    if index % 4 == 0 and numeric:
        record[numeric[0]] = UNPARSEABLE


def _negative(record: dict[str, Any]) -> None:
    numeric = [k for k in _numeric_fields(record) if isinstance(record[k], int)]
    if numeric:
        record[numeric[0]] = -abs(record[numeric[0]]) - 3


def impossible_values(record: dict[str, Any], index: int) -> None:
    """Rate 130, completions > views, negative counts, completedTasks > totalTasks (rotating)."""
    step = index % 4
    if step == 0 and "completionRate" in record:
        record["completionRate"] = IMPOSSIBLE_RATE
    elif step == 1 and "completions" in record and "views" in record:
        record["completions"] = int(record["views"]) + 7
    elif step == 3 and "completedTasks" in record and "totalTasks" in record:
        record["completedTasks"] = int(record["totalTasks"]) + 2
    else:
        _negative(record)


RECORD_TRANSFORMS = {"missing_fields": missing_fields, "extra_fields": extra_fields,
                     "wrong_types": wrong_types, "impossible_values": impossible_values}


def _claimed_total(total: int) -> Any:
    def change(payload: dict[str, Any]) -> None:
        pagination = payload["pagination"]
        pagination["totalCount"] = total
        size = pagination.get("pageSize") or 1
        pagination["totalPages"] = max(math.ceil(total / size), 0)
    return change


def _ends_early(payload: dict[str, Any]) -> None:
    """Pages after the first hold nothing, while the total still claims them."""
    if payload["pagination"].get("page", 1) >= 2:
        payload["data"] = []


PAGINATION_TRANSFORMS = {"huge_total": _claimed_total(HUGE_TOTAL),
                         "negative_total": _claimed_total(NEGATIVE_TOTAL),
                         "ends_early": _ends_early}


def transform_payload(name: str, payload: Any) -> Any:
    """A copy of the payload with its records changed by scenario `name` (if it changes records)."""
    paging = PAGINATION_TRANSFORMS.get(name)
    if paging is not None:
        if not (isinstance(payload, dict) and isinstance(payload.get("pagination"), dict)):
            return payload  # not a list page: nothing to claim
        changed = copy.deepcopy(payload)
        paging(changed)
        return changed
    transform = RECORD_TRANSFORMS.get(name)
    if transform is None:
        return payload
    changed = copy.deepcopy(payload)
    for index, record in enumerate(_records(changed)):
        transform(record, index)
    return changed


def truncate(body: bytes) -> bytes:
    """The first half of a body (JSON cut in the middle)."""
    return body[: max(len(body) // 2, 1)]
