"""Fixtures for notify tests: a real SMTP server on loopback, fast retries for the notify actors."""

import email
import email.policy
import threading

import pytest
from aiosmtpd.controller import Controller

from tests.processes import free_port


class Mailbox:
    """Collects every message the SMTP server accepts (parsed), with its envelope recipients."""

    def __init__(self):
        self.messages, self.lock, self.refuse = [], threading.Lock(), 0

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refuse:
                self.refuse -= 1
                return "451 Try again later"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    """A real SMTP server (aiosmtpd) on 127.0.0.1; Django's SMTP backend sends to it."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "News Tunneler <digests@example.com>"
    settings.PUBLIC_URL = "https://tunneler.example.com"
    yield mailbox
    controller.stop()


@pytest.fixture
def fast_notify_retries(broker, monkeypatch):
    """The notify actors retry up to an hour apart; here, milliseconds apart (same count of retries)."""
    for name in ("send_digest_to", "send_slack_alert", "deliver_webhook"):
        options = broker.get_actor(name).options
        monkeypatch.setitem(options, "min_backoff", 5)
        monkeypatch.setitem(options, "max_backoff", 20)
