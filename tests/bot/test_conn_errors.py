"""One sentence per connection failure (logbot.bot.conn_errors), from real failures.

Each failure is made for real on 127.0.0.1 (a closed port, a plain-text IRC server
spoken to in TLS, one that hangs up during the handshake, a trustme certificate whose CA
is not given, given wrong, or issued for another name, a host name that cannot be
looked up) with the bot's own TLS settings, and the sentence must say what to change.
Only the timeout is built by hand: a real one costs its whole wait.
"""

from __future__ import annotations

import re
import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme

from logbot.bot.conn_errors import explain, is_certificate_problem
from logbot.bot.tls_context import client_context
from logbot.config.settings import ServerConfig
from logbot.reactor import defer, error
from logbot.reactor.backends import available
from logbot.reactor.protocol import ClientFactory, Factory, Protocol
from logbot.testing.ircd import TestIRCServer

ONE_REACTOR = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)


class _Failed(ClientFactory):
    def __init__(self) -> None:
        self.failed: defer.Deferred[BaseException] = defer.Deferred()

    def buildProtocol(self, addr: Any) -> Protocol:
        raise AssertionError("this attempt must fail")

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        self.failed.callback(reason.value)


def _failure(reactor: Any, run_until: Any, server: ServerConfig) -> BaseException:
    """Connect as the bot does (its TLS context from ``server``); the failure."""
    factory = _Failed()
    if server.tls:
        context = client_context(server)
        reactor.connectSSL(server.host, server.port, factory, context, timeout=10)
    else:
        reactor.connectTCP(server.host, server.port, factory, timeout=10)
    exc: BaseException = run_until(factory.failed)
    return exc


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _tls_server(reactor: Any, cert: trustme.LeafCert) -> int:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    port = reactor.listenSSL(0, Factory.forProtocol(Protocol), context, interface="127.0.0.1")
    return int(port.getHost().port)


def _closed_port() -> int:
    import socket

    with socket.socket() as s:  # bound, then closed: nothing listens there
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@ONE_REACTOR
def test_refused(reactor: Any, run_until: Any) -> None:
    server = ServerConfig("127.0.0.1", _closed_port())
    exc = _failure(reactor, run_until, server)
    assert explain(exc, server) == (
        f"127.0.0.1:{server.port} refused the connection (nothing listens there?)"
    )


@ONE_REACTOR
def test_a_name_that_cannot_be_looked_up(reactor: Any, run_until: Any) -> None:
    server = ServerConfig("irc..example", 6667)  # an empty label: refused at once
    exc = _failure(reactor, run_until, server)
    why = explain(exc, server)
    assert why.startswith("cannot look up irc..example: ") and why.endswith("(is the name right?)")
    assert "[Errno" not in why


def test_timed_out() -> None:
    server = ServerConfig("irc.example", 6697, tls=True)
    exc = error.TimeoutError(None, "no connection after 30 s")
    assert explain(exc, server, 30) == (
        "irc.example:6697 did not answer within 30 s (a firewall, or the wrong address or port?)"
    )


@ONE_REACTOR
def test_tls_against_a_plain_text_irc_server(reactor: Any, run_until: Any) -> None:
    ircd = TestIRCServer(reactor)
    port = ircd.start()
    try:
        server = ServerConfig("127.0.0.1", port, tls=True)
        exc = _failure(reactor, run_until, server)
    finally:
        run_until(ircd.stop())
    assert isinstance(exc, error.TLSError) and not is_certificate_problem(exc)
    why = explain(exc, server)
    assert why.startswith(f"127.0.0.1:{port}: the TLS handshake failed: is {port} a TLS port?")
    assert "tls: true" in why


@ONE_REACTOR
def test_tls_against_a_server_that_hangs_up(reactor: Any, run_until: Any) -> None:
    class HangUp(Protocol):
        def connectionMade(self) -> None:
            self.transport.loseConnection()

    listener = reactor.listenTCP(0, Factory.forProtocol(HangUp), interface="127.0.0.1")
    server = ServerConfig("127.0.0.1", listener.getHost().port, tls=True)
    exc = _failure(reactor, run_until, server)
    assert "closed during the TLS handshake" in str(exc)  # the reactor's own words
    assert f"is {server.port} a TLS port?" in explain(exc, server)


@ONE_REACTOR
def test_a_certificate_from_an_unknown_ca(reactor: Any, run_until: Any, ca: trustme.CA) -> None:
    port = _tls_server(reactor, ca.issue_cert("localhost"))
    server = ServerConfig("localhost", port, tls=True)  # the system's CAs only
    exc = _failure(reactor, run_until, server)
    assert is_certificate_problem(exc)
    why = explain(exc, server)
    assert why.startswith(f"localhost:{port}: the server's TLS certificate is not trusted (")
    assert "set ca_file:" in why and "verify: false" in why


@ONE_REACTOR
def test_a_self_signed_certificate(reactor: Any, run_until: Any, tmp_path: Path) -> None:
    own = trustme.CA()  # a CA certificate is self-signed: the server shows it as its own
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    own.cert_pem.write_to_path(str(tmp_path / "cert.pem"))
    own.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    context.load_cert_chain(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
    port = reactor.listenSSL(0, Factory.forProtocol(Protocol), context, interface="127.0.0.1")
    server = ServerConfig("127.0.0.1", port.getHost().port, tls=True, verify=True)
    why = explain(_failure(reactor, run_until, server), server)
    assert re.search(r"not trusted \(self.signed certificate\)", why)  # (OpenSSL's words)
    assert "set ca_file:" in why


@ONE_REACTOR
def test_a_ca_file_that_is_not_the_right_ca(
    reactor: Any, run_until: Any, ca: trustme.CA, tmp_path: Path
) -> None:
    port = _tls_server(reactor, ca.issue_cert("localhost"))
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    server = ServerConfig("localhost", port, tls=True, ca_file=str(other))
    why = explain(_failure(reactor, run_until, server), server)
    assert f"not trusted by ca_file {other} (" in why and "verify: false" in why


@ONE_REACTOR
def test_a_certificate_for_another_name(
    reactor: Any, run_until: Any, ca: trustme.CA, tmp_path: Path
) -> None:
    port = _tls_server(reactor, ca.issue_cert("irc.example.org"))
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = ServerConfig("localhost", port, tls=True, ca_file=str(ca_file))
    why = explain(_failure(reactor, run_until, server), server)
    assert why.startswith(f"localhost:{port}: the server's TLS certificate is not for localhost")
    assert "verify: false" in why


@ONE_REACTOR
def test_an_expired_certificate(
    reactor: Any, run_until: Any, ca: trustme.CA, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    cert = ca.issue_cert(
        "localhost", not_before=datetime(2020, 1, 1, tzinfo=UTC), not_after=datetime(2021, 1, 1)
    )
    port = _tls_server(reactor, cert)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = ServerConfig("localhost", port, tls=True, ca_file=str(ca_file))
    why = explain(_failure(reactor, run_until, server), server)
    assert "the server's TLS certificate has expired" in why
