"""Plain helpers shared by test modules (import these, never `conftest`: tests/ and tests/e2e/
each have a conftest.py, so `from conftest import ...` picks whichever was imported first)."""

from __future__ import annotations

from datetime import date

# A fixed "today" keeps every number in the suite reproducible.
FIXED_TODAY = date(2026, 11, 27)
SEED = 7


def sim_headers(account) -> dict[str, str]:
    """The two auth headers of a demo account."""
    return {"x-whatfix-integration-key": account.integration_key,
            "x-whatfix-user": account.user_email}


# ----- delivery test servers (test_delivery.py, test_cli_alerts.py, test_cli_report.py) -------

SMTP_USER = "alerts@acme.example"
SMTP_PASSWORD = "s3cret-smtp-pa55word"  # must never appear in a message, a log or a file


def free_port() -> int:
    """A free loopback TCP port."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalSmtpServer:
    """A real SMTP server (aiosmtpd) on loopback: AUTH LOGIN/PLAIN without TLS, accepting only
    SMTP_USER / SMTP_PASSWORD; every accepted message is kept in `messages` (email.message)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list = []
        self.envelopes: list = []
        self.port = free_port()
        self.logins: list[tuple[str, bool]] = []
        self.controller = Controller(
            self, hostname="127.0.0.1", port=self.port, authenticator=self._authenticate,
            auth_require_tls=False, auth_required=True,  # loopback only: no TLS needed
        )

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_USER.encode()
              and auth_data.password == SMTP_PASSWORD.encode())
        self.logins.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def __enter__(self) -> LocalSmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def env(self, password: str = SMTP_PASSWORD) -> dict[str, str]:
        """WHATFIX_SMTP_* variables pointing at this server."""
        return {"WHATFIX_SMTP_HOST": "127.0.0.1", "WHATFIX_SMTP_PORT": str(self.port),
                "WHATFIX_SMTP_SECURITY": "none", "WHATFIX_SMTP_USER": SMTP_USER,
                "WHATFIX_SMTP_PASSWORD": password, "WHATFIX_SMTP_FROM": SMTP_USER}


class WebhookReceiver:
    """An http.server on loopback that records JSON POSTs. `mode`: "ok" (204), "error" (500)
    or "slow" (answers after `delay_s`, longer than the client's timeout)."""

    def __init__(self, mode: str = "ok", delay_s: float = 3.0) -> None:
        import http.server
        import threading

        self.mode, self.delay_s = mode, delay_s
        self.received: list = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                import json
                import time

                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.received.append(json.loads(body or b"null"))
                if receiver.mode == "slow":
                    time.sleep(receiver.delay_s)
                status = 500 if receiver.mode == "error" else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):  # quiet
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T0-secret-path"

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
