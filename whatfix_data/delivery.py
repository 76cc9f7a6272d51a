"""Delivery of alerts and reports: e-mail through SMTP and JSON to a webhook.

SMTP settings come from the configuration (``smtp_host``, ``smtp_port``, ``smtp_security`` =
starttls / tls / none, ``smtp_user``, ``smtp_password``, ``smtp_from``). The password is only
ever passed to ``SMTP.login``: no message, log line or file contains it, and the webhook URL
(Slack-style URLs are credentials) is shown by its host only. Every failure is a
:class:`DeliveryError` with one clear line; callers decide what to retry.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import urlsplit

import requests

from whatfix_data.config import Settings
from whatfix_data.errors import WhatfixError

MAX_RECIPIENTS = 50
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024  # what common mail servers accept
SMTP_TIMEOUT_S = 30.0
OK_STATUS = range(200, 300)


class DeliveryError(WhatfixError):
    """An e-mail or webhook could not be delivered (message safe to show, without secrets)."""

    default_message = "The alert or report could not be delivered."


@dataclass(frozen=True)
class Attachment:
    """A file attached to an e-mail."""

    filename: str
    data: bytes
    mime_type: str = "application/octet-stream"


def parse_recipients(text: str | Iterable[str] | None) -> list[str]:
    """``a@x.com,b@y.com`` (or a list) -> addresses; DeliveryError for anything not an address."""
    if text is None:
        return []
    parts = text.split(",") if isinstance(text, str) else list(text)
    addresses = [p.strip() for p in parts if p and p.strip()]
    for address in addresses:
        local, _, domain = address.rpartition("@")
        if not local or "." not in domain or any(c.isspace() or c in "<>,;" for c in address):
            raise DeliveryError(f"{address[:80]!r} is not an e-mail address (expected "
                                "name@example.com; separate several with commas).")
    if len(addresses) > MAX_RECIPIENTS:
        raise DeliveryError(f"At most {MAX_RECIPIENTS} recipients at a time.")
    return addresses


def _server(settings: Settings) -> str:
    return f"{settings.smtp_host}:{settings.smtp_port}"


def build_message(settings: Settings, recipients: Sequence[str], subject: str, body: str,
                  attachments: Sequence[Attachment] = ()) -> EmailMessage:
    """The e-mail: plain-text body and attachments, From = smtp_from (else smtp_user)."""
    sender = settings.smtp_from or settings.smtp_user
    if not sender:
        raise DeliveryError("Set WHATFIX_SMTP_FROM (or WHATFIX_SMTP_USER) to the sender address "
                            "of e-mails.")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(body)
    for item in attachments:
        if len(item.data) > MAX_ATTACHMENT_BYTES:
            raise DeliveryError(f"{item.filename} is {len(item.data) / 2**20:.0f} MiB: larger "
                                "than mail servers accept; send a PDF or a smaller range.")
        main, _, sub = item.mime_type.partition("/")
        message.add_attachment(item.data, maintype=main, subtype=sub or "octet-stream",
                               filename=item.filename)
    return message


def _connect(settings: Settings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if settings.smtp_security == "tls":
        return smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S,
                                context=context)
    server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S)
    if settings.smtp_security == "starttls":
        server.starttls(context=context)
    return server


def send_email(settings: Settings, recipients: Sequence[str], subject: str, body: str,
               attachments: Sequence[Attachment] = ()) -> None:
    """Send one e-mail through the configured SMTP server; DeliveryError on any failure."""
    if not settings.smtp_host:
        raise DeliveryError("No SMTP server configured: set WHATFIX_SMTP_HOST (and "
                            "WHATFIX_SMTP_PORT, WHATFIX_SMTP_USER, WHATFIX_SMTP_PASSWORD).")
    if not recipients:
        raise DeliveryError("No recipient: pass --email name@example.com.")
    message = build_message(settings, recipients, subject, body, attachments)
    where = _server(settings)
    try:
        with _connect(settings) as server:
            if settings.smtp_user:
                server.login(settings.smtp_user, settings.smtp_password)
            refused = server.send_message(message)
    except smtplib.SMTPAuthenticationError:
        raise DeliveryError(f"The SMTP server {where} refused the login of "
                            f"{settings.smtp_user!r}: check WHATFIX_SMTP_USER and "
                            "WHATFIX_SMTP_PASSWORD.") from None
    except smtplib.SMTPNotSupportedError:
        raise DeliveryError(f"The SMTP server {where} does not support "
                            f"{settings.smtp_security.upper()} or login as configured: check "
                            "WHATFIX_SMTP_SECURITY.") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"The SMTP server {where} refused every recipient "
                            f"({', '.join(exc.recipients)[:200]}).") from None
    except ssl.SSLError as exc:
        reason = exc.reason or "SSL error"
        raise DeliveryError(f"TLS with the SMTP server {where} failed ({reason}): check "
                            "WHATFIX_SMTP_SECURITY and WHATFIX_SMTP_PORT.") from None
    except TimeoutError:
        raise DeliveryError(f"The SMTP server {where} did not answer within "
                            f"{SMTP_TIMEOUT_S:.0f} s.") from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"The SMTP server {where} rejected the e-mail "
                            f"({type(exc).__name__}).") from None
    except OSError as exc:
        raise DeliveryError(f"The SMTP server {where} could not be reached "
                            f"({exc.strerror or type(exc).__name__}): check "
                            "WHATFIX_SMTP_HOST and WHATFIX_SMTP_PORT.") from None
    if refused:
        raise DeliveryError(f"The SMTP server {where} refused {', '.join(refused)[:200]}.")


def webhook_host(url: str) -> str:
    """The host of a webhook URL: all that messages show of it (its path may be a secret)."""
    return urlsplit(url).hostname or "the webhook"


def post_webhook(url: str, payload: Any, timeout_s: float) -> None:
    """POST the payload as JSON; DeliveryError on a timeout, a refused connection or non-2xx."""
    if not url.startswith(("http://", "https://")):
        raise DeliveryError("The webhook URL must start with http:// or https://.")
    host = webhook_host(url)
    try:
        response = requests.post(url, json=payload, timeout=timeout_s,
                                 headers={"User-Agent": "whatfix-dashboard-alerts"})
    except requests.Timeout:
        raise DeliveryError(f"The webhook at {host} did not answer within {timeout_s:g} s.") \
            from None
    except requests.RequestException as exc:
        raise DeliveryError(f"The webhook at {host} could not be reached "
                            f"({type(exc).__name__}).") from None
    if response.status_code not in OK_STATUS:
        raise DeliveryError(f"The webhook at {host} answered HTTP {response.status_code}.")
