"""The reminder e-mail over SMTP (``smtplib``), sent at most once per idempotency key.

Why at most once: the journal records the e-mail as pending before it is handed to the server.
If the process dies after the server accepted the message but before the journal says ``done``,
nobody knows whether the debtor got it. Resending could remind a debtor twice for one step, which
docs/domain.md forbids, so a resumed pending e-mail is **not** resent: it is marked for a person to check
(see :mod:`connector.actions.dispatch`). The Message-ID carries the idempotency key, so the check is a
search for that id in the sent mail or the server log.

Errors are split by what they tell about delivery:

* the server refused before accepting the message (connect, TLS, login, sender or all recipients
  refused, an error reply to DATA): **not sent**, :class:`MailNotSent` (transient; retried next run);
* the connection broke while the message was being transferred or acknowledged: **unknown**,
  :class:`DeliveryUncertain` (never retried automatically).

The SMTP password comes from ``ARCONNECT_SMTP_PASSWORD`` or the secret store (key
``smtp-password:<connection>``) and is never logged.
"""

from __future__ import annotations

import hashlib
import os
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from connector.config import MailConfig
from connector.errors import ArconnectError, PermanentError, TransientError
from rules.letters import RenderedLetter

PASSWORD_ENV = "ARCONNECT_SMTP_PASSWORD"


class MailNotSent(TransientError):
    """The SMTP server did not accept the message: it was not sent, trying again is safe."""


class DeliveryUncertain(PermanentError):
    """The message may or may not have been accepted: a person must check before resending."""


def password_key(connection: str) -> str:
    return f"smtp-password:{connection}"


def message_id(idempotency_key: str, sender: str) -> str:
    """``<digest.arconnect@domain>``: stable for a key, so a resend would be recognisable."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    domain = sender.rpartition("@")[2] or "arconnect.invalid"
    return f"<{digest}.arconnect@{domain}>"


def build_message(
    letter: RenderedLetter,
    *,
    sender: str,
    sender_name: str | None,
    to: list[str],
    idempotency_key: str,
    sent_at: datetime | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = letter.subject
    message["From"] = formataddr((sender_name, sender)) if sender_name else sender
    message["To"] = ", ".join(to)
    message["Message-ID"] = message_id(idempotency_key, sender)
    message["Date"] = format_datetime(sent_at or datetime.now(UTC))
    message["X-Arconnect-Key"] = idempotency_key
    message.set_content(letter.text)
    message.add_alternative(letter.html, subtype="html")
    return message


class SmtpSender:
    """Sends one message per call over a fresh SMTP connection (runs are small; no pooling)."""

    def __init__(self, settings: MailConfig, password: str | None = None, *, timeout: float = 30.0) -> None:
        self.settings = settings
        self._password = password
        self.timeout = timeout
        self.sent = 0

    def __repr__(self) -> str:  # never show the password
        return f"SmtpSender({self.settings.host}:{self.settings.port}, sender={self.settings.sender})"

    def send(self, message: EmailMessage) -> None:
        s = self.settings
        where = f"{s.host}:{s.port}"
        try:
            client = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailNotSent(f"SMTP server {where} not reachable: {type(exc).__name__}") from None
        try:
            try:
                client.ehlo()
                if s.starttls:
                    client.starttls(context=ssl.create_default_context())
                    client.ehlo()
                if s.username:
                    if not self._password:
                        raise MailNotSent(f"SMTP server {where} needs a password: set {PASSWORD_ENV} or store it in the secret store")
                    client.login(s.username, self._password)
            except smtplib.SMTPAuthenticationError:
                raise MailNotSent(f"SMTP server {where} refused the login of {s.username}") from None
            except (OSError, smtplib.SMTPException) as exc:
                raise MailNotSent(f"SMTP server {where}: {type(exc).__name__} before sending") from None
            try:
                refused = client.send_message(message)
            except smtplib.SMTPRecipientsRefused:
                raise MailNotSent(f"SMTP server {where} refused every recipient") from None
            except smtplib.SMTPSenderRefused:
                raise MailNotSent(f"SMTP server {where} refused the sender {s.sender}") from None
            except smtplib.SMTPDataError as exc:
                raise MailNotSent(f"SMTP server {where} refused the message ({exc.smtp_code})") from None
            except (OSError, smtplib.SMTPException) as exc:
                raise DeliveryUncertain(
                    f"connection to {where} broke while sending ({type(exc).__name__}); check whether it arrived"
                ) from None
            if refused:
                # Accepted for some recipients: it was sent; the rest is reported, never resent.
                raise DeliveryUncertain(f"sent, but {len(refused)} recipient(s) refused: {', '.join(sorted(refused))}")
            self.sent += 1
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()


def smtp_password(connection: str) -> str | None:
    """The SMTP password from the environment or the secret store (never from config.yaml)."""
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    from connector.auth import open_secret_store

    try:
        return open_secret_store().get(password_key(connection))
    except ArconnectError:  # a missing keyring only matters when the server asks for a login
        return None
