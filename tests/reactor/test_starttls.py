"""``transport.startTLS``: a plain TCP connection switched to TLS, on every backend.

The protocol is STARTTLS-like, as in SMTP or IRC's ``STARTTLS``: lines in clear, the
client asks, the server answers ``GO`` and both switch; then lines in TLS.  Client and
server are ours, over 127.0.0.1, with ``trustme`` certificates.  What is checked is
the order of the bytes on the wire: clear before, TLS after, both ways, even with the
clear data still buffered when the switch is asked for and with TLS bytes arriving in
the same chunk as the command (``extra``).  One test puts Python's own ``ssl`` module
in a child process on the other end.
"""

from __future__ import annotations

import ssl
import sys
import textwrap
from typing import Any

import pytest
import trustme

from logbot.reactor import error
from logbot.reactor.basic import LineReceiver
from logbot.reactor.defer import Deferred, gatherResults
from logbot.reactor.protocol import ClientFactory, Factory, ProcessProtocol, Protocol
from logbot.reactor.tcp import TLSConnection

#: Clear data written before the switch: more than the socket takes at once, so that
#: part of it is still in the transport's buffer when ``startTLS`` is called.
BIG = 4 * 1024 * 1024
LINE = 8000  # bytes per line of the big clear payload (under LineReceiver.MAX_LENGTH)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_ctx(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    return ctx


