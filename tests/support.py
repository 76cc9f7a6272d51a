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


# ------------------------------------------------------------------------------ hostile uploads

GIB = 1024 ** 3
_WORKBOOK_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
        '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
        '"xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
        'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships"><sheets><sheet name="Users" sheetId="1" r:id='
        '"rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target='
        '"worksheets/sheet1.xml"/></Relationships>'),
}
SHEET_PATH = "xl/worksheets/sheet1.xml"


def _raw_deflate(pieces: list[tuple[bytes, int]]) -> tuple[bytes, int, int]:
    """(raw deflate stream, crc32, inflated size) of each (bytes, repeat) piece in order.

    After a full flush the compressor forgets its history, so a repeated block compresses to the
    same bytes every time: 1 GiB is built from one compressed block in well under a second."""
    import zlib

    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    out, crc, size = [], 0, 0
    for piece, repeat in pieces:
        packed = compressor.compress(piece) + compressor.flush(zlib.Z_FULL_FLUSH)
        out.append(packed * repeat)
        for _ in range(repeat):
            crc = zlib.crc32(piece, crc)
        size += len(piece) * repeat
    out.append(compressor.flush())
    return b"".join(out), crc, size


def _zip_bytes(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A ZIP of (name, raw deflate data, crc32, inflated size) members."""
    import struct

    local, central = bytearray(), bytearray()
    for name, packed, crc, size in members:
        encoded = name.encode()
        offset = len(local)
        local += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(packed),
                             size, len(encoded), 0) + encoded + packed
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc,
                               len(packed), size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members),
                      len(central), len(local), 0)
    return bytes(local + central + end)


def write_zip_bomb(path, inflated_bytes: int = GIB) -> int:
    """A workbook-shaped zip whose first sheet inflates to about `inflated_bytes` of XML (rows of
    identical cells): the shape of an .xlsx, a few MB on disk. Returns its size in bytes."""
    import zlib

    members = []
    for name, text in _WORKBOOK_PARTS.items():
        data = text.encode()
        compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        members.append((name, compressor.compress(data) + compressor.flush(),
                        zlib.crc32(data), len(data)))
    block = (b'<row><c t="inlineStr"><is><t>' + b"A" * 4000 + b"</t></is></c></row>") * 256
    sheet = _raw_deflate([
        (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
         b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>', 1),
        (block, max(1, inflated_bytes // len(block))),
        (b"</sheetData></worksheet>", 1),
    ])
    members.append((SHEET_PATH, *sheet))
    path.write_bytes(_zip_bytes(members))
    return path.stat().st_size


def lie_about_size(path, member: str, declared: int) -> None:
    """Rewrite `member`'s uncompressed size (local header and central directory) as `declared`."""
    import struct

    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    offset = struct.unpack_from("<L", data, end + 16)[0]
    while data[offset:offset + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<3H", data, offset + 28)
        local = struct.unpack_from("<L", data, offset + 42)[0]
        if bytes(data[offset + 46:offset + 46 + name_len]).decode() == member:
            struct.pack_into("<L", data, offset + 24, declared)
            struct.pack_into("<L", data, local + 22, declared)
        offset += 46 + name_len + extra_len + comment_len
    path.write_bytes(bytes(data))
# ------------------------------------------------------------------------ segment scope on pages

SEGMENT_NOT_APPLIED = "All users (segment not applied: the API reports"


def pick_segment(at, index: int = 1) -> str:
    """Pick a segment in the sidebar of an AppTest run; returns its name."""
    segment = at.selectbox(key="segment")
    name = segment.options[index]
    segment.select_index(index).run()
    return name


def unescaped(text: str) -> str:
    """Markdown text as the reader sees it."""
    import re

    return re.sub(r"\\(.)", r"\1", text)


def captions(at) -> list[str]:
    """Every caption of a run, as the reader sees it."""
    return [unescaped(c.value) for c in at.caption]


def kpi_scopes(at) -> dict[str, str]:
    """KPI label -> the scope caption drawn under its card (each card has its own column)."""
    scopes = {}
    for column in at.columns:
        if len(column.metric) == 1 and len(column.caption) == 1:
            scopes[column.metric[0].label] = unescaped(column.caption[0].value)
    return scopes
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
