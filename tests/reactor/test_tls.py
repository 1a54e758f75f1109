"""TLS over real sockets with ``trustme`` certificates, on every backend.

A test CA issues a server certificate for 127.0.0.1 and localhost.  Good handshakes
echo; an untrusted CA and a wrong host name reach ``clientConnectionFailed`` with a
readable ``TLSError``; a server that requires a client certificate gets one.
"""

from __future__ import annotations

import hashlib
import os
import ssl

import pytest
import trustme

from logbot.reactor import defer, error
from logbot.reactor.endpoints import SSL4ClientEndpoint, connectProtocol
from logbot.reactor.protocol import Factory, Protocol
from tests.reactor.protocols import Echo, OneProtocolFactory, Recorder

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def server_cert(ca):
    return ca.issue_cert("127.0.0.1", "localhost")


def server_context(cert, client_ca=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    if client_ca is not None:
        ctx.verify_mode = ssl.CERT_REQUIRED
        client_ca.configure_trust(ctx)
    return ctx


def client_context(ca, client_cert=None):
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    if client_cert is not None:
        client_cert.configure_cert(ctx)
    return ctx


class CountingFactory(Factory):
    """A server factory that counts the protocols it builds (after handshakes)."""

    def __init__(self, protocol=Echo):
        self.protocol = protocol
        self.built = []

    def buildProtocol(self, addr):
        p = Factory.buildProtocol(self, addr)
        self.built.append(p)
        return p


def listen_tls(reactor, ctx, factory=None):
    factory = factory or CountingFactory()
    port = reactor.listenSSL(0, factory, ctx, interface="127.0.0.1")
    return port, factory


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_good_handshake_and_echo(reactor, run_until, ca, server_cert, host):
    port, sf = listen_tls(reactor, server_context(server_cert))
    client = Recorder(expect=11)
    f = OneProtocolFactory(client)
    reactor.connectSSL(host, port.getHost().port, f, client_context(ca))
    run_until(client.made)
    cert = client.transport.getPeerCertificate()
    assert cert is not None
    assert ("IP Address", "127.0.0.1") in cert["subjectAltName"]
    client.transport.write(b"hello")
    client.transport.write(b" world")
    assert run_until(client.got) == b"hello world"
    assert len(sf.built) == 1 and f.built == 1
    client.transport.loseConnection()
    assert isinstance(run_until(client.lost), error.ConnectionDone)


def test_a_megabyte_each_way_arrives_intact(reactor, run_until, ca, server_cert):
    payload = os.urandom(MiB)
    port, _ = listen_tls(reactor, server_context(server_cert))
    client = Recorder(expect=len(payload))
    reactor.connectSSL(
        "localhost", port.getHost().port, OneProtocolFactory(client), client_context(ca)
    )
    run_until(client.made)
    for i in range(0, len(payload), 50_000):
        client.transport.write(payload[i : i + 50_000])
    got = run_until(client.got, timeout=30)
    assert hashlib.sha256(got).digest() == hashlib.sha256(payload).digest()


def test_server_loseConnection_sends_everything_and_closes_cleanly(
    reactor, run_until, ca, server_cert
):
    payload = os.urandom(2 * MiB)

    class Sender(Protocol):
        def connectionMade(self):
            self.transport.write(payload)
            self.transport.loseConnection()

    port, _ = listen_tls(reactor, server_context(server_cert), CountingFactory(Sender))
    client = Recorder()
    reactor.connectSSL(
        "localhost", port.getHost().port, OneProtocolFactory(client), client_context(ca)
    )
    reason = run_until(client.lost, timeout=30)
    assert bytes(client.data) == payload
    assert isinstance(reason, error.ConnectionDone)


def test_untrusted_ca_fails_with_a_readable_TLSError(reactor, run_until, server_cert, caplog):
    other_ca = trustme.CA()
    port, sf = listen_tls(reactor, server_context(server_cert))
    client = Recorder()
    f = OneProtocolFactory(client)
    reactor.connectSSL("localhost", port.getHost().port, f, client_context(other_ca))
    reason = run_until(f.failed)
    assert isinstance(reason, error.TLSError)
    assert isinstance(reason, error.ConnectError)
    text = str(reason)
    assert "certificate verify failed" in text
    assert "Traceback" not in text and "_ssl.c" not in text  # readable, one line
    assert f.built == 0 and not client.made.called
    assert sf.built == []


def test_wrong_host_name_fails_with_a_readable_TLSError(reactor, run_until, ca):
    cert = ca.issue_cert("irc.example.org")
    port, _ = listen_tls(reactor, server_context(cert))
    f = OneProtocolFactory(Recorder())
    reactor.connectSSL("localhost", port.getHost().port, f, client_context(ca))
    reason = run_until(f.failed)
    assert isinstance(reason, error.TLSError)
    text = str(reason)
    assert "certificate verify failed" in text
    assert "mismatch" in text.lower() and "localhost" in text
    assert f.built == 0


def test_certificates_are_verified_by_default(reactor, run_until, server_cert):
    # No context at all: the system's trust store does not know the test CA.
    port, _ = listen_tls(reactor, server_context(server_cert))
    f = OneProtocolFactory(Recorder())
    reactor.connectSSL("localhost", port.getHost().port, f)
    reason = run_until(f.failed)
    assert isinstance(reason, error.TLSError)
    assert "certificate verify failed" in str(reason)


def test_plain_tcp_server_gives_a_TLSError_not_a_hang(reactor, run_until, ca):
    class Garbage(Protocol):
        def connectionMade(self):
            self.transport.write(b"NOTICE AUTH :*** this is not TLS\r\n" * 4)
            self.transport.loseConnection()

    port = reactor.listenTCP(0, Factory.forProtocol(Garbage), interface="127.0.0.1")
    f = OneProtocolFactory(Recorder())
    reactor.connectSSL("localhost", port.getHost().port, f, client_context(ca), timeout=5)
    reason = run_until(f.failed)
    assert isinstance(reason, error.TLSError)
    assert f.built == 0


def test_client_certificate_required_and_supplied(reactor, run_until, ca, server_cert):
    client_ca = trustme.CA()
    client_cert = client_ca.issue_cert("logbot@example.org")
    seen = defer.Deferred()

    class Server(Echo):
        def connectionMade(self):
            seen.callback(self.transport.getPeerCertificate())

    port, _ = listen_tls(
        reactor,
        server_context(server_cert, client_ca=client_ca),
        CountingFactory(Server),
    )
    client = Recorder(expect=4)
    reactor.connectSSL(
        "localhost",
        port.getHost().port,
        OneProtocolFactory(client),
        client_context(ca, client_cert),
    )
    peer_cert = run_until(seen)
    assert peer_cert is not None
    assert ("email", "logbot@example.org") in peer_cert["subjectAltName"] or any(
        "logbot@example.org" in v for _, v in peer_cert["subjectAltName"]
    )
    run_until(client.made)
    client.transport.write(b"ping")
    assert run_until(client.got) == b"ping"


def test_client_certificate_required_but_missing_never_reaches_the_server_protocol(
    reactor, run_until, ca, server_cert
):
    client_ca = trustme.CA()
    port, sf = listen_tls(reactor, server_context(server_cert, client_ca=client_ca))
    client = Recorder()
    f = OneProtocolFactory(client)
    reactor.connectSSL("localhost", port.getHost().port, f, client_context(ca))
    # With TLS 1.3 the client's handshake completes before the server checks the
    # (missing) certificate, so the client sees either a failed attempt or a
    # connection that is lost at once; the server never builds a protocol.
    outcome = run_until(defer.DeferredList([f.failed, client.lost], fireOnOneCallback=True))
    reason, _ = outcome
    assert isinstance(reason, (error.TLSError, error.ConnectionLost, error.ConnectionDone))
    assert sf.built == []


def test_SSL4ClientEndpoint_with_connectProtocol(reactor, run_until, ca, server_cert):
    port, _ = listen_tls(reactor, server_context(server_cert))
    client = Recorder(expect=3)
    ep = SSL4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port, client_context(ca))
    p = run_until(connectProtocol(ep, client))
    assert p is client and client.made.called
    p.transport.write(b"abc")
    assert run_until(client.got) == b"abc"


