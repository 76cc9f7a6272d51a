"""HTTP transport of the built-in server: a threaded stdlib server, faults, scenarios, controls.

`start_background(config)` returns a running `SimServer` (daemon thread, free port on 127.0.0.1).
Every response is JSON (CSV for the mostPopularFlows report); no traceback ever leaves the server.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import ctypes.util
import io
import json
import logging
import socket
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from whatfix_data.simulator import scenarios
from whatfix_data.simulator.api import (
    API_PREFIX,
    ROUTES,
    ApiError,
    ApiRequest,
    ApiResponse,
    ApiService,
    error_payload,
)
from whatfix_data.simulator.config import DemoAccount, SimulatorConfig, account_profiles
from whatfix_data.simulator.control import (
    FAULT_STATUS,
    RETRY_AFTER_S,
    SCENARIOS,
    SimControl,
)
from whatfix_data.simulator.model import AccountData

LOG = logging.getLogger(__name__)
JSON_TYPE = "application/json"
CSV_TYPE = "text/csv; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
CONTROL_PREFIX = "/__sim__/"
MAX_BODY_BYTES = 1_000_000
IDLE_TIMEOUT_S = 30  # a keep-alive connection with no request for this long is closed
REQUEST_QUEUE = 128
NEVER_ANSWERS_MAX_S = 600  # `never_answers` holds a request this long at most (or until stop)
CSV_COLUMNS = ("rank", "flowId", "flowName", "views", "completions", "completionRate",
               "avgTimeToComplete")


def render_csv(rows: list[dict[str, Any]]) -> bytes:
    """The mostPopularFlows report as CSV: a header row, then one row per flow in rank order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for rank, row in enumerate(rows, start=1):
        writer.writerow([rank, *(row.get(c, "") for c in CSV_COLUMNS[1:])])
    return out.getvalue().encode("utf-8")


def release_free_memory() -> None:
    """Hand the generation's freed temporaries back to the OS (glibc keeps them otherwise).

    Without this the resident size after generating 200,000 users stays ~3x the data it holds.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


def _sleep_until(moment: float) -> None:
    """Sleep until `moment` (time.monotonic()); at once when it has passed."""
    if (left := moment - time.monotonic()) > 0:
        time.sleep(left)


def _json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class SimState:
    """What every request thread shares: the service, the control state and the settings."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.accounts: list[DemoAccount] = config.resolved_accounts()
        data = {p.account.account_id: AccountData(p, config.today)
                for p in account_profiles(config)}
        self.data = data
        release_free_memory()
        self.control = SimControl(fault_rate=config.fault_rate, seed=config.seed,
                                  rate_limit=config.rate_limit)
        self.service = ApiService(self.accounts, data, self.control, config.today)


