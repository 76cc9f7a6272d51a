"""E-mail through a real local SMTP server (aiosmtpd) and JSON to a loopback webhook receiver:
the message, its attachment, no secret anywhere; a refused login, a timeout, a 500."""

from __future__ import annotations

import time

import pytest
from support import SMTP_PASSWORD, SMTP_USER

from whatfix_data import delivery
from whatfix_data.config import collect, settings_from_values

BASE_ENV = {"WHATFIX_ACCOUNT_ID": "acme", "WHATFIX_INTEGRATION_KEY": "wf-key-123",
            "WHATFIX_USER": "pm@acme.example", "WHATFIX_CACHE": "memory"}


def _settings(**env):
    return settings_from_values(collect(None, {**BASE_ENV, **env}))


def test_email_with_attachment_reaches_the_server_without_secrets(smtp_server):
    settings = _settings(**smtp_server.env())
    pack = b"%PDF-1.7 fake pack bytes \x00\x01"
    delivery.send_email(settings, ["a@acme.example", "b@acme.example"], "Review pack",
                        "The pack is attached.",
                        [delivery.Attachment("pack.pdf", pack, "application/pdf")])
    assert [ok for _mechanism, ok in smtp_server.logins] == [True]
    (message,) = smtp_server.messages
    assert message["Subject"] == "Review pack" and message["From"] == SMTP_USER
    assert smtp_server.envelopes[0].rcpt_tos == ["a@acme.example", "b@acme.example"]
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "pack.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == pack
    assert message.get_body(("plain",)).get_content().strip() == "The pack is attached."
    raw = smtp_server.envelopes[0].content
    for secret in (SMTP_PASSWORD, "wf-key-123"):
        assert secret.encode() not in raw
    assert SMTP_PASSWORD not in repr(settings)


def test_refused_login_is_one_clear_message_without_the_password(smtp_server):
    settings = _settings(**smtp_server.env(password="wrong-password-xyz"))
    with pytest.raises(delivery.DeliveryError) as caught:
        delivery.send_email(settings, ["a@acme.example"], "s", "b")
    message = caught.value.user_message
    assert "refused the login" in message and "WHATFIX_SMTP_PASSWORD" in message
    assert "wrong-password-xyz" not in message and SMTP_PASSWORD not in message
    assert smtp_server.messages == []


def test_unreachable_smtp_server_and_missing_settings():
    from support import free_port

    settings = _settings(WHATFIX_SMTP_HOST="127.0.0.1", WHATFIX_SMTP_PORT=str(free_port()),
                         WHATFIX_SMTP_SECURITY="none", WHATFIX_SMTP_FROM="a@acme.example")
    with pytest.raises(delivery.DeliveryError, match="could not be reached"):
        delivery.send_email(settings, ["a@acme.example"], "s", "b")
    with pytest.raises(delivery.DeliveryError, match="WHATFIX_SMTP_HOST"):
        delivery.send_email(_settings(), ["a@acme.example"], "s", "b")


def test_starttls_against_a_plain_server_says_what_to_check(smtp_server):
    settings = _settings(**{**smtp_server.env(), "WHATFIX_SMTP_SECURITY": "starttls"})
    with pytest.raises(delivery.DeliveryError, match="WHATFIX_SMTP_SECURITY"):
        delivery.send_email(settings, ["a@acme.example"], "s", "b")


@pytest.mark.parametrize("text", ["nobody", "a@b", "x@y.com, <script>@z.com", "two words@x.com"])
def test_bad_recipients_are_refused(text):
    with pytest.raises(delivery.DeliveryError, match="is not an e-mail address"):
        delivery.parse_recipients(text)


def test_recipients_are_split_on_commas():
    assert delivery.parse_recipients(" a@x.com,b@y.org ,") == ["a@x.com", "b@y.org"]


def test_webhook_receives_the_json(webhook_receiver):
    receiver = webhook_receiver("ok")
    delivery.post_webhook(receiver.url, {"breaches": [1, 2]}, timeout_s=5)
    assert receiver.received == [{"breaches": [1, 2]}]


def test_webhook_500_is_a_clear_message_without_the_url_path(webhook_receiver):
    receiver = webhook_receiver("error")
    with pytest.raises(delivery.DeliveryError) as caught:
        delivery.post_webhook(receiver.url, {"x": 1}, timeout_s=5)
    assert caught.value.user_message == "The webhook at 127.0.0.1 answered HTTP 500."
    assert "secret-path" not in caught.value.user_message


def test_webhook_timeout_is_a_clear_message_within_the_timeout(webhook_receiver):
    receiver = webhook_receiver("slow", delay_s=3)
    started = time.monotonic()
    with pytest.raises(delivery.DeliveryError, match=r"did not answer within 0.5 s"):
        delivery.post_webhook(receiver.url, {"x": 1}, timeout_s=0.5)
    assert time.monotonic() - started < 2.5


def test_delivery_settings_are_validated():
    from whatfix_data.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="WHATFIX_SMTP_SECURITY"):
        _settings(WHATFIX_SMTP_SECURITY="ssl3")
    with pytest.raises(ConfigurationError, match="WHATFIX_SMTP_PORT"):
        _settings(WHATFIX_SMTP_PORT="70000")
    with pytest.raises(ConfigurationError, match="WHATFIX_ALERT_WEBHOOK"):
        _settings(WHATFIX_ALERT_WEBHOOK="ftp://x")
    hidden = _settings(WHATFIX_ALERT_WEBHOOK="https://hooks.example/T0/secret")
    assert "secret" not in repr(hidden)
