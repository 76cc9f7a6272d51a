"""The sidebar's "Connect an account" form (ui.session) through AppTest, abused as a visitor would.

The operator's credentials (WHATFIX_* of the app process) must never leave for a URL the visitor
typed; a key is accepted only with its own user; a dead base URL fails within seconds inside the
form; the operator can turn the form off. A small loopback listener stands in for a visitor's
server and counts what reaches it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ui.session import CHECK_DEADLINE_S, K_CONNECTION, ConnectRefused, check_connection
from whatfix_data.config import Settings

pytestmark = pytest.mark.slow

SUBMIT = "FormSubmitter:wf_connect_form-Connect"
FIELDS = ("wf_base_url", "wf_account_id", "wf_user", "wf_integration_key")
# The check's own deadline, plus the rerun of a page whose data is already cached.
FAILURE_BOUND_S = CHECK_DEADLINE_S + 5.0


class Listener:
    """A loopback HTTP server that records the auth headers of every request and answers 401."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        recorder = self.seen

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.append({name.lower(): value for name, value in self.headers.items()})
                body = b'{"error": "unauthorized"}'
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def carrying(self, key: str) -> int:
        """How many requests carried `key` in the integration-key header."""
        return sum(1 for headers in self.seen if headers.get("x-whatfix-integration-key") == key)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture()
def listener() -> Iterator[Listener]:
    server = Listener()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def silent_url() -> Iterator[str]:
    """A port that accepts TCP connections (kernel backlog) and never answers a byte."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/api/v1"


@pytest.fixture()
def trickling_url() -> Iterator[str]:
    """A server that answers one header byte per second, forever: no socket read ever times out."""
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            while not stop.wait(1.0):
                self.wfile.write(b"X")
                self.wfile.flush()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def closed_url() -> str:
    """A loopback port nobody listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v1"


def plain(text: str) -> str:
    """Markdown as the reader sees it: escapes and bold markers removed."""
    return text.replace("\\", "").replace("**", "")


def form_error(at) -> str:
    """The text of the error boxes in the sidebar (where the form is)."""
    return " ".join(plain(box.value) for box in at.sidebar.error)


def captions(at) -> str:
    return " ".join(plain(c.value) for c in at.sidebar.caption)


def submit(at, base_url: str, account_id: str, user: str, key: str) -> float:
    """Type the four fields and press Connect; returns the seconds the run took."""
    for name, value in zip(FIELDS, (base_url, account_id, user, key), strict=True):
        at.text_input(key=name).input(value)
    started = time.perf_counter()
    at.button(key=SUBMIT).click().run()
    return time.perf_counter() - started


def assert_still_on(at, account_id: str) -> None:
    """The session reads the account it had, the form says nothing of a connection."""
    assert not at.exception, [e.message for e in at.exception]
    assert K_CONNECTION not in at.session_state
    assert f"reads the dashboard's account {account_id}" in captions(at)
    assert "Connected" not in captions(at)
    assert not at.button(key=SUBMIT).disabled  # the form is still there to try again
    assert "WHATFIX_" not in form_error(at), "the form's words, not the operator's variable names"


def test_an_empty_key_never_sends_the_operators_key_to_a_typed_url(
    app_env, demo_account, listener, open_page
):
    at = open_page()
    submit(at, listener.url, "visitor-account", "visitor@example.com", "")
    assert listener.carrying(demo_account.integration_key) == 0
    assert listener.seen == [], "a refused form sends nothing at all"
    message = form_error(at)
    assert "Integration key is required" in message
    assert "may only connect to" in message and "API base URL" in message
    assert_still_on(at, demo_account.account_id)


def test_an_allowed_url_with_an_empty_key_says_the_key_is_required(
    app_env, monkeypatch, sim_server, demo_account, listener, open_page
):
    monkeypatch.setenv("WHATFIX_CONNECT_BASE_URLS", f"{sim_server.base_url},{listener.url}")
    at = open_page()
    submit(at, listener.url, "visitor-account", "visitor@example.com", "")
    assert listener.seen == []
    message = form_error(at)
    assert "Integration key is required" in message
    assert "may only connect to" not in message
    assert_still_on(at, demo_account.account_id)


