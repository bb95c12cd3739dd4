"""The SMTP password never goes in the clear (issue 11 §12): a login needs STARTTLS or implicit TLS,
both tested against a TLS-enabled SMTP server with a certificate made in the test."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from connector.actions.channels.email import MailNotSent, SmtpSender, build_message
from connector.actions.channels.local_smtp import LocalSmtpServer
from connector.cli.demo import free_port
from connector.config import MailConfig
from rules.letters import RenderedLetter
from tests.support.tls import Certificate, self_signed

LOGINS = {"debiteuren": "s3cret-smtp-password"}


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return self_signed(tmp_path / "tls")


def _message() -> EmailMessage:
    letter = RenderedLetter(subject="Herinnering", text="Betaal a.u.b.", html="<p>Betaal a.u.b.</p>")
    return build_message(letter, sender="debiteuren@korenschoof.nl", sender_name=None, to=["klant@example.nl"], idempotency_key="k1")


@pytest.fixture
def starttls_server(certificate: Certificate) -> Iterator[LocalSmtpServer]:
    with LocalSmtpServer(free_port(), tls=certificate.server_context(), logins=LOGINS) as server:
        yield server


@pytest.fixture
def implicit_tls_server(certificate: Certificate) -> Iterator[LocalSmtpServer]:
    with LocalSmtpServer(free_port(), tls=certificate.server_context(), implicit_tls=True, logins=LOGINS) as server:
        yield server


def test_starttls_then_login_then_send(starttls_server: LocalSmtpServer, certificate: Certificate) -> None:
    settings = MailConfig(port=starttls_server.port, sender="debiteuren@korenschoof.nl", starttls=True,
                          username="debiteuren", ca_file=str(certificate.cert_file))
    SmtpSender(settings, LOGINS["debiteuren"], timeout=5).send(_message())
    assert [m.recipients for m in starttls_server.received] == [("klant@example.nl",)]
    assert [(login.username, login.encrypted, login.accepted) for login in starttls_server.logins] == [("debiteuren", True, True)]


def test_implicit_tls_then_login_then_send(implicit_tls_server: LocalSmtpServer, certificate: Certificate) -> None:
    settings = MailConfig(port=implicit_tls_server.port, sender="debiteuren@korenschoof.nl", implicit_tls=True,
                          username="debiteuren", ca_file=str(certificate.cert_file))
    SmtpSender(settings, LOGINS["debiteuren"], timeout=5).send(_message())
    assert len(implicit_tls_server.received) == 1
    assert [(login.username, login.encrypted) for login in implicit_tls_server.logins] == [("debiteuren", True)]


def test_a_login_without_tls_is_refused_even_when_the_server_would_take_it(certificate: Certificate) -> None:
    with LocalSmtpServer(free_port(), logins=LOGINS, login_needs_tls=False) as careless:
        settings = MailConfig(port=careless.port, sender="debiteuren@korenschoof.nl", username="debiteuren")
        with pytest.raises(MailNotSent, match=r"password is never sent in the clear.*mail\.starttls: true.*mail\.implicit_tls: true"):
            SmtpSender(settings, LOGINS["debiteuren"], timeout=5).send(_message())
        assert careless.logins == []
        assert careless.received == []


def test_a_certificate_that_is_not_trusted_is_not_sent_to(starttls_server: LocalSmtpServer) -> None:
    settings = MailConfig(port=starttls_server.port, sender="debiteuren@korenschoof.nl", starttls=True, username="debiteuren")
    with pytest.raises(MailNotSent, match="TLS failed"):
        SmtpSender(settings, LOGINS["debiteuren"], timeout=5).send(_message())
    assert starttls_server.logins == []


def test_starttls_asked_of_a_server_without_it_sends_nothing() -> None:
    with LocalSmtpServer(free_port(), logins=LOGINS, login_needs_tls=False) as plain:
        settings = MailConfig(port=plain.port, sender="debiteuren@korenschoof.nl", starttls=True, username="debiteuren")
        with pytest.raises(MailNotSent, match="offers no STARTTLS"):
            SmtpSender(settings, LOGINS["debiteuren"], timeout=5).send(_message())
        assert plain.logins == [] and plain.received == []
