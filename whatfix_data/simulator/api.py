"""The nine operations of the Whatfix spec over `AccountData`: routing, auth, validation, paging.

Transport-free: `ApiService.handle(ApiRequest) -> ApiResponse`; the HTTP layer (server.py) turns
the response into bytes and applies faults and scenarios.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from whatfix_data.simulator.config import DemoAccount
from whatfix_data.simulator.control import SimControl
from whatfix_data.simulator.model import AccountData, MissingEmailError

API_PREFIX = "/api/v1/"
KEY_HEADER = "x-whatfix-integration-key"
USER_HEADER = "x-whatfix-user"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
DEFAULT_RANGE_DAYS = 30
MAX_QUERY_FIELDS = 50
MAX_INT_DIGITS = 1000
MAX_USER_ID_LENGTH = 200
CONTENT_TYPES = ("Flow", "Tooltip", "TaskList", "SmartTip", "Beacon", "Popup", "Survey", "Article",
                 "Video")
CONTENT_STATUSES = ("Draft", "Published", "Archived")
REPORT_FORMATS = ("json", "csv")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INT_PATTERN = re.compile(r"^[0-9]+$")
SCALAR_TYPES = (str, int, float, bool, type(None))

# (method, path after the account id, operationId); None matches one path segment
ROUTES: tuple[tuple[str, tuple[str | None, ...], str], ...] = (
    ("GET", ("end-users",), "listEndUsers"),
    ("PUT", ("end-users", None), "upsertEndUser"),
    ("GET", ("content",), "listContent"),
    ("GET", ("analytics", "flows"), "getFlowAnalytics"),
    ("GET", ("analytics", "end-users"), "getEndUserEngagement"),
    ("GET", ("analytics", "self-help"), "getSelfHelpAnalytics"),
    ("GET", ("analytics", "task-completion"), "getUserTaskCompletion"),
    ("GET", ("reports", "summary", "mostPopularFlows"), "getMostPopularFlows"),
    ("GET", ("segments",), "listSegments"),
)
ID_FIELDS = {"listEndUsers": "userId", "listContent": "contentId", "listSegments": "segmentId",
             "getEndUserEngagement": "userId", "getUserTaskCompletion": "userId"}


class ApiError(Exception):
    """An error response: status code and a message that says what to fix."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class ApiRequest:
    """One HTTP request as the service sees it (headers: case-insensitive `.get`)."""

    method: str
    path: str
    query: str
    headers: Any
    body: bytes = b""


@dataclass
class ApiResponse:
    """A response before serialization; `payload` is JSON-able (or rows for CSV)."""

    status: int
    payload: Any
    operation: str | None = None
    account: str | None = None
    fmt: str = "json"
    headers: dict[str, str] = field(default_factory=dict)
    page: int | None = None


def error_payload(status: int, message: str) -> dict[str, Any]:
    """The spec's Error object."""
    return {"code": status, "message": message}


@dataclass
class _Context:
    """Everything a handler needs about the request being served."""

    data: AccountData
    query: dict[str, str]
    params: list[str]
    body: bytes
    headers: Any
    drift: bool


