"""A small hostile stand-in for the Whatfix API, for the robustness tests (stdlib http.server).

It speaks the spec's paths (``/{accountId}/segments``, ``/analytics/flows``, the mostPopularFlows
report in JSON and CSV, ...) with valid shapes but hostile values: flow and content names that are
spreadsheet formulas, that hold NUL or other control characters, Unicode direction overrides
(U+202E), ``null`` or a number. It can also die mid-load: after ``die_after`` requests it closes
every connection without an answer, as a crashed or unplugged server would.

Unlike the built-in server (whatfix_data.simulator) it has no model: every window returns the same
few rows, so the tests can name exactly what each page must show.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ACCOUNT = "hostile-acct"
KEY = "hostile-key"
USER = "pm@hostile.example"

# Names a spreadsheet would run as formulas (OWASP's list of triggers).
FORMULA_NAMES: tuple[str, ...] = ("=cmd|' /C calc'!A0", "+SUM(1)", "@x", "\t=1+1", "-2+3")
NUL_NAME = "Checkout\x00flow"
RTL_NAME = "Invoice \u202egnp.exe"
# flowId -> flowName as sent: text, formulas, control characters, null, a number.
FLOW_NAMES: dict[str, Any] = {
    "flow-nul": NUL_NAME,
    "flow-rtl": RTL_NAME,
    "flow-null": None,
    "flow-number": 42,
    **{f"flow-formula-{i}": name for i, name in enumerate(FORMULA_NAMES)},
}
CSV_COLUMNS = ("rank", "flowId", "flowName", "views", "completions", "completionRate",
               "avgTimeToComplete")


def _flows() -> list[dict[str, Any]]:
    rows = []
    for position, (flow_id, name) in enumerate(FLOW_NAMES.items()):
        views = 100 + 10 * position
        completions = 50 + position
        rows.append({"flowId": flow_id, "flowName": name, "views": views,
                     "completions": completions,
                     "completionRate": round(100 * completions / views, 1),
                     "avgTimeToComplete": 30.0 + position})
    return rows


def _content() -> list[dict[str, Any]]:
    return [{"contentId": flow_id, "name": name, "type": "Flow", "status": "Published",
             "targetUrl": "https://app.example/\x00", "createdAt": "2026-01-05T10:00:00Z",
             "modifiedAt": "2026-11-10T10:00:00Z", "viewCount": 100}
            for flow_id, name in FLOW_NAMES.items()]


def _users() -> list[dict[str, Any]]:
    names = [NUL_NAME, RTL_NAME, None, "=HYPERLINK(\"http://x\")"]
    return [{"userId": f"u-{i}", "email": f"u{i}@hostile.example", "name": names[i % len(names)],
             "createdAt": "2026-01-01T00:00:00Z", "lastSeenAt": "2026-11-20T00:00:00Z",
             "attributes": {"role": "=1+1" if i % 2 else "Admin"}} for i in range(12)]


def _engagement() -> list[dict[str, Any]]:
    return [{"userId": f"u-{i}", "email": f"u{i}@hostile.example", "contentViewed": 3 + i,
             "flowsCompleted": i % 3, "lastActive": "2026-11-20T00:00:00Z"} for i in range(12)]


def _tasks() -> list[dict[str, Any]]:
    return [{"userId": f"u-{i}", "userEmail": f"u{i}@hostile.example", "taskListId": "tl-1",
             "taskListName": RTL_NAME if i % 2 else None, "completedTasks": i % 4,
             "totalTasks": 4, "completionRate": 25.0 * (i % 4),
             "lastActivityAt": "2026-11-20T00:00:00Z"} for i in range(12)]


def _segments() -> list[dict[str, Any]]:
    return [{"segmentId": "seg-1", "name": NUL_NAME, "description": "\u202ex", "userCount": 12,
             "rules": []},
            {"segmentId": "seg-2", "name": None, "description": None, "userCount": 0,
             "rules": []}]


def _self_help() -> list[dict[str, Any]]:
    return [{"contentId": flow_id, "contentName": name, "contentType": "Article", "views": 5}
            for flow_id, name in FLOW_NAMES.items()]


PAGED: dict[str, Any] = {"/segments": _segments, "/end-users": _users, "/content": _content,
                         "/analytics/end-users": _engagement,
                         "/analytics/task-completion": _tasks}
LISTED: dict[str, Any] = {"/analytics/flows": _flows, "/analytics/self-help": _self_help}
POPULAR = "/reports/summary/mostPopularFlows"


def popular_csv() -> bytes:
    """The report as this server sends it for format=csv: formula cells included."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for rank, row in enumerate(_flows(), start=1):
        writer.writerow([rank, *("" if row.get(c) is None else row.get(c)
                                 for c in CSV_COLUMNS[1:])])
    return out.getvalue().encode("utf-8")


@dataclass
class HostileApi:
    """The running server: ``base_url``, request ``counts`` per path, ``kill()`` / ``stop()``."""

    server: ThreadingHTTPServer
    thread: threading.Thread
    die_after: int | None = None
    served: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    dead: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def kill(self) -> None:
        """From now on every request is dropped without an answer."""
        self.dead = True

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def env(self) -> dict[str, str]:
        """WHATFIX_* variables that point the app or the CLI at this server (fast retries)."""
        return {"WHATFIX_BASE_URL": self.base_url, "WHATFIX_ACCOUNT_ID": ACCOUNT,
                "WHATFIX_INTEGRATION_KEY": KEY, "WHATFIX_USER": USER,
                "WHATFIX_CACHE": "memory", "WHATFIX_RETRIES": "1", "WHATFIX_BACKOFF_S": "0.01",
                "WHATFIX_TODAY": "2026-11-27"}


def _handler(api: HostileApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            with api.lock:
                api.served += 1
                if api.die_after is not None and api.served > api.die_after:
                    api.dead = True
                dead = api.dead
            if dead:  # no status line at all: the client sees a dropped connection
                self.close_connection = True
                self.connection.shutdown(2)
                return
            prefix = f"/{ACCOUNT}"
            if not url.path.startswith(prefix + "/"):
                return self._send(404, {"error": "unknown account"})
            if self.headers.get("x-whatfix-integration-key") != KEY or \
                    self.headers.get("x-whatfix-user") != USER:
                return self._send(401, {"error": "unauthorized"})
            path = url.path[len(prefix):]
            with api.lock:
                api.counts[path] = api.counts.get(path, 0) + 1
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            if path in PAGED:
                return self._page(PAGED[path](), query)
            if path in LISTED:
                return self._send(200, {"data": LISTED[path]()})
            if path == POPULAR:
                if query.get("format") == "csv":
                    return self._raw(200, popular_csv(), "text/csv; charset=utf-8")
                return self._send(200, {"data": _flows()})
            return self._send(404, {"error": "unknown path"})

        def _page(self, rows: list[dict[str, Any]], query: dict[str, str]) -> None:
            page = max(1, int(query.get("page", 1)))
            size = max(1, int(query.get("pageSize", 100)))
            chunk = rows[(page - 1) * size: page * size]
            self._send(200, {"data": chunk, "pagination": {"page": page, "pageSize": size,
                                                           "totalCount": len(rows)}})

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            self._raw(status, json.dumps(payload).encode(), "application/json")

        def _raw(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def start_hostile_api(die_after: int | None = None) -> HostileApi:
    """Start the server on a free loopback port, in a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    api = HostileApi(server, threading.Thread(target=server.serve_forever, daemon=True),
                     die_after=die_after)
    server.RequestHandlerClass = _handler(api)
    api.thread.start()
    return api