@pytest.fixture(scope="module")
def client_ctx(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


class Server(LineReceiver):
    """Says hello in clear; on ``STARTTLS`` sends the factory's ``bulk`` lines and
    answers ``GO``, then switches (giving back what it read past the command); then
    echoes every line in TLS, uppercased.  For a pipelining client (which switches
    before reading anything) the factory turns the clear greeting and answer off."""

    def __init__(self) -> None:
        self.clear: list[bytes] = []
        self.secure: list[bytes] = []
        self.extra = b""
        self.bufferedAtSwitch = 0
        self.lost: Deferred[Any] = Deferred()
        self.shaken: Deferred[Any] = Deferred()

    def connectionMade(self) -> None:
        if self.factory.clearReplies:
            self.sendLine(b"HELLO in clear")

    def lineReceived(self, line: bytes) -> None:
        if self.transport.TLS:
            self.secure.append(line)
            self.sendLine(b"ECHO " + line.upper())
        elif line == b"STARTTLS":
            for bulk in self.factory.bulk:
                self.sendLine(bulk)
            if self.factory.clearReplies:
                self.sendLine(b"GO")
            self.bufferedAtSwitch = len(self.transport._buf)
            self.extra = self.clearLineBuffer()
            self.transport.startTLS(self.factory.ctx, extra=self.extra)
            self.sendLine(b"WELCOME in TLS")  # held until the handshake is done
        else:
            self.clear.append(line)

    def handshakeCompleted(self) -> None:
        self.shaken.callback(self.transport.getPeerCertificate())

    def connectionLost(self, reason: Any) -> None:
        self.lost.callback(reason.value)


class ServerFactory(Factory):
    def __init__(
        self, ctx: ssl.SSLContext, clearReplies: bool = True, bulk: list[bytes] | None = None
    ) -> None:
        self.ctx = ctx
        self.clearReplies = clearReplies
        self.bulk = bulk or []
        self.built: list[Server] = []
        self.serverLost: Deferred[Any] = Deferred()  # the first connection's end

    def buildProtocol(self, addr: Any) -> Server:
        p = Server()
        p.factory = self
        if not self.built:
            p.lost.addBoth(self._firstLost)
        self.built.append(p)
        return p

    def _firstLost(self, reason: Any) -> Any:
        self.serverLost.callback(reason)
        return reason


class Client(LineReceiver):
    """Sends ``before`` in clear, asks for STARTTLS, switches at ``GO`` (or at once,
    with ``pipeline``), sends ``after`` in TLS and collects the replies."""

    def __init__(
        self,
        ctx: ssl.SSLContext,
        before: list[bytes],
        after: list[bytes],
        pipeline: bool = False,
    ) -> None:
        self.ctx = ctx
        self.before = before
        self.after = after
        self.pipeline = pipeline
        self.received: list[tuple[bool, bytes]] = []
        self.bufferedAtSwitch = 0
        self.done: Deferred[Any] = Deferred()
        self.lost: Deferred[Any] = Deferred()

    def connectionMade(self) -> None:
        self.plainTransport = self.transport
        for line in self.before:
            self.sendLine(line)
        self.sendLine(b"STARTTLS")
        if self.pipeline:
            self._switch()

    def _switch(self) -> None:
        self.bufferedAtSwitch = len(self.transport._buf)
        self.transport.startTLS(self.ctx)
        for line in self.after:
            self.sendLine(line)  # written before the handshake is done: held, then sent

    def lineReceived(self, line: bytes) -> None:
        self.received.append((self.transport.TLS, line))
        if line == b"GO" and not self.pipeline:
            self._switch()
        if len([r for r in self.received if r[1].startswith(b"ECHO")]) == len(self.after):
            self.done.callback(self.received)

    def connectionLost(self, reason: Any) -> None:
        self.lost.callback(reason.value)


class OneClient(ClientFactory):
    def __init__(self, proto: Protocol) -> None:
        self.proto = proto
        self.failed: Deferred[Any] = Deferred()

    def buildProtocol(self, addr: Any) -> Protocol:
        self.proto.factory = self
        return self.proto

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        self.failed.callback(reason.value)


def connect(reactor: Any, port: Any, client: Protocol, host: str = "127.0.0.1") -> OneClient:
    f = OneClient(client)
    reactor.connectTCP(host, port.getHost().port, f)
    return f


def listen(reactor: Any, ctx: ssl.SSLContext, **kw: Any) -> tuple[Any, ServerFactory]:
    sf = ServerFactory(ctx, **kw)
    return reactor.listenTCP(0, sf, interface="127.0.0.1"), sf


def bulk_lines() -> list[bytes]:
    return [b"%07d" % i + b"." * (LINE - 7) for i in range(BIG // LINE)]


def test_starttls_conversation(
    reactor: Any, run_until: Any, server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext
) -> None:
    port, sf = listen(reactor, server_ctx)
    client = Client(client_ctx, [b"one", b"two"], [b"three", b"four"])
    connect(reactor, port, client)
    received = run_until(client.done)
    assert received == [
        (False, b"HELLO in clear"),
        (False, b"GO"),
        (True, b"WELCOME in TLS"),
        (True, b"ECHO THREE"),
        (True, b"ECHO FOUR"),
    ]
    (server,) = sf.built
    assert server.clear == [b"one", b"two"]
    assert server.secure == [b"three", b"four"]
    assert server.extra == b""  # the client waited for GO: nothing came early
    assert isinstance(client.transport, TLSConnection) and client.transport.TLS
    assert client.transport is client.plainTransport  # the same object, now in TLS
    cert = client.transport.getPeerCertificate()
    assert ("IP Address", "127.0.0.1") in cert["subjectAltName"]
    assert run_until(server.shaken) is None  # no client certificate was asked for
    client.transport.loseConnection()
    assert isinstance(run_until(server.lost), error.ConnectionDone)
    assert isinstance(run_until(client.lost), error.ConnectionDone)
    port.stopListening()


def test_clear_data_the_server_still_buffers_goes_out_before_its_tls(
    reactor: Any, run_until: Any, server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext
) -> None:
    """The server answers STARTTLS with 4 MiB of clear lines and ``GO``, and switches
    with most of that still in its transport's buffer: the client must read every
    clear line, then ``GO``, and only then TLS."""
    lines = bulk_lines()
    port, sf = listen(reactor, server_ctx, bulk=lines)
    client = Client(client_ctx, [], [b"after"])
    connect(reactor, port, client)
    received = run_until(client.done, timeout=30)
    (server,) = sf.built
    assert server.bufferedAtSwitch > 0  # clear data was still queued at the switch
    assert received == [
        (False, b"HELLO in clear"),
        *((False, line) for line in lines),
        (False, b"GO"),
        (True, b"WELCOME in TLS"),
        (True, b"ECHO AFTER"),
    ]
    client.transport.loseConnection()
    run_until(server.lost)
    port.stopListening()


def test_clear_data_the_client_still_buffers_goes_out_before_its_tls(
    reactor: Any, run_until: Any, server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext
) -> None:
    """A pipelining client: 4 MiB of clear lines, ``STARTTLS`` and its TLS handshake
    leave back to back, much of it from the transport's buffer.  The server must see
    every clear line, then switch exactly after ``STARTTLS`` (it sends nothing in
    clear, since this client switches before reading)."""
    lines = bulk_lines()
    port, sf = listen(reactor, server_ctx, clearReplies=False)
    client = Client(client_ctx, lines, [b"after the switch"], pipeline=True)
    connect(reactor, port, client)
    received = run_until(client.done, timeout=30)
    assert client.bufferedAtSwitch > 0  # clear data was still queued at the switch
    (server,) = sf.built
    assert server.clear == lines
    assert server.secure == [b"after the switch"]
    assert received == [(True, b"WELCOME in TLS"), (True, b"ECHO AFTER THE SWITCH")]
    client.transport.loseConnection()
    run_until(server.lost)
    port.stopListening()


class Pipeliner(Protocol):
    """Sends ``STARTTLS`` and its TLS handshake in one burst, before any reply."""

    def __init__(self, ctx: ssl.SSLContext) -> None:
        self.ctx = ctx
        self.data = b""
        self.got: Deferred[bytes] = Deferred()

    def connectionMade(self) -> None:
        self.transport.write(b"STARTTLS\r\n")
        self.transport.startTLS(self.ctx)
        self.transport.write(b"in tls\r\n")

    def dataReceived(self, data: bytes) -> None:
        self.data += data
        if b"ECHO IN TLS\r\n" in self.data:
            self.got.callback(self.data)


def test_tls_bytes_read_with_the_command_are_given_back_with_extra(
    reactor: Any, run_until: Any, server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext
) -> None:
    port, sf = listen(reactor, server_ctx, clearReplies=False)
    client = Pipeliner(client_ctx)
    connect(reactor, port, client)
    data = run_until(client.got)
    (server,) = sf.built
    # Both sends were queued before the server read once: its ClientHello came in the
    # chunk that carried STARTTLS, and reached TLS through ``extra``.
    assert server.extra.startswith(b"\x16\x03")  # a TLS handshake record
    assert server.secure == [b"in tls"]
    assert data == b"WELCOME in TLS\r\nECHO IN TLS\r\n"
    port.stopListening()


def test_server_side_with_normal_false_and_a_context_factory(
    reactor: Any, run_until: Any, server_ctx: ssl.SSLContext, ca: trustme.CA
) -> None:
    """``normal=False``: the side that connected is the TLS *server* (roles swapped),
    and a Twisted-style context factory (``getContext()``) is accepted."""

    class Factoryish:
        def __init__(self, ctx: ssl.SSLContext) -> None:
            self.ctx = ctx

        def getContext(self) -> ssl.SSLContext:
            return self.ctx

    accepted_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    accepted_ctx.check_hostname = False  # the accepting side connected to no name
    ca.configure_trust(accepted_ctx)

    got: Deferred[bytes] = Deferred()

    class Accepting(Protocol):
        def connectionMade(self) -> None:
            self.transport.startTLS(accepted_ctx, normal=False)
            self.transport.write(b"ping")

        def dataReceived(self, data: bytes) -> None:
            got.callback(data)

        def connectionLost(self, reason: Any) -> None:
            if not got.called:
                got.errback(reason)

    class Connecting(Protocol):
        def connectionMade(self) -> None:
            self.transport.startTLS(Factoryish(server_ctx), normal=False)

        def dataReceived(self, data: bytes) -> None:
            self.transport.write(data + b"-pong")

    port = reactor.listenTCP(0, Factory.forProtocol(Accepting), interface="127.0.0.1")
    connect(reactor, port, Connecting())
    assert run_until(got) == b"ping-pong"
    port.stopListening()


def test_a_certificate_that_does_not_verify_ends_the_connection(
    reactor: Any, run_until: Any, server_ctx: ssl.SSLContext
) -> None:
    port, sf = listen(reactor, server_ctx)
    stranger = ssl.create_default_context()
    trustme.CA().configure_trust(stranger)  # trusts another CA
    client = Client(stranger, [], [b"never sent"])
    connect(reactor, port, client)
    reason = run_until(client.lost)
    assert isinstance(reason, error.TLSError)
    assert "certificate verify failed" in str(reason)
    (server,) = sf.built
    server_reason = run_until(server.lost)
    assert isinstance(server_reason, error.TLSError)  # it heard the alert
    assert server.secure == []
    port.stopListening()


def test_a_wrong_host_name_ends_the_connection(
    reactor: Any, run_until: Any, ca: trustme.CA, client_ctx: ssl.SSLContext
) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("elsewhere.example").configure_cert(ctx)
    port, _ = listen(reactor, ctx)
    client = Client(client_ctx, [], [b"never sent"])
    connect(reactor, port, client, host="localhost")
    reason = run_until(client.lost)
    assert isinstance(reason, error.TLSError)
    assert "localhost" in str(reason)
    port.stopListening()


def test_startTLS_twice_is_refused(
    reactor: Any, run_until: Any, client_ctx: ssl.SSLContext
) -> None:
    outcomes: list[str] = []
    made: Deferred[None] = Deferred()

    class Twice(Protocol):
        def connectionMade(self) -> None:
            self.transport.startTLS(client_ctx)
            for ctx in (client_ctx, None):
                try:
                    self.transport.startTLS(ctx)
                except RuntimeError as e:
                    outcomes.append(str(e))
            made.callback(None)

    port = reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
    connect(reactor, port, Twice())
    run_until(made)
    assert outcomes == ["TLS is already started on this connection"] * 2
    port.stopListening()


def test_startTLS_on_a_closing_connection_is_refused(
    reactor: Any, run_until: Any, server_ctx: ssl.SSLContext
) -> None:
    outcomes: list[str] = []

    class Closing(Protocol):
        def connectionMade(self) -> None:
            self.transport.loseConnection()
            try:
                self.transport.startTLS(server_ctx)
            except RuntimeError as e:
                outcomes.append(str(e))

    port = reactor.listenTCP(0, Factory.forProtocol(Closing), interface="127.0.0.1")
    lost: Deferred[Any] = Deferred()

    class Watch(Protocol):
        def dataReceived(self, data: bytes) -> None:
            outcomes.append("data")

        def connectionLost(self, reason: Any) -> None:
            lost.callback(reason.value)

    connect(reactor, port, Watch())
    assert isinstance(run_until(lost), error.ConnectionDone)
    assert outcomes == ["startTLS on a connection that is closing or closed"]
    port.stopListening()


def test_a_server_side_switch_needs_a_certificate(reactor: Any, run_until: Any) -> None:
    refused: Deferred[str] = Deferred()

    class NoCert(Protocol):
        def connectionMade(self) -> None:
            try:
                self.transport.startTLS(None)
            except ValueError as e:
                refused.callback(str(e))
            self.transport.write(b"still plain")  # a refused switch changed nothing

    port = reactor.listenTCP(0, Factory.forProtocol(NoCert), interface="127.0.0.1")
    got: Deferred[bytes] = Deferred()

    class Plain(Protocol):
        def dataReceived(self, data: bytes) -> None:
            got.callback(data)

    connect(reactor, port, Plain())
    assert "certificate" in run_until(refused)
    assert run_until(got) == b"still plain"
    port.stopListening()


# -- against Python's ssl module in a child process ---------------------------------------

PEER = textwrap.dedent(
    """
    import socket, ssl, sys
    port, cafile = int(sys.argv[1]), sys.argv[2]
    ctx = ssl.create_default_context(cafile=cafile)
    sock = socket.create_connection(("127.0.0.1", port))
    f = sock.makefile("rb")
    assert f.readline() == b"HELLO in clear\\r\\n"
    sock.sendall(b"STARTTLS\\r\\n")
    assert f.readline() == b"GO\\r\\n"
    tls = ctx.wrap_socket(sock, server_hostname="127.0.0.1")
    g = tls.makefile("rb")
    tls.sendall(b"from python\\r\\n")
    print(g.readline().decode().strip(), g.readline().decode().strip(), flush=True)
    tls.unwrap().close()
    """
)


class PeerOutput(ProcessProtocol):
    def __init__(self) -> None:
        self.out = b""
        self.err = b""
        self.ended: Deferred[Any] = Deferred()

    def outReceived(self, data: bytes) -> None:
        self.out += data

    def errReceived(self, data: bytes) -> None:
        self.err += data

    def processEnded(self, reason: Any) -> None:
        self.reason = reason
        self.ended.callback(self)


def test_python_ssl_module_as_the_client(
    reactor: Any, run_until: Any, server_ctx: ssl.SSLContext, ca: trustme.CA, tmp_path: Any
) -> None:
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    port, sf = listen(reactor, server_ctx)
    pp = PeerOutput()
    reactor.spawnProcess(
        pp,
        sys.executable,
        [sys.executable, "-c", PEER, str(port.getHost().port), str(cafile)],
        None,
    )
    # Both at once: stopping the reactor in between would end the child.
    run_until(gatherResults([pp.ended, sf.serverLost]))
    assert pp.reason.check(error.ProcessDone), pp.err.decode()
    assert pp.out == b"WELCOME in TLS ECHO FROM PYTHON\n"
    (server,) = sf.built
    assert server.secure == [b"from python"]
    # Its unwrap sent close_notify (and waited for ours): the server sent its own back.
    assert isinstance(run_until(server.lost), error.ConnectionDone)
    port.stopListening()