def test_an_allowed_url_receives_only_the_typed_credentials(
    app_env, monkeypatch, sim_server, demo_account, listener, open_page
):
    monkeypatch.setenv("WHATFIX_CONNECT_BASE_URLS", f"{sim_server.base_url},{listener.url}")
    at = open_page()
    submit(at, listener.url, "visitor-account", "visitor@example.com", "visitor-key")
    assert len(listener.seen) == 1, "one check request, no retries"
    headers = listener.seen[0]
    assert headers["x-whatfix-integration-key"] == "visitor-key"
    assert headers["x-whatfix-user"] == "visitor@example.com"
    assert listener.carrying(demo_account.integration_key) == 0
    assert "401" in form_error(at)
    assert_still_on(at, demo_account.account_id)


def test_an_empty_form_names_the_missing_fields(app_env, demo_account, open_page):
    at = open_page()
    at.button(key=SUBMIT).click().run()  # only the base URL is prefilled
    message = form_error(at)
    assert "Account ID, Whatfix user (email) and Integration key are required" in message
    assert_still_on(at, demo_account.account_id)


def test_the_right_key_with_a_wrong_user_is_refused_although_its_client_exists(
    app_env, sim_server, demo_account, open_page
):
    at = open_page()  # the operator's client for this key is now built and verified
    submit(at, sim_server.base_url, demo_account.account_id, "intruder@example.com",
           demo_account.integration_key)
    assert "401" in form_error(at)
    assert_still_on(at, demo_account.account_id)


def test_a_wrong_user_is_refused_after_the_same_key_connected_with_its_own(
    app_env, sim_server, demo_account, open_page
):
    other = sim_server.accounts[1]
    at = open_page()
    submit(at, sim_server.base_url, other.account_id, other.user_email, other.integration_key)
    assert f"Connected to account {other.account_id}" in captions(at)
    at.button(key="wf_disconnect").click().run()
    submit(at, sim_server.base_url, other.account_id, demo_account.user_email,
           other.integration_key)
    assert "401" in form_error(at)
    assert_still_on(at, demo_account.account_id)


@pytest.mark.parametrize("dead", ["closed", "silent"])
def test_an_unreachable_base_url_fails_within_seconds_inside_the_form(
    dead, app_env, monkeypatch, sim_server, demo_account, silent_url, open_page
):
    url = closed_url() if dead == "closed" else silent_url
    monkeypatch.setenv("WHATFIX_CONNECT_BASE_URLS", f"{sim_server.base_url},{url}")
    at = open_page()
    elapsed = submit(at, url, demo_account.account_id, demo_account.user_email, "any-key")
    assert elapsed < FAILURE_BOUND_S, f"{elapsed:.1f} s"
    assert "no usable answer" in form_error(at)
    assert len(at.sidebar.error) == 1, "one message, in the form"
    assert_still_on(at, demo_account.account_id)


def test_the_operator_can_turn_the_form_off(app_env, monkeypatch, open_page):
    monkeypatch.setenv("WHATFIX_CONNECT_FORM", "false")
    at = open_page()
    assert not at.exception
    assert not [e for e in at.sidebar.expander if e.label == "Connect an account"]
    assert not [t for t in at.text_input if t.key in FIELDS]


def test_the_check_has_a_deadline_even_when_every_read_gets_a_byte(trickling_url):
    candidate = Settings(base_url=trickling_url, account_id="acct", integration_key="key",
                         user="u@example.com", cache="memory")
    started = time.perf_counter()
    with pytest.raises(ConnectRefused, match="no usable answer within"):
        check_connection(candidate)
    assert time.perf_counter() - started < CHECK_DEADLINE_S + 1.0
