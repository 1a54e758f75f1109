"""TLS half-close: ``loseWriteConnection`` on TLS transports, both ways, every backend.

The side that half-closes sends close_notify (then a TCP FIN) after what it wrote,
and goes on reading; the other side, if half-closeable (it has
``readConnectionLost``), hears that its peer is done and may still answer; one that
is not is closed.  Checked with ``connectSSL``/``listenSSL`` transports, with a
connection switched by ``startTLS``, and against Python's ``ssl`` module in a child
process (a blocking socket that reads until close_notify, then answers).
"""

from __future__ import annotations

import ssl
import sys
import textwrap
from typing import Any

import pytest
import trustme

from logbot.reactor import error
from logbot.reactor.defer import Deferred, gatherResults
from logbot.reactor.protocol import ClientFactory, ProcessProtocol, Protocol
from tests.reactor.protocols import Echo

REQUEST = b"a request of some length " * 400  # several TLS records


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_ctx(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    return ctx


@pytest.fixture(scope="module")
def client_ctx(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


class Asker(Protocol):
    """Writes ``REQUEST``, half-closes at once, and reads the answer until the end."""

    def __init__(self) -> None:
        self.data = b""
        self.events: list[str] = []
        self.lost: Deferred[Any] = Deferred()

    def connectionMade(self) -> None:
        self.transport.write(REQUEST)
        self.transport.loseWriteConnection()
        self.transport.write(b"after the half-close: dropped")

    def writeConnectionLost(self) -> None:
        self.events.append("writeConnectionLost")

    def dataReceived(self, data: bytes) -> None:
        if "data" not in self.events:
            self.events.append("data")
        self.data += data

    def connectionLost(self, reason: Any) -> None:
        self.events.append("connectionLost")
        self.lost.callback(reason.value)


class Answerer(Protocol):
    """Half-closeable: reads the whole request, then answers with its size and closes."""

    def __init__(self) -> None:
        self.data = b""
        self.events: list[str] = []
        self.lost: Deferred[Any] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def readConnectionLost(self) -> None:
        self.events.append("readConnectionLost")
        self.transport.write(b"you sent %d bytes" % len(self.data))
        self.transport.loseConnection()

    def writeConnectionLost(self) -> None:
        self.events.append("writeConnectionLost")

    def connectionLost(self, reason: Any) -> None:
        self.events.append("connectionLost")
        self.lost.callback(reason.value)


class Given(ClientFactory):
    """Hands out one given protocol (client or server side)."""

    def __init__(self, proto: Protocol) -> None:
        self.proto = proto
        self.failed: Deferred[Any] = Deferred()

    def buildProtocol(self, addr: Any) -> Protocol:
        return self.proto

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        self.failed.callback(reason.value)


def tls_pair(
    reactor: Any,
    server_ctx: ssl.SSLContext,
    client_ctx: ssl.SSLContext,
    server: Protocol,
    client: Protocol,
) -> Any:
    port = reactor.listenSSL(0, Given(server), server_ctx, interface="127.0.0.1")
    reactor.connectSSL("127.0.0.1", port.getHost().port, Given(client), client_ctx)
    return port


def test_client_half_closes_and_reads_the_answer(
    reactor: Any, run_until: Any, server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext
) -> None:
    client, server = Asker(), Answerer()
    port = tls_pair(reactor, server_ctx, client_ctx, server, client)
    assert isinstance(run_until(client.lost), error.ConnectionDone)
    assert isinstance(run_until(server.lost), error.ConnectionDone)
    assert server.data == REQUEST  # everything before the half-close, nothing after
    assert client.data == b"you sent %d bytes" % len(REQUEST)
    assert client.events == ["writeConnectionLost", "data", "connectionLost"]
    assert server.events == ["readConnectionLost", "connectionLost"]
    assert client.transport.TLS and server.transport.TLS
    port.stopListening()


def test_server_half_closes_and_reads_the_answer(
    reactor: Any, run_until: Any, server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext
) -> None:
    client, server = Answerer(), Asker()
    port = tls_pair(reactor, server_ctx, client_ctx, server, client)
    assert isinstance(run_until(server.lost), error.ConnectionDone)
    assert isinstance(run_until(client.lost), error.ConnectionDone)
    assert client.data == REQUEST
    assert server.data == b"you sent %d bytes" % len(REQUEST)
    assert server.events == ["writeConnectionLost", "data", "connectionLost"]
    assert client.events == ["readConnectionLost", "connectionLost"]
    port.stopListening()


def test_a_peer_that_is_not_half_closeable_is_closed(
    reactor: Any, run_until: Any, server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext
) -> None:
    """The echo server gets close_notify: it echoes what came before, sends its own
    close_notify and closes; the half-closed client reads the echo to the end."""
    client = Asker()
    server = Echo()
    lost: Deferred[Any] = Deferred()
    server.connectionLost = lambda reason: lost.callback(reason.value)  # type: ignore[method-assign]
    port = tls_pair(reactor, server_ctx, client_ctx, server, client)
    assert isinstance(run_until(client.lost), error.ConnectionDone)
    assert isinstance(run_until(lost), error.ConnectionDone)
    assert client.data == REQUEST
    port.stopListening()


def test_both_sides_half_close(
    reactor: Any, run_until: Any, server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext
) -> None:
    """Each side writes, half-closes and reads to the end: both get all the data."""

    class Both(Asker):
        def readConnectionLost(self) -> None:
            self.events.append("readConnectionLost")

    client, server = Both(), Both()
    port = tls_pair(reactor, server_ctx, client_ctx, server, client)
    assert isinstance(run_until(client.lost), error.ConnectionDone)
    assert isinstance(run_until(server.lost), error.ConnectionDone)
    assert client.data == REQUEST and server.data == REQUEST
    for side in (client, server):
        # The FIN goes out when the socket is writable, so data may come before it; and
        # the side whose peer finished first closes at once, FIN sent or not (so its
        # writeConnectionLost may never come, as with TCP).
        events = [e for e in side.events if e != "writeConnectionLost"]
        assert events == ["data", "readConnectionLost", "connectionLost"]
        assert side.events.count("writeConnectionLost") <= 1
    port.stopListening()


def test_half_close_in_the_middle_of_a_burst_loses_no_data(
    reactor: Any, run_until: Any, server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext
) -> None:
    """The server half-closes on the first piece of a burst of many TLS records: the
    records already received behind it must still be read, not thrown away by the
    close_notify's shutdown call."""
    burst = bytes(range(256)) * 1024  # 256 KiB: sixteen and more full records

    class BigAsker(Asker):
        def connectionMade(self) -> None:
            self.transport.write(burst)
            self.transport.loseWriteConnection()

    class HalfClosesAtOnce(Answerer):
        def dataReceived(self, data: bytes) -> None:
            if not self.data:
                self.events.append("half-closing")
                self.transport.loseWriteConnection()
            super().dataReceived(data)

    client, server = BigAsker(), HalfClosesAtOnce()
    port = tls_pair(reactor, server_ctx, client_ctx, server, client)
    assert isinstance(run_until(server.lost), error.ConnectionDone)
    assert isinstance(run_until(client.lost), error.ConnectionDone)
    assert server.data == burst
    assert server.events[0] == "half-closing"
    assert server.events[-2:] == ["readConnectionLost", "connectionLost"]
    port.stopListening()


class StartTLSAsker(Asker):
    """Switches to TLS first (``startTLS`` on a TCP connection), then asks."""

    def __init__(self, ctx: ssl.SSLContext) -> None:
        super().__init__()
        self.ctx = ctx

    def connectionMade(self) -> None:
        self.transport.startTLS(self.ctx)
        super().connectionMade()  # written and half-closed during the handshake


class StartTLSAnswerer(Answerer):
    def __init__(self, ctx: ssl.SSLContext) -> None:
        super().__init__()
        self.ctx = ctx

    def connectionMade(self) -> None:
        self.transport.startTLS(self.ctx)


def test_half_close_after_starttls(
    reactor: Any, run_until: Any, server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext
) -> None:
    client = StartTLSAsker(client_ctx)
    server = StartTLSAnswerer(server_ctx)
    port = reactor.listenTCP(0, Given(server), interface="127.0.0.1")
    reactor.connectTCP("127.0.0.1", port.getHost().port, Given(client))
    assert isinstance(run_until(client.lost), error.ConnectionDone)
    assert isinstance(run_until(server.lost), error.ConnectionDone)
    assert server.data == REQUEST
    assert client.data == b"you sent %d bytes" % len(REQUEST)
    assert client.events == ["writeConnectionLost", "data", "connectionLost"]
    assert server.events == ["readConnectionLost", "connectionLost"]
    port.stopListening()


def test_half_closed_twice_or_after_close_is_harmless(
    reactor: Any, run_until: Any, server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext
) -> None:
    class Repeats(Asker):
        def connectionMade(self) -> None:
            super().connectionMade()
            self.transport.loseWriteConnection()
            self.transport.loseConnection()
            self.transport.loseWriteConnection()

    client = Repeats()
    server = Answerer()
    port = tls_pair(reactor, server_ctx, client_ctx, server, client)
    assert isinstance(run_until(client.lost), error.ConnectionDone)
    run_until(server.lost)
    assert server.data == REQUEST
    assert client.events.count("writeConnectionLost") <= 1
    port.stopListening()


# -- against Python's ssl module in a child process ---------------------------------------

PEER = textwrap.dedent(
    """
    import socket, ssl, sys
    certfile = sys.argv[1]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile)
    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    sock, _ = listener.accept()
    tls = ctx.wrap_socket(sock, server_side=True)
    got = b""
    while True:
        chunk = tls.recv(65536)
        if not chunk:  # close_notify: the client is done sending
            break
        got += chunk
    tls.sendall(b"python read %d bytes" % len(got))
    tls.unwrap().close()
    """
)


class PeerProcess(ProcessProtocol):
    """Runs ``PEER``; once it prints its port, ``connect(port)`` is called (from here:
    stopping the reactor in between would end the child)."""

    def __init__(self, connect: Any) -> None:
        self.connect = connect
        self.out = b""
        self.err = b""
        self.ended: Deferred[Any] = Deferred()

    def outReceived(self, data: bytes) -> None:
        self.out += data
        if b"\n" in self.out and self.connect is not None:
            connect, self.connect = self.connect, None
            connect(int(self.out.split(b"\n")[0]))

    def errReceived(self, data: bytes) -> None:
        self.err += data

    def processEnded(self, reason: Any) -> None:
        self.reason = reason
        self.ended.callback(self)


def test_python_ssl_module_reads_to_close_notify_then_answers(
    reactor: Any, run_until: Any, ca: trustme.CA, client_ctx: ssl.SSLContext, tmp_path: Any
) -> None:
    certfile = tmp_path / "server.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(certfile))
    client = Asker()
    peer = PeerProcess(
        lambda port: reactor.connectSSL("127.0.0.1", port, Given(client), client_ctx)
    )
    reactor.spawnProcess(peer, sys.executable, [sys.executable, "-c", PEER, str(certfile)], None)
    # Both at once: stopping the reactor in between would end the child.
    lost, _ = run_until(gatherResults([client.lost, peer.ended]))
    assert isinstance(lost, error.ConnectionDone)
    assert client.data == b"python read %d bytes" % len(REQUEST)
    assert peer.reason.check(error.ProcessDone), peer.err.decode()
