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
``smtp-password:<connection>``) and is never logged, and never sent in the clear: a login needs
STARTTLS (``mail.starttls``, port 587) or implicit TLS (``mail.implicit_tls``, port 465), with the
server's certificate checked (``mail.ca_file`` adds a private CA).

Addresses come from the package and are hostile: :func:`checked_address` lets only a plain
``local@domain`` through, so a CR/LF can never add a header or a recipient.
"""

from __future__ import annotations

import hashlib
import os
import re
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from connector.config import MailConfig
from connector.errors import ArconnectError, PermanentError, TransientError
from connector.escaping import header_text
from rules.letters import RenderedLetter

PASSWORD_ENV = "ARCONNECT_SMTP_PASSWORD"


class MailNotSent(TransientError):
    """The SMTP server did not accept the message: it was not sent, trying again is safe."""


class DeliveryUncertain(PermanentError):
    """The message may or may not have been accepted: a person must check before resending."""


class InvalidAddress(PermanentError):
    """A debtor's e-mail address that is no address: nothing is sent to it (fix it in the package)."""


# RFC 5321/5322 dot-atom addresses, ASCII only (a non-ASCII local part needs SMTPUTF8, which we do
# not assume); the domain may be internationalised and is sent in its IDNA (xn--) form.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def checked_address(address: str) -> str:
    """``address`` as it may go into an envelope and a ``To`` header, or :class:`InvalidAddress`.

    Package data is hostile: a CR/LF would start a header of its own (``Bcc: …``), a comma or an
    angle bracket adds recipients. Only a plain ``local@domain`` passes.
    """
    shown = repr(address) if len(address) <= 120 else repr(address[:117] + "...")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise InvalidAddress(f"the e-mail address {shown} is not valid (no local@domain): fix it in the package")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in address):
        raise InvalidAddress(f"the e-mail address {shown} is not valid (line break or control character): fix it in the package")
    if len(address) > 254 or len(local) > 64 or not _LOCAL.fullmatch(local):
        raise InvalidAddress(f"the e-mail address {shown} is not valid: fix it in the package")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidAddress(f"the e-mail address {shown} is not valid (domain): fix it in the package") from None
    labels = ascii_domain.rstrip(".").split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidAddress(f"the e-mail address {shown} is not valid (domain): fix it in the package")
    return f"{local}@{ascii_domain.rstrip('.')}"


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
    # A header is one line: a name with a line break in the subject must not start a header of its own.
    message["Subject"] = header_text(letter.subject)
    message["From"] = formataddr((header_text(sender_name), sender)) if sender_name else sender
    message["To"] = ", ".join(checked_address(address) for address in to)
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

    @property
    def implicit_tls(self) -> bool:
        return self.settings.implicit_tls or (self.settings.port == 465 and not self.settings.starttls)

    def _tls_context(self) -> ssl.SSLContext:
        """Certificates and host names checked as always; ``mail.ca_file`` adds a private CA."""
        context = ssl.create_default_context()
        if self.settings.ca_file:
            try:
                context.load_verify_locations(cafile=self.settings.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise MailNotSent(f"mail.ca_file {self.settings.ca_file}: cannot be read ({type(exc).__name__})") from None
        return context

    def send(self, message: EmailMessage) -> None:
        s = self.settings
        where = f"{s.host}:{s.port}"
        if s.username and not (s.starttls or self.implicit_tls):
            raise MailNotSent(
                f"SMTP server {where}: a login needs an encrypted connection, the password is never sent in the clear; "
                "set mail.starttls: true (port 587) or mail.implicit_tls: true (port 465) in config.yaml"
            )
        try:
            if self.implicit_tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout, context=self._tls_context())
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
        except ssl.SSLError as exc:
            raise MailNotSent(f"SMTP server {where}: TLS failed ({exc.reason or type(exc).__name__})") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailNotSent(f"SMTP server {where} not reachable: {type(exc).__name__}") from None
        try:
            try:
                client.ehlo()
                if s.starttls and not self.implicit_tls:
                    if not client.has_extn("starttls"):
                        raise MailNotSent(f"SMTP server {where} offers no STARTTLS; nothing was sent")
                    client.starttls(context=self._tls_context())
                    client.ehlo()
                if s.username:
                    if not self._password:
                        raise MailNotSent(f"SMTP server {where} needs a password: set {PASSWORD_ENV} or store it in the secret store")
                    client.login(s.username, self._password)
            except smtplib.SMTPAuthenticationError:
                raise MailNotSent(f"SMTP server {where} refused the login of {s.username}") from None
            except ssl.SSLError as exc:
                raise MailNotSent(f"SMTP server {where}: TLS failed ({exc.reason or type(exc).__name__})") from None
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
