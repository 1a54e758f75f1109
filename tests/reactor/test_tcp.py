"""The TCP contract, over real sockets on 127.0.0.1 (and ::1), on every backend.

Every test waits on Deferreds with ``run_until``; its timeout is a safety bound.
"""

from __future__ import annotations

import hashlib
import os
import resource
import socket
import threading
import time

import pytest

from logbot.reactor import defer, error, tcp
from logbot.reactor.address import IPv4Address, IPv6Address
from logbot.reactor.protocol import (
    ClientFactory,
    Factory,
    Protocol,
    ReconnectingClientFactory,
)
from tests.reactor.protocols import (
    Echo,
    OneProtocolFactory,
    Recorder,
    listen,
    server_factory,
)

MiB = 1024 * 1024


# -- helpers ----------------------------------------------------------------------------


def unused_refusing_port():
    """A port on 127.0.0.1 that refuses connections (bound, never listening)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


def stalled_listener():
    """A listening socket whose accept queue is full: further connects stall.

    Backlog 0 admits one pending connection (Linux: backlog + 1); a few more fill
    whatever the kernel allows.  Nothing is ever accepted.
    """
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    port = ls.getsockname()[1]
    fillers = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        fillers.append(s)
    return ls, port, fillers


def close_all(*socks):
    for s in socks:
        if isinstance(s, list):
            close_all(*s)
        else:
            s.close()


# -- echo and addresses -------------------------------------------------------------------


def test_echo(reactor, run_until):
    port = listen(reactor, server_factory(Echo))
    payload = b"".join(b"line %d\r\n" % i for i in range(1000))
    client = Recorder(expect=len(payload))
    f = OneProtocolFactory(client)
    reactor.connectTCP("127.0.0.1", port.getHost().port, f)
    run_until(client.made)
    client.transport.write(payload)
    assert run_until(client.got) == payload
    client.transport.loseConnection()
    reason = run_until(client.lost)
    assert isinstance(reason, error.ConnectionDone)
    assert f.events[0] == "startedConnecting"
    assert f.events[1][0] == "buildProtocol"
    assert f.events[2:] == ["clientConnectionLost"]


def test_writeSequence_sends_the_pieces_in_order(reactor, run_until):
    port = listen(reactor, server_factory(Echo))
    client = Recorder(expect=9)
    reactor.connectTCP("127.0.0.1", port.getHost().port, OneProtocolFactory(client))
    run_until(client.made)
    client.transport.writeSequence([b"abc", b"def", b"ghi"])
    assert run_until(client.got) == b"abcdefghi"


def test_write_refuses_str(reactor, run_until):
    port = listen(reactor, server_factory(Echo))
    client = Recorder()
    reactor.connectTCP("127.0.0.1", port.getHost().port, OneProtocolFactory(client))
    run_until(client.made)
    with pytest.raises(TypeError, match="bytes"):
        client.transport.write("text")


def test_getPeer_and_getHost_are_IPv4Address_on_both_sides(reactor, run_until):
    seen = defer.Deferred()

    class Server(Protocol):
        def connectionMade(self):
            seen.callback((self.transport.getHost(), self.transport.getPeer()))

    port = listen(reactor, server_factory(Server))
    assert port.getHost() == IPv4Address("TCP", "127.0.0.1", port.getHost().port)
    client = Recorder()
    f = OneProtocolFactory(client)
    reactor.connectTCP("127.0.0.1", port.getHost().port, f)
    run_until(client.made)
    s_host, s_peer = run_until(seen)
    c_host, c_peer = client.transport.getHost(), client.transport.getPeer()
    assert isinstance(c_peer, IPv4Address) and c_peer.type == "TCP"
    assert c_peer == s_host == IPv4Address("TCP", "127.0.0.1", port.getHost().port)
    assert c_host == s_peer
    assert f.events[1] == ("buildProtocol", c_peer)


def test_ipv6_connect_to_loopback(reactor, run_until):
    try:
        port = reactor.listenTCP(0, server_factory(Echo), interface="::1")
    except OSError as e:
        pytest.skip(f"no IPv6 loopback here: {e}")
    portno = port.getHost().port
    assert port.getHost() == IPv6Address("TCP", "::1", portno)
    client = Recorder(expect=4)
    f = OneProtocolFactory(client)
    reactor.connectTCP("::1", portno, f)
    run_until(client.made)
    peer, host = client.transport.getPeer(), client.transport.getHost()
    assert isinstance(peer, IPv6Address) and isinstance(host, IPv6Address)
    assert (peer.type, peer.host, peer.port) == ("TCP", "::1", portno)
    assert host.host == "::1" and host.port != portno
    client.transport.write(b"ping")
    assert run_until(client.got) == b"ping"


def test_connector_getDestination_and_state(reactor, run_until):
    port = listen(reactor, server_factory(Echo))
    client = Recorder()
    c = reactor.connectTCP("127.0.0.1", port.getHost().port, OneProtocolFactory(client))
    assert c.getDestination() == IPv4Address("TCP", "127.0.0.1", port.getHost().port)
    assert c.state == "connecting"
    run_until(client.made)
    assert c.state == "connected"
    c.disconnect()
    assert isinstance(run_until(client.lost), error.ConnectionDone)
    assert c.state == "disconnected"


# -- many connections ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("reactor", ["epoll", "poll"], indirect=True)  # select: test_backends
def test_thousands_of_concurrent_connections_all_echo(reactor, run_until):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = hard if hard != resource.RLIM_INFINITY else 20000
    n = min(9000, (limit - 400) // 2)  # both ends live in this process
    if n < 3000:
        pytest.skip(f"the open-file limit ({hard}) is too low for 3,000 connections")
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        _many_connections(reactor, run_until, n)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _many_connections(reactor, run_until, n):
    state = {"open": 0, "max": 0, "echoed": 0, "closed": 0}
    all_echoed = defer.Deferred()
    all_closed = defer.Deferred()

    class Server(Echo):
        def connectionMade(self):
            state["open"] += 1
            state["max"] = max(state["max"], state["open"])

        def connectionLost(self, reason):
            state["open"] -= 1
            if state["open"] == 0 and all_echoed.called:
                all_closed.callback(None)

    clients = []

    class Client(Protocol):
        def __init__(self, i):
            self.msg = b"hello from client %d\n" % i
            self.buf = b""

        def connectionMade(self):
            self.transport.write(self.msg)

        def dataReceived(self, data):
            self.buf += data
            if self.buf == self.msg:
                state["echoed"] += 1
                if state["echoed"] == n:
                    all_echoed.callback(None)

    class CF(ClientFactory):
        def __init__(self, i):
            self.i = i

        def buildProtocol(self, addr):
            p = Client(self.i)
            clients.append(p)
            return p

        def clientConnectionFailed(self, connector, reason):
            if not all_echoed.called:
                all_echoed.errback(reason)

    port = listen(reactor, server_factory(Server), backlog=4096)
    portno = port.getHost().port
    for i in range(n):
        reactor.connectTCP("127.0.0.1", portno, CF(i))
    run_until(all_echoed, timeout=120)
    assert state["echoed"] == n
    assert state["max"] == n  # every connection was open at the same time
    assert max(c.transport.fileno() for c in clients) > 1024
    for c in clients:
        c.transport.loseConnection()
    run_until(all_closed, timeout=60)
    assert state["open"] == 0


# -- large writes and flow control ------------------------------------------------------------


class Streamer(Protocol):
    """Writes ``data`` as a streaming producer, ``chunk`` bytes per write."""

    chunk = 64 * 1024

    def __init__(self, data):
        self.payload = data
        self.sent = 0
        self.paused = False
        self.pauses = 0
        self.resumes = 0
        self.maxBuffered = 0
        self.writesWhilePaused = 0
        self.stopped = False
        self.lost = defer.Deferred()

    def connectionMade(self):
        sock = self.transport.getHandle()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
        self.transport.registerProducer(self, True)
        self.resumeProducing()

    def pauseProducing(self):
        self.paused = True
        self.pauses += 1

    def resumeProducing(self):
        self.paused = False
        self.resumes += 1
        while not self.paused and self.sent < len(self.payload):
            piece = self.payload[self.sent : self.sent + self.chunk]
            self.sent += len(piece)
            self.transport.write(piece)
            # The transport's own buffer (there is no public accessor for it).
            self.maxBuffered = max(self.maxBuffered, len(self.transport._buf))
        if self.sent == len(self.payload) and self.transport.producer is self:
            self.transport.unregisterProducer()
            self.transport.loseConnection()

    def stopProducing(self):
        self.stopped = True

    def connectionLost(self, reason):
        self.lost.callback(reason.value)


class SlowReader(Protocol):
    """Pauses reading after every chunk and resumes a little later (callLater)."""

    def __init__(self, reactor, pause=0.002):
        self.reactor = reactor
        self.pause = pause
        self.hash = hashlib.sha256()
        self.received = 0
        self.reads = 0
        self.lost = defer.Deferred()

    def connectionMade(self):
        self.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)

    def dataReceived(self, data):
        self.hash.update(data)
        self.received += len(data)
        self.reads += 1
        self.transport.pauseProducing()
        self.reactor.callLater(self.pause, self.transport.resumeProducing)

    def connectionLost(self, reason):
        self.lost.callback(reason.value)


def test_10MiB_through_a_slow_reader_loses_nothing_and_bounds_the_buffer(reactor, run_until):
    payload = os.urandom(10 * MiB)
    streamers = []

    class SF(Factory):
        def buildProtocol(self, addr):
            s = Streamer(payload)
            streamers.append(s)
            return s

    port = listen(reactor, SF())
    reader = SlowReader(reactor)
    reactor.connectTCP("127.0.0.1", port.getHost().port, OneProtocolFactory(reader))
    reason = run_until(reader.lost, timeout=120)
    (s,) = streamers
    assert isinstance(reason, error.ConnectionDone)
    assert isinstance(run_until(s.lost), error.ConnectionDone)
    assert reader.received == len(payload)
    assert reader.hash.digest() == hashlib.sha256(payload).digest()
    # Flow control really happened, and memory stayed within the high-water mark.
    assert s.pauses >= 1 and s.resumes >= 2
    assert s.writesWhilePaused == 0
    assert s.maxBuffered <= tcp.HIGH_WATER + Streamer.chunk
    assert not s.stopped  # unregistered before closing: never told to stop


def test_pull_producer_is_asked_for_more_each_time_the_buffer_drains(reactor, run_until):
    payload = os.urandom(2 * MiB)
    pieces = [payload[i : i + 100_000] for i in range(0, len(payload), 100_000)]
    stats = {"asked": 0, "maxBuffered": 0}

    class Pull(Protocol):
        def connectionMade(self):
            self.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
            self.todo = list(pieces)
            self.transport.registerProducer(self, False)  # asks for the first piece

        def resumeProducing(self):
            stats["asked"] += 1
            if self.todo:
                self.transport.write(self.todo.pop(0))
                stats["maxBuffered"] = max(stats["maxBuffered"], len(self.transport._buf))
            else:
                self.transport.unregisterProducer()
                self.transport.loseConnection()

        def stopProducing(self):
            pass

    port = listen(reactor, server_factory(Pull))
    reader = SlowReader(reactor, pause=0.001)
    reactor.connectTCP("127.0.0.1", port.getHost().port, OneProtocolFactory(reader))
    assert isinstance(run_until(reader.lost, timeout=60), error.ConnectionDone)
    assert reader.received == len(payload)
    assert reader.hash.digest() == hashlib.sha256(payload).digest()
    assert stats["asked"] == len(pieces) + 1
    assert stats["maxBuffered"] <= 100_000


def test_pull_producer_of_small_pieces_that_are_sent_at_once_is_asked_again(reactor, run_until):
    """Each piece leaves in write() itself, so nothing is ever buffered: the transport
    must still come back for the next piece (it once waited forever here)."""
    pieces = [bytes([i]) * 100 for i in range(200)]
    asked = []

    class Pull(Protocol):
        def connectionMade(self):
            self.todo = list(pieces)
            self.transport.registerProducer(self, False)

        def resumeProducing(self):
            asked.append(len(self.todo))
            if self.todo:
                self.transport.write(self.todo.pop(0))
            else:
                self.transport.unregisterProducer()
                self.transport.loseConnection()

        def stopProducing(self):
            pass

    port = listen(reactor, server_factory(Pull))
    reader = SlowReader(reactor, pause=0)
    reactor.connectTCP("127.0.0.1", port.getHost().port, OneProtocolFactory(reader))
    assert isinstance(run_until(reader.lost, timeout=20), error.ConnectionDone)
    assert reader.received == sum(map(len, pieces))
    assert len(asked) == len(pieces) + 1


def test_loseConnection_flushes_everything_before_closing(reactor, run_until):
    payload = os.urandom(4 * MiB)
    server_lost = defer.Deferred()

    class Sender(Protocol):
        def connectionMade(self):
            self.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
            self.transport.write(payload)
            self.transport.loseConnection()
            self.transport.write(b"written after loseConnection: dropped")

        def connectionLost(self, reason):
            server_lost.callback(reason.value)

    port = listen(reactor, server_factory(Sender))
    reader = SlowReader(reactor, pause=0.001)
    reactor.connectTCP("127.0.0.1", port.getHost().port, OneProtocolFactory(reader))
    assert isinstance(run_until(reader.lost, timeout=60), error.ConnectionDone)
    assert reader.received == len(payload)
    assert reader.hash.digest() == hashlib.sha256(payload).digest()
    assert isinstance(run_until(server_lost), error.ConnectionDone)


def test_abortConnection_drops_the_buffer_and_closes_at_once(reactor, run_until):
    payload = os.urandom(8 * MiB)
    server_lost = defer.Deferred()
    calls = []

    class Aborter(Protocol):
        def connectionMade(self):
            self.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
            self.transport.write(payload)
            assert len(self.transport._buf) > 0  # most of it is still ours
            self.transport.abortConnection()
            calls.append("aborted")
            self.transport.write(b"ignored")
            self.transport.abortConnection()  # twice is harmless

        def connectionLost(self, reason):
            calls.append("connectionLost")
            server_lost.callback(reason.value)

    port = listen(reactor, server_factory(Aborter))
    reader = Recorder()
    reactor.connectTCP("127.0.0.1", port.getHost().port, OneProtocolFactory(reader))
    reason = run_until(server_lost)
    assert isinstance(reason, error.ConnectionAborted)
    assert calls == [
        "aborted",
        "connectionLost",
    ]  # not re-entrantly from abortConnection
    run_until(reader.lost)
    assert len(reader.data) < len(payload)
    assert bytes(reader.data) == payload[: len(reader.data)]


def test_peer_eof_closes_a_plain_protocol_with_ConnectionDone(reactor, run_until):
    server_lost = defer.Deferred()

    class Server(Protocol):
        def connectionLost(self, reason):
            server_lost.callback(reason.value)

    port = listen(reactor, server_factory(Server))
    client = Recorder()
    reactor.connectTCP("127.0.0.1", port.getHost().port, OneProtocolFactory(client))
    run_until(client.made)
    client.transport.loseConnection()
    assert isinstance(run_until(server_lost), error.ConnectionDone)
    assert isinstance(run_until(client.lost), error.ConnectionDone)


def test_half_close_reader_gets_eof_and_can_still_write(reactor, run_until):
    server_events = []
    server_lost = defer.Deferred()

    class Server(Protocol):
        """Sends a request, half-closes, then reads the reply until the client closes."""

        def connectionMade(self):
            self.data = b""
            self.transport.write(b"question")
            self.transport.loseWriteConnection()

        def writeConnectionLost(self):
            server_events.append("writeConnectionLost")

        def readConnectionLost(self):
            server_events.append("readConnectionLost")

        def dataReceived(self, data):
            self.data += data

        def connectionLost(self, reason):
            server_events.append(("connectionLost", self.data, type(reason.value)))
            server_lost.callback(None)

    class Client(Recorder):
        def readConnectionLost(self):
            self.events.append(("readConnectionLost", bytes(self.data)))
            # The read side is closed; the write side still works.
            self.transport.write(b"answer after EOF")
            self.transport.loseWriteConnection()

        def writeConnectionLost(self):
            self.events.append("writeConnectionLost")

    client = Client()
    client.events = []
    port = listen(reactor, server_factory(Server))
    reactor.connectTCP("127.0.0.1", port.getHost().port, OneProtocolFactory(client))
    run_until(server_lost)
    reason = run_until(client.lost)
    assert client.events == [("readConnectionLost", b"question"), "writeConnectionLost"]
    assert isinstance(reason, error.ConnectionDone)
    assert server_events[0] == "writeConnectionLost"
    assert "readConnectionLost" in server_events
    assert server_events[-1] == (
        "connectionLost",
        b"answer after EOF",
        error.ConnectionDone,
    )


# -- connecting: failures, timeouts, names ----------------------------------------------------


def test_connection_refused_reaches_clientConnectionFailed(reactor, run_until):
    s, portno = unused_refusing_port()
    try:
        client = Recorder()
        f = OneProtocolFactory(client)
        c = reactor.connectTCP("127.0.0.1", portno, f)
        reason = run_until(f.failed)
    finally:
        s.close()
    assert isinstance(reason, error.ConnectionRefusedError)
    assert isinstance(reason, error.ConnectError)
    assert "refused" in str(reason).lower()
    assert f.events == ["startedConnecting", "clientConnectionFailed"]
    assert not client.made.called
    assert c.state == "disconnected"


def test_connect_timeout_reaches_clientConnectionFailed(reactor, run_until):
    ls, portno, fillers = stalled_listener()
    try:
        f = OneProtocolFactory(Recorder())
        start = time.monotonic()
        reactor.connectTCP("127.0.0.1", portno, f, timeout=0.3)
        reason = run_until(f.failed)
        elapsed = time.monotonic() - start
    finally:
        close_all(ls, fillers)
    assert isinstance(reason, error.TimeoutError)
    assert "0.3" in str(reason)
    assert 0.3 <= elapsed < 5
    assert f.events == ["startedConnecting", "clientConnectionFailed"]


def test_stopConnecting_aborts_a_stalled_attempt(reactor, run_until):
    ls, portno, fillers = stalled_listener()
    try:
        f = OneProtocolFactory(Recorder())
        c = reactor.connectTCP("127.0.0.1", portno, f, timeout=10)
        reactor.callLater(0.05, c.stopConnecting)
        reason = run_until(f.failed)
    finally:
        close_all(ls, fillers)
    assert isinstance(reason, error.UserError)
    assert c.state == "disconnected"
    with pytest.raises(RuntimeError):
        c.stopConnecting()


def test_connector_can_connect_again_after_a_failure(reactor, run_until):
    s, portno = unused_refusing_port()
    s.close()
    f = OneProtocolFactory(Recorder())
    c = reactor.connectTCP("127.0.0.1", portno, f)
    assert isinstance(run_until(f.failed), error.ConnectionRefusedError)
    port = reactor.listenTCP(portno, server_factory(Echo), interface="127.0.0.1")
    try:
        client = Recorder()
        f2 = OneProtocolFactory(client)
        c.factory = f2
        c.connect()
        run_until(client.made)
    finally:
        port.stopListening()


def test_localhost_is_resolved_in_another_thread(reactor, run_until, monkeypatch):
    threads = []
    real = socket.getaddrinfo

    def recording_getaddrinfo(*a, **kw):
        threads.append(threading.get_ident())
        return real(*a, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", recording_getaddrinfo)
    d = reactor.resolve("localhost", 80)
    assert not d.called  # answered later, from the resolver thread
    addresses = run_until(d)
    assert (socket.AF_INET, ("127.0.0.1", 80)) in addresses
    assert threads and threading.get_ident() not in threads

    port = listen(reactor, server_factory(Echo))
    client = Recorder(expect=2)
    reactor.connectTCP("localhost", port.getHost().port, OneProtocolFactory(client))
    run_until(client.made)
    client.transport.write(b"hi")
    assert run_until(client.got) == b"hi"
    assert client.transport.getPeer().host == "127.0.0.1"
    assert len(threads) == 2 and threading.get_ident() not in threads


def test_ip_literals_are_not_looked_up(reactor, monkeypatch):
    def no_lookup(*a, **kw):
        raise AssertionError("getaddrinfo called for an IP literal")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    d = reactor.resolve("127.0.0.1", 6667)
    assert d.called and d.result == [(socket.AF_INET, ("127.0.0.1", 6667))]
    d6 = reactor.resolve("::1", 6667)
    assert d6.called and d6.result[0][0] == socket.AF_INET6


def test_failed_lookup_reaches_clientConnectionFailed_as_DNSLookupError(
    reactor, run_until, monkeypatch
):
    def gaierror(host, *a, **kw):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", gaierror)
    f = OneProtocolFactory(Recorder())
    reactor.connectTCP("no-such-host.invalid", 6667, f)
    reason = run_until(f.failed)
    assert isinstance(reason, error.DNSLookupError)
    assert "no-such-host.invalid" in str(reason)


def test_every_resolved_address_is_tried_in_turn(reactor, run_until, monkeypatch):
    s, refusing = unused_refusing_port()
    port = listen(reactor, server_factory(Echo))
    good = port.getHost().port
    # The name resolves to a refusing address first, then to the listening one.
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, p, *a, **kw: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", refusing)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", good)),
        ],
    )
    try:
        client = Recorder()
        reactor.connectTCP("two-addresses.test", good, OneProtocolFactory(client))
        run_until(client.made)
        assert client.transport.getPeer().port == good
    finally:
        s.close()


# -- listening ---------------------------------------------------------------------------


def test_listen_on_a_busy_port_raises_a_readable_error(reactor):
    port = listen(reactor, server_factory(Echo))
    portno = port.getHost().port
    with pytest.raises(OSError, match=f"127.0.0.1:{portno}"):
        reactor.listenTCP(portno, server_factory(Echo), interface="127.0.0.1")


def test_stopListening_stops_the_factory_and_refuses_new_connections(reactor, run_until):
    events = []

    class F(Factory):
        protocol = Echo

        def startFactory(self):
            events.append("start")

        def stopFactory(self):
            events.append("stop")

    port = listen(reactor, F())
    portno = port.getHost().port
    assert events == ["start"]
    run_until(port.stopListening())
    assert events == ["start", "stop"]
    f = OneProtocolFactory(Recorder())
    reactor.connectTCP("127.0.0.1", portno, f)
    assert isinstance(run_until(f.failed), error.ConnectionRefusedError)


def test_factory_returning_None_refuses_the_connection(reactor, run_until):
    class Refuse(Factory):
        def buildProtocol(self, addr):
            return None

    port = listen(reactor, Refuse())
    client = Recorder()
    reactor.connectTCP("127.0.0.1", port.getHost().port, OneProtocolFactory(client))
    assert isinstance(run_until(client.lost), error.ConnectionClosed)


# -- errors in protocol callbacks ----------------------------------------------------------


def test_exception_in_dataReceived_closes_that_connection_only(reactor, run_until, caplog):
    class Fragile(Echo):
        def dataReceived(self, data):
            if b"boom" in data:
                raise ValueError("protocol exploded on boom")
            Echo.dataReceived(self, data)

    port = listen(reactor, server_factory(Fragile))
    portno = port.getHost().port
    victim, survivor = Recorder(), Recorder(expect=5)
    reactor.connectTCP("127.0.0.1", portno, OneProtocolFactory(victim))
    reactor.connectTCP("127.0.0.1", portno, OneProtocolFactory(survivor))
    run_until(defer.gatherResults([victim.made, survivor.made]))
    victim.transport.write(b"boom")
    run_until(victim.lost)
    assert "protocol exploded on boom" in caplog.text
    assert "Traceback" in caplog.text and "dataReceived" in caplog.text
    survivor.transport.write(b"still")
    assert run_until(survivor.got) == b"still"


def test_exception_in_connectionMade_closes_that_connection_only(reactor, run_until, caplog):
    count = []

    class FailsFirst(Echo):
        def connectionMade(self):
            count.append(1)
            if len(count) == 1:
                raise RuntimeError("connectionMade failed")

    port = listen(reactor, server_factory(FailsFirst))
    portno = port.getHost().port
    first = Recorder()
    reactor.connectTCP("127.0.0.1", portno, OneProtocolFactory(first))
    run_until(first.lost)
    assert "connectionMade failed" in caplog.text
    second = Recorder(expect=2)
    reactor.connectTCP("127.0.0.1", portno, OneProtocolFactory(second))
    run_until(second.made)
    second.transport.write(b"ok")
    assert run_until(second.got) == b"ok"


def test_exception_in_client_connectionLost_is_logged(reactor, run_until, caplog):
    port = listen(reactor, server_factory(Echo))
    client = Recorder()

    def broken(reason):
        client.lost.callback(reason.value)
        raise RuntimeError("connectionLost broke")

    client.connectionLost = broken
    f = OneProtocolFactory(client)
    reactor.connectTCP("127.0.0.1", port.getHost().port, f)
    run_until(client.made)
    client.transport.loseConnection()
    run_until(f.clientLost)  # the connector still hears about it
    assert "connectionLost broke" in caplog.text


# -- reconnecting -----------------------------------------------------------------------------


def test_ReconnectingClientFactory_reconnects_after_the_server_drops_it(reactor, run_until):
    accepted = []

    class DropFirstTwo(Protocol):
        def connectionMade(self):
            accepted.append(self)
            if len(accepted) <= 2:
                self.transport.loseConnection()

    port = listen(reactor, server_factory(DropFirstTwo))
    third = defer.Deferred()
    built = []

    class Client(Protocol):
        def connectionMade(self):
            built.append(self)
            if len(built) == 3:
                third.callback(self)

    class RCF(ReconnectingClientFactory):
        protocol = Client
        initialDelay = 0.01
        factor = 1.5
        jitter = 0
        clock = reactor

        def __init__(self):
            self.lost = []

        def clientConnectionLost(self, connector, reason):
            self.lost.append((connector, type(reason.value)))
            ReconnectingClientFactory.clientConnectionLost(self, connector, reason)

    f = RCF()
    c = reactor.connectTCP("127.0.0.1", port.getHost().port, f)
    run_until(third)
    assert len(accepted) == 3 and len(built) == 3
    assert f.lost == [(c, error.ConnectionDone), (c, error.ConnectionDone)]
    assert f.retries == 2
    assert f.delay == pytest.approx(0.01 * 1.5 * 1.5)
    f.stopTrying()
    c.disconnect()


def test_ReconnectingClientFactory_retries_a_refused_connection(reactor, run_until):
    s, portno = unused_refusing_port()
    s.close()
    made = defer.Deferred()

    class Client(Protocol):
        def connectionMade(self):
            made.callback(self)

    class RCF(ReconnectingClientFactory):
        protocol = Client
        initialDelay = 0.01
        jitter = 0
        clock = reactor

        def __init__(self):
            self.failures = 0

        def clientConnectionFailed(self, connector, reason):
            self.failures += 1
            if self.failures == 2:  # now start the server the client keeps trying
                self.port = reactor.listenTCP(portno, server_factory(Echo), interface="127.0.0.1")
            ReconnectingClientFactory.clientConnectionFailed(self, connector, reason)

    f = RCF()
    reactor.connectTCP("127.0.0.1", portno, f)
    run_until(made)
    assert f.failures == 2
    f.stopTrying()


def test_connector_connect_from_clientConnectionLost_reconnects(reactor, run_until):
    """The seed's ircLogBot reconnects with ``connector.connect()`` in
    ``clientConnectionLost``; the same connector and factory serve again."""
    accepted = []

    class DropFirst(Protocol):
        def connectionMade(self):
            accepted.append(self)
            if len(accepted) == 1:
                self.transport.loseConnection()

    port = listen(reactor, server_factory(DropFirst))
    second = defer.Deferred()
    events = []

    class Client(Protocol):
        def connectionMade(self):
            events.append("connectionMade")
            if len(accepted) >= 1 and events.count("connectionMade") == 2:
                second.callback(None)

    class CF(ClientFactory):
        protocol = Client

        def startFactory(self):
            events.append("startFactory")

        def stopFactory(self):
            events.append("stopFactory")

        def clientConnectionLost(self, connector, reason):
            events.append("clientConnectionLost")
            connector.connect()

    c = reactor.connectTCP("127.0.0.1", port.getHost().port, CF())
    run_until(second)
    assert events == [
        "startFactory",
        "connectionMade",
        "clientConnectionLost",
        "connectionMade",
    ]
    assert c.state == "connected"


def test_peer_reset_while_reading_is_ConnectionLost(reactor, run_until):
    made, lost = defer.Deferred(), defer.Deferred()

    class Server(Protocol):
        def connectionMade(self):
            made.callback(None)

        def connectionLost(self, reason):
            lost.callback(reason.value)

    port = listen(reactor, server_factory(Server))
    client = socket.create_connection(("127.0.0.1", port.getHost().port), timeout=5)
    try:
        run_until(made)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    finally:
        client.close()  # linger 0: an RST, not a FIN
    reason = run_until(lost)
    assert isinstance(reason, error.ConnectionLost)
    assert not isinstance(reason, error.ConnectionDone)


def test_write_to_a_reset_peer_loses_the_connection_on_a_later_turn(reactor, run_until):
    made, lost = defer.Deferred(), defer.Deferred()
    state = {"inWrite": False, "lostInWrite": False, "writes": 0}

    class Server(Protocol):
        def connectionMade(self):
            self.transport.pauseProducing()  # not reading: only a write can notice
            made.callback(self)

        def connectionLost(self, reason):
            state["lostInWrite"] = state["inWrite"]
            lost.callback(reason.value)

    port = listen(reactor, server_factory(Server))
    client = socket.create_connection(("127.0.0.1", port.getHost().port), timeout=5)
    try:
        server = run_until(made)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    finally:
        client.close()

    def keep_writing():
        if lost.called:
            return
        state["inWrite"] = True
        try:
            server.transport.write(b"x" * 1000)
        finally:
            state["inWrite"] = False
        state["writes"] += 1
        reactor.callLater(0.01, keep_writing)

    reactor.callLater(0, keep_writing)
    reason = run_until(lost)
    assert isinstance(reason, error.ConnectionLost)
    assert not state["lostInWrite"]


def test_client_buildProtocol_raising_fails_the_attempt(reactor, run_until, caplog):
    port = listen(reactor, server_factory(Echo))

    class Broken(OneProtocolFactory):
        def buildProtocol(self, addr):
            raise LookupError("client factory broke")

    f = Broken(Recorder())
    c = reactor.connectTCP("127.0.0.1", port.getHost().port, f)
    reason = run_until(f.failed)
    assert isinstance(reason, LookupError)
    assert "client factory broke" in caplog.text
    assert c.state == "disconnected"  # free to connect() again