class ApiService:
    """Routes /api/v1 requests to the account data of the right tenant."""

    def __init__(self, accounts: list[DemoAccount], data: Mapping[str, AccountData],
                 control: SimControl, today: date) -> None:
        self._by_key = {a.integration_key: a for a in accounts}
        self._data = dict(data)
        self._control = control
        self._today = today
        self._handlers: dict[str, Callable[[_Context], dict[str, Any] | ApiResponse]] = {
            "listEndUsers": self._list_end_users, "upsertEndUser": self._upsert_end_user,
            "listContent": self._list_content, "getFlowAnalytics": self._flows,
            "getEndUserEngagement": self._engagement, "getSelfHelpAnalytics": self._self_help,
            "getUserTaskCompletion": self._task_completion,
            "getMostPopularFlows": self._popular_flows, "listSegments": self._segments,
        }

    # ----- entry point -------------------------------------------------------------------------
    def route(self, method: str, path: str) -> tuple[str, str, list[str]]:
        """(accountId, operationId, path parameters) of a request, or ApiError 404/405."""
        if not path.startswith(API_PREFIX):
            raise ApiError(404, f"No such endpoint: {path[:200]}")
        parts = [unquote(p) for p in path[len(API_PREFIX):].split("/")]
        if len(parts) < 2 or not parts[0]:
            raise ApiError(404, "No such endpoint: expected /api/v1/{accountId}/...")
        account, rest = parts[0], parts[1:]
        allowed: dict[str, tuple[str, list[str]]] = {}
        for verb, pattern, operation in ROUTES:
            if len(pattern) == len(rest) and all(p is None or p == r for p, r in zip(
                    pattern, rest, strict=True)):
                allowed[verb] = (operation, [r for p, r in zip(pattern, rest, strict=True)
                                             if p is None])
        if not allowed:
            raise ApiError(404, f"No such endpoint: {path[:200]}")
        if method not in allowed:
            verbs = ", ".join(sorted(allowed))
            raise ApiError(405, f"Method {method} is not allowed here; use {verbs}",
                           {"Allow": verbs})
        operation, params = allowed[method]
        return account, operation, params

    def handle(self, request: ApiRequest, drift: bool = False) -> ApiResponse:
        """Serve one /api/v1 request; every failure becomes an Error response."""
        operation: str | None = None
        account: str | None = None
        try:
            account, operation, params = self.route(request.method, request.path)
            self._authorize(request.headers, account)
            context = _Context(self._data[account], _query(request.query), params, request.body,
                               request.headers, drift)
            result = self._handlers[operation](context)
            response = result if isinstance(result, ApiResponse) else ApiResponse(200, result)
        except ApiError as exc:
            response = ApiResponse(exc.status, error_payload(exc.status, exc.message),
                                   headers=exc.headers)
        response.operation, response.account = operation, account
        return response

    def _authorize(self, headers: Any, account: str) -> None:
        key = (headers.get(KEY_HEADER) or "").strip()
        if not key:
            raise ApiError(401, f"Missing {KEY_HEADER} header: pass your Whatfix integration key")
        credentials = self._by_key.get(key)
        if credentials is None or self._control.is_revoked(key):
            raise ApiError(401, "Invalid integration key: check or regenerate it in Whatfix")
        user = (headers.get(USER_HEADER) or "").strip()
        if not user:
            raise ApiError(401, f"Missing {USER_HEADER} header: pass your registered Whatfix email")
        if user.lower() != credentials.user_email.lower():
            raise ApiError(401, f"{USER_HEADER} does not match the user of this integration key")
        if account != credentials.account_id:
            raise ApiError(403, "This integration key has no access to that account")

    # ----- shared parameter parsing ------------------------------------------------------------
    def _date_range(self, query: dict[str, str]) -> tuple[date, date]:
        end = _date(query, "endDate") or self._today
        start = _date(query, "startDate") or _days_before(end, DEFAULT_RANGE_DAYS - 1)
        if start > end:
            raise ApiError(400, f"startDate {start} is after endDate {end}")
        return start, end

    # ----- handlers ----------------------------------------------------------------------------
    def _list_end_users(self, ctx: _Context) -> ApiResponse:
        page, size = _paging(ctx.query)
        total = ctx.data.user_count
        return _paginate(lambda offset, limit: ctx.data.list_users(offset, limit)[0], total,
                         page, size, "listEndUsers", ctx.drift)

    def _upsert_end_user(self, ctx: _Context) -> ApiResponse:
        user_id = ctx.params[0]
        fields = _validate_user_body(user_id, ctx.body, ctx.headers)
        try:
            created, record = ctx.data.upsert_user(user_id, fields, datetime.now(UTC))
        except MissingEmailError as exc:
            raise ApiError(400, str(exc)) from None
        return ApiResponse(201 if created else 200, record)

    def _list_content(self, ctx: _Context) -> ApiResponse:
        page, size = _paging(ctx.query)
        kind = _enum(ctx.query, "type", CONTENT_TYPES)
        status = _enum(ctx.query, "status", CONTENT_STATUSES)
        rows = ctx.data.content_records(kind, status)
        return _paginate(lambda o, n: rows[o:o + n], len(rows), page, size, "listContent",
                         ctx.drift)

    def _flows(self, ctx: _Context) -> dict[str, Any]:
        start, end = self._date_range(ctx.query)
        return _ranged(ctx.data.flow_rows(start, end), start, end)

    def _self_help(self, ctx: _Context) -> dict[str, Any]:
        start, end = self._date_range(ctx.query)
        return _ranged(ctx.data.self_help_rows(start, end), start, end)

    def _popular_flows(self, ctx: _Context) -> ApiResponse:
        fmt = _enum(ctx.query, "format", REPORT_FORMATS) or "json"
        start, end = self._date_range(ctx.query)
        payload = _ranged(ctx.data.popular_flow_rows(start, end), start, end)
        return ApiResponse(200, payload, fmt=fmt)

    def _engagement(self, ctx: _Context) -> ApiResponse:
        page, size = _paging(ctx.query)
        start, end = self._date_range(ctx.query)
        rows = ctx.data.engagement(start, end)

        def fetch(offset: int, limit: int) -> list[dict[str, Any]]:
            stop = min(offset + limit, rows.users.size)
            return [ctx.data.engagement_record(rows, i) for i in range(offset, stop)]

        response = _paginate(fetch, int(rows.users.size), page, size, "getEndUserEngagement",
                             ctx.drift)
        response.payload.update(startDate=start.isoformat(), endDate=end.isoformat())
        return response

    def _task_completion(self, ctx: _Context) -> ApiResponse:
        page, size = _paging(ctx.query)
        start, end = self._date_range(ctx.query)
        rows = ctx.data.task_rows(start, end)

        def fetch(offset: int, limit: int) -> list[dict[str, Any]]:
            stop = min(offset + limit, rows.keys.size)
            return [ctx.data.task_record(rows, i) for i in range(offset, stop)]

        response = _paginate(fetch, int(rows.keys.size), page, size, "getUserTaskCompletion",
                             ctx.drift)
        response.payload.update(startDate=start.isoformat(), endDate=end.isoformat())
        return response

    def _segments(self, ctx: _Context) -> ApiResponse:
        page, size = _paging(ctx.query)
        rows = ctx.data.segments()
        return _paginate(lambda o, n: rows[o:o + n], len(rows), page, size, "listSegments",
                         ctx.drift)


