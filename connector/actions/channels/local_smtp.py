"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives: for the demo and tests.

Not a channel for production mail: it delivers nowhere. It lets ``arconnect demo`` and the
end-to-end tests send real SMTP traffic through :class:`connector.actions.channels.email.SmtpSender`.
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])


@dataclass(frozen=True)
class Login:
    """An AUTH the server saw: who, and whether the connection was encrypted at that moment."""

    username: str
    encrypted: bool
    accepted: bool


class _Handler:
    def __init__(self, logins: dict[str, str] | None = None) -> None:
        self.received: list[Received] = []
        self.logins: list[Login] = []
        self.accounts = dict(logins or {})
        self.lock = threading.Lock()

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        username = auth_data.login.decode("utf-8", "replace")
        accepted = self.accounts.get(username) == auth_data.password.decode("utf-8", "replace")
        encrypted = server.transport is not None and server.transport.get_extra_info("ssl_object") is not None
        with self.lock:
            self.logins.append(Login(username, encrypted, accepted))
        return AuthResult(success=accepted)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.received.append(Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class LocalSmtpServer:
    """``with LocalSmtpServer(port) as smtp: … smtp.received``

    ``tls`` (a server-side context) offers STARTTLS, or with ``implicit_tls`` speaks TLS from the
    first byte (as on port 465). ``logins`` (username → password) turns on AUTH; with
    ``login_needs_tls=False`` the server also accepts a login in the clear (a badly set up server,
    to show that arconnect still never sends one).
    """

    def __init__(
        self,
        port: int,
        host: str = "127.0.0.1",
        *,
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        logins: dict[str, str] | None = None,
        login_needs_tls: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self._handler = _Handler(logins)
        smtp: dict[str, Any] = {}
        if logins is not None:
            # aiosmtpd offers AUTH only after STARTTLS unless told otherwise; implicit TLS is TLS too.
            smtp.update(authenticator=self._handler.authenticate, auth_require_tls=login_needs_tls and not implicit_tls)
        if tls is not None and not implicit_tls:
            smtp["tls_context"] = tls
        self._controller = Controller(
            self._handler, hostname=host, port=port, ssl_context=tls if implicit_tls else None, **smtp
        )

    @property
    def received(self) -> list[Received]:
        with self._handler.lock:
            return list(self._handler.received)

    @property
    def logins(self) -> list[Login]:
        with self._handler.lock:
            return list(self._handler.logins)

    def start(self) -> LocalSmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> LocalSmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