def test_SSL4ClientEndpoint_bad_certificate_errbacks(reactor, run_until, server_cert):
    port, _ = listen_tls(reactor, server_context(server_cert))
    ep = SSL4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port, client_context(trustme.CA()))
    d = connectProtocol(ep, Recorder())
    with pytest.raises(error.TLSError, match="certificate verify failed"):
        run_until(d)


def test_exception_in_tls_dataReceived_closes_that_connection_only(
    reactor, run_until, ca, server_cert, caplog
):
    class Fragile(Echo):
        def dataReceived(self, data):
            if b"boom" in data:
                raise ValueError("tls protocol exploded")
            Echo.dataReceived(self, data)

    port, _ = listen_tls(reactor, server_context(server_cert), CountingFactory(Fragile))
    portno = port.getHost().port
    victim, survivor = Recorder(), Recorder(expect=2)
    reactor.connectSSL("localhost", portno, OneProtocolFactory(victim), client_context(ca))
    reactor.connectSSL("localhost", portno, OneProtocolFactory(survivor), client_context(ca))
    run_until(defer.gatherResults([victim.made, survivor.made]))
    victim.transport.write(b"boom")
    run_until(victim.lost)
    assert "tls protocol exploded" in caplog.text
    survivor.transport.write(b"ok")
    assert run_until(survivor.got) == b"ok"


def test_handshake_timeout_reaches_clientConnectionFailed(reactor, run_until, ca):
    # A TCP server that accepts and then never says a word: the TLS handshake stalls,
    # and the connect timeout covers the handshake too.
    class Silent(Protocol):
        pass

    port = reactor.listenTCP(0, Factory.forProtocol(Silent), interface="127.0.0.1")
    f = OneProtocolFactory(Recorder())
    reactor.connectSSL("localhost", port.getHost().port, f, client_context(ca), timeout=0.3)
    reason = run_until(f.failed)
    assert isinstance(reason, error.TimeoutError)
    assert f.built == 0


def test_client_buildProtocol_raising_after_the_handshake_fails_the_attempt(
    reactor, run_until, ca, server_cert, caplog
):
    port, _ = listen_tls(reactor, server_context(server_cert))

    class Broken(OneProtocolFactory):
        def buildProtocol(self, addr):
            raise LookupError("tls client factory broke")

    f = Broken(Recorder())
    c = reactor.connectSSL("localhost", port.getHost().port, f, client_context(ca))
    run_until(f.failed)
    assert "tls client factory broke" in caplog.text
    assert c.state == "disconnected"