def _query(raw: str) -> dict[str, str]:
    """Query parameters, first value of each name; ApiError 400 when unparseable."""
    try:
        parsed = parse_qs(raw, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS)
    except ValueError as exc:
        raise ApiError(400, f"Malformed query string: {exc}") from None
    return {name: values[0] for name, values in parsed.items()}


def _integer(query: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    limits = f"between {low} and {high}" if high is not None else f">= {low}"
    if not INT_PATTERN.match(raw) or len(raw) > MAX_INT_DIGITS:
        raise ApiError(400, f"{name} must be an integer {limits}, got {raw[:40]!r}")
    value = int(raw)
    if value < low or (high is not None and value > high):
        raise ApiError(400, f"{name} must be an integer {limits}, got {value}")
    return value


def _paging(query: dict[str, str]) -> tuple[int, int]:
    page = _integer(query, "page", 1, 1, None)
    size = _integer(query, "pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    return page, size


def _enum(query: dict[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    raw = query.get(name)
    if raw is None:
        return None
    if raw not in allowed:
        raise ApiError(400, f"{name} must be one of {', '.join(allowed)}, got {raw[:40]!r}")
    return raw


def _date(query: dict[str, str], name: str) -> date | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        if not DATE_PATTERN.match(raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an ISO date YYYY-MM-DD, got {raw[:40]!r}") from None


def _days_before(day: date, days: int) -> date:
    """`day - days`, clamped at the first representable date."""
    return date.fromordinal(max(day.toordinal() - days, 1))


def _ranged(rows: list[dict[str, Any]], start: date, end: date) -> dict[str, Any]:
    return {"data": rows, "startDate": start.isoformat(), "endDate": end.isoformat()}


def _paginate(fetch: Callable[[int, int], list[dict[str, Any]]], total: int, page: int,
              size: int, operation: str, drift: bool) -> ApiResponse:
    """A page of a list; with `drift`, a new record sits in front of the list (total + 1)."""
    template = fetch(0, 1) if drift else []
    shift = 1 if template else 0
    count = total + shift
    offset = min((page - 1) * size, count)
    if shift and offset == 0:
        first = dict(template[0])
        id_field = ID_FIELDS[operation]
        first[id_field] = f"sim-drift-{first.get(id_field, 'record')}"
        rows = [first, *fetch(0, size - 1)]
    else:
        rows = fetch(offset - shift, size) if offset < count else []
    pagination = {"page": page, "pageSize": size, "totalCount": count,
                  "totalPages": math.ceil(count / size)}
    return ApiResponse(200, {"data": rows, "pagination": pagination}, page=page)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed in JSON")


def _validate_user_body(user_id: str, body: bytes, headers: Any) -> dict[str, Any]:
    """The fields to apply from a PUT body; ApiError 400 naming the field otherwise."""
    if not user_id.strip():
        raise ApiError(400, "userId in the path must not be empty")
    if len(user_id) > MAX_USER_ID_LENGTH:
        raise ApiError(400, f"userId must be at most {MAX_USER_ID_LENGTH} characters")
    content_type = (headers.get("content-type") or "application/json").lower()
    if "json" not in content_type:
        raise ApiError(400, "Content-Type must be application/json")
    if not body.strip():
        raise ApiError(400, "A JSON object body is required")
    try:
        parsed = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "The request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return _user_fields(user_id, parsed)


def _user_fields(user_id: str, body: dict[str, Any]) -> dict[str, Any]:
    if "userId" in body and body["userId"] != user_id:
        raise ApiError(400, "userId in the body must equal the userId in the path")
    fields: dict[str, Any] = {}
    if "email" in body:
        email = body["email"]
        if not isinstance(email, str) or not EMAIL_PATTERN.match(email):
            raise ApiError(400, "email must be a valid email address")
        fields["email"] = email
    if "name" in body:
        if not isinstance(body["name"], str):
            raise ApiError(400, "name must be a string")
        fields["name"] = body["name"]
    if "attributes" in body:
        attributes = body["attributes"]
        if not isinstance(attributes, dict):
            raise ApiError(400, "attributes must be an object")
        for key, value in attributes.items():
            if not isinstance(value, SCALAR_TYPES):
                raise ApiError(400, f"attributes.{key[:60]} must be a string, number, boolean "
                                    "or null")
        fields["attributes"] = attributes
    return fields