class _Handler(BaseHTTPRequestHandler):
    """One connection; keep-alive (HTTP/1.1); all methods go through `_dispatch`."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms delayed-ACK stall)
    server_version = "WhatfixSimulator/1.0"
    sys_version = ""
    timeout = IDLE_TIMEOUT_S
    state: SimState  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: request logs would flood the CLI and the test output."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None
                   ) -> None:
        """Protocol errors (bad request line, headers too long...) as JSON, then close."""
        self.close_connection = True
        text = message or self.responses.get(code, ("Error",))[0]
        self._send(code, _json_bytes(error_payload(code, text)), JSON_TYPE, {})

    def do_GET(self) -> None:
        """GET."""
        self._dispatch()

    def __getattr__(self, name: str) -> Any:
        """Every other method (PUT, TRACE, FOO...) is routed too: 405/404 JSON, never a 501."""
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    # ----- plumbing ----------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str],
              cut: int | None = None) -> None:
        """Write a response; `cut` sends only that many body bytes, then drops the connection."""
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            # HTTP/0.9 replies have no status line; answer such (malformed) requests in HTTP/1.0
            self.request_version = "HTTP/1.0"
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        if cut is None:
            self.wfile.write(body)
            return
        self.wfile.write(body[:cut])
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise ApiError(400, "Chunked request bodies are not supported; send Content-Length")
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        if not raw.strip().isdigit():
            self.close_connection = True
            raise ApiError(400, "Content-Length must be a non-negative integer")
        length = int(raw)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise ApiError(413, f"Request body too large (max {MAX_BODY_BYTES} bytes)")
        return self.rfile.read(length)

    def _dispatch(self) -> None:
        try:
            url = urlsplit(self.path)
            body = self._read_body()
            if url.path.startswith(CONTROL_PREFIX):
                self._control(url.path, body)
            elif url.path.startswith(API_PREFIX) or url.path.rstrip("/") == API_PREFIX[:-1]:
                self._api(ApiRequest(self.command, url.path, url.query, self.headers, body))
            else:
                raise ApiError(404, f"No such endpoint: {url.path[:200]}; the API is under "
                                    f"{API_PREFIX}{{accountId}}/")
        except ApiError as exc:
            self._send(exc.status, _json_bytes(error_payload(exc.status, exc.message)),
                       JSON_TYPE, exc.headers)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:  # never a traceback to the client; one line in the server log
            LOG.exception("built-in server: internal error on %s %s", self.command, self.path)
            self.close_connection = True
            self._send(500, _json_bytes(error_payload(500, "Internal server error")),
                       JSON_TYPE, {})

    # ----- /api/v1 -----------------------------------------------------------------------------
    def _api(self, request: ApiRequest) -> None:
        with self.state.control.in_flight():
            self._api_in_flight(request)

    def _api_in_flight(self, request: ApiRequest) -> None:
        state = self.state
        # The latency is the time to answer, its handling included (as a real API's is): the
        # answer leaves `latency_ms` after the request came in, whatever the page cost to build.
        answer_at = time.monotonic() + state.config.latency_ms / 1000.0
        operation, account = self._scope(request)
        retry_after = state.control.limiter.admit(account)
        if retry_after:
            self._rate_limited(operation, retry_after)
            return
        fault = state.control.draw_fault()
        if fault == "dropped" and request.method != "GET":
            fault = "error_502"  # a PUT is never half-applied: it fails before it is handled
        if fault in FAULT_STATUS:
            self._api_fault(request, fault, answer_at)
            return
        if fault == "slow":
            answer_at += state.control.slow_delay()
        scenario = state.control.scenario_for(operation, account)
        drift = bool(scenario and scenario.name == "total_drift" and scenario.armed)
        response = state.service.handle(request, drift=drift)
        if scenario and scenario.name == "never_answers" and (response.page or 0) != 1:
            self._never_answer(response.operation)
            return
        if scenario and scenario.name == "total_drift" and response.page == 1:
            state.control.arm(scenario)
        body, content_type = self._render(response, scenario.name if scenario else None)
        _sleep_until(answer_at)
        state.control.count(response.operation, response.status)
        cut = len(body) // 2 if fault == "dropped" else None
        self._send(response.status, body, content_type, response.headers, cut=cut)

    def _rate_limited(self, operation: str | None, retry_after: int) -> None:
        self.state.control.count(operation, 429)
        message = f"Rate limit of {self.state.config.rate_limit:g} requests per second exceeded"
        self._send(429, _json_bytes(error_payload(429, message)), JSON_TYPE,
                   {"Retry-After": str(retry_after)})

    def _never_answer(self, operation: str | None) -> None:
        """Hold the request without a byte of answer until the server stops, then hang up."""
        self.state.control.count(operation, 0)
        self.state.control.stopping.wait(NEVER_ANSWERS_MAX_S)
        self.close_connection = True

    def _scope(self, request: ApiRequest) -> tuple[str | None, str | None]:
        try:
            account, operation, _ = self.state.service.route(request.method, request.path)
        except ApiError:
            return None, None
        return operation, account

    def _api_fault(self, request: ApiRequest, fault: str, answer_at: float) -> None:
        status = FAULT_STATUS[fault]
        operation, _ = self._scope(request)
        messages = {429: "Too many requests: retry after the Retry-After delay",
                    500: "Internal server error", 502: "Bad gateway",
                    503: "Service temporarily unavailable"}
        headers = {"Retry-After": str(RETRY_AFTER_S)} if status in (429, 503) else {}
        _sleep_until(answer_at)
        self.state.control.count(operation, status)
        self._send(status, _json_bytes(error_payload(status, messages[status])), JSON_TYPE,
                   headers)

    def _render(self, response: ApiResponse, scenario: str | None) -> tuple[bytes, str]:
        ok = response.status in (200, 201)
        payload = response.payload
        if ok and scenario:
            payload = scenarios.transform_payload(scenario, payload)
        if response.fmt == "csv" and ok:
            body, content_type = render_csv(payload.get("data", [])), CSV_TYPE
        else:
            body, content_type = _json_bytes(payload), JSON_TYPE
        if ok and scenario == "non_json":
            return scenarios.HTML_BODY, HTML_TYPE
        if ok and scenario == "truncated_json":
            return scenarios.truncate(body), content_type
        return body, content_type

    # ----- /__sim__ ----------------------------------------------------------------------------
    def _control(self, path: str, body: bytes) -> None:
        control = self.state.control
        name = path[len(CONTROL_PREFIX):].strip("/")
        routes = {("GET", "stats"), ("POST", "reset"), ("POST", "scenario"), ("POST", "revoke")}
        if (self.command, name) not in routes:
            known = any(n == name for _, n in routes)
            raise ApiError(405 if known else 404, f"Unknown control endpoint {self.command} {path}")
        if name == "stats":
            result: dict[str, Any] = control.stats()
        elif name == "reset":
            control.reset()
            result = {"reset": True}
        else:
            result = self._control_update(name, _json_object(body))
        self._send(200, _json_bytes(result), JSON_TYPE, {})

    def _control_update(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        control = self.state.control
        if name == "revoke":
            key = body.get("integration_key")
            if not isinstance(key, str) or not key:
                raise ApiError(400, "integration_key (string) is required")
            control.revoke(key)
            return {"revoked": True}
        scenario = body.get("scenario")
        operation, account = body.get("operation"), body.get("account")
        if scenario is not None and scenario not in SCENARIOS:
            raise ApiError(400, f"scenario must be one of {', '.join(SCENARIOS)} or null")
        known = {"operation": {op for _, _, op in ROUTES},
                 "account": {a.account_id for a in self.state.accounts}}
        for field_name, value in (("operation", operation), ("account", account)):
            if value is not None and value not in known[field_name]:
                choices = ", ".join(sorted(known[field_name]))
                raise ApiError(400, f"{field_name} must be null or one of {choices}")
        control.set_scenario(scenario, operation, account)
        return {"scenario": scenario, "operation": operation, "account": account}


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "The request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return parsed


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = REQUEST_QUEUE


class SimServer:
    """A built-in Whatfix server bound to a port (serving once started)."""

    def __init__(self, config: SimulatorConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.state = SimState(config)
        handler = type("SimHandler", (_Handler,), {"state": self.state})
        self._httpd = _HTTPServer((host, port), handler)
        self.host = host
        self.port = int(self._httpd.server_address[1])
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        self.root_url = f"http://{shown}:{self.port}"
        self.base_url = f"{self.root_url}/api/v1"
        self._thread: threading.Thread | None = None

    @property
    def accounts(self) -> list[DemoAccount]:
        """The served accounts, primary first."""
        return list(self.state.accounts)

    @property
    def today(self) -> date:
        """The last day of the generated history."""
        return self.config.today

    def account_data(self, account_id: str) -> AccountData:
        """The in-memory data of one account (for tests that compare against the source)."""
        return self.state.data[account_id]

    def start(self) -> SimServer:
        """Serve in a daemon thread; returns at once (the socket already listens)."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="whatfix-sim",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until `stop()` or KeyboardInterrupt."""
        self._httpd.serve_forever()

    def stop(self) -> None:
        """Stop serving and close the socket (requests held by `never_answers` end too)."""
        self.state.control.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    # ----- test conveniences (same as the /__sim__ endpoints) ----------------------------------
    def stats(self) -> dict[str, Any]:
        """API requests served: total, by operationId, by status."""
        return self.state.control.stats()

    def reset(self) -> None:
        """Zero the counters, clear scenarios, restore revoked keys."""
        self.state.control.reset()

    def set_scenario(self, name: str | None, operation: str | None = None,
                     account: str | None = None) -> None:
        """Activate a response scenario (None clears all)."""
        self.state.control.set_scenario(name, operation, account)

    def revoke_key(self, key: str) -> None:
        """Make an integration key invalid (401) until reset."""
        self.state.control.revoke(key)


def start_background(config: SimulatorConfig | None = None) -> SimServer:
    """Generate the data, bind a free port on 127.0.0.1 and serve in a daemon thread."""
    return SimServer(config or SimulatorConfig()).start()
