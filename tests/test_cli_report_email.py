"""`python -m whatfix_data report ... --email`: the pack arrives as an attachment at a real
local SMTP server, with nothing secret in the message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support import FIXED_TODAY, SMTP_PASSWORD

REPO = Path(__file__).resolve().parents[1]
CLI_TIMEOUT_S = 300


def _run(sim_server, account, tmp_path, *args, extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHATFIX_")}
    env.update(PYTHONPATH=str(REPO), WHATFIX_BASE_URL=sim_server.base_url,
               WHATFIX_ACCOUNT_ID=account.account_id,
               WHATFIX_INTEGRATION_KEY=account.integration_key, WHATFIX_USER=account.user_email,
               WHATFIX_CACHE="memory", WHATFIX_TODAY=FIXED_TODAY.isoformat(), **(extra_env or {}))
    return subprocess.run([sys.executable, "-m", "whatfix_data", "report", *args], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT_S)


def test_report_is_emailed_as_an_attachment(sim_server, demo_account, tmp_path, smtp_server):
    out = tmp_path / "pack.pdf"
    result = _run(sim_server, demo_account, tmp_path, "--start", "2026-11-01", "--end",
                  "2026-11-26", "--compare", "none", "--out", str(out), "--quiet",
                  "--email", "pm@acme.example,lead@acme.example", extra_env=smtp_server.env())
    assert result.returncode == 0, result.stderr
    assert "E-mailed pack.pdf to pm@acme.example, lead@acme.example." in result.stderr
    (message,) = smtp_server.messages
    assert message["Subject"] == "Whatfix review pack: acme-demo, 1 Nov – 26 Nov 2026"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "pack.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == out.read_bytes()
    raw = smtp_server.envelopes[0].content
    assert SMTP_PASSWORD.encode() not in raw and demo_account.integration_key.encode() not in raw
    assert SMTP_PASSWORD not in result.stderr + result.stdout


def test_bad_address_fails_before_the_build(sim_server, demo_account, tmp_path):
    result = _run(sim_server, demo_account, tmp_path, "--start", "2026-11-01", "--end",
                  "2026-11-26", "--email", "nobody")
    assert result.returncode == 1 and "is not an e-mail address" in result.stderr
    assert "Traceback" not in result.stderr and not list(tmp_path.glob("*.pptx"))
