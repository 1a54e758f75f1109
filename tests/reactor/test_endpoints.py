"""Endpoints over real TCP on every backend: TCP4ServerEndpoint, TCP4ClientEndpoint,
connectProtocol, failures and cancellation."""

from __future__ import annotations

import socket
import time

import pytest

from logbot.reactor import defer, error
from logbot.reactor.endpoints import (
    TCP4ClientEndpoint,
    TCP4ServerEndpoint,
    connectProtocol,
)
from logbot.reactor.protocol import Factory, Protocol
from tests.reactor.protocols import Recorder


class Echo(Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


def listen(reactor, run_until, factory):
    return run_until(TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory))


def test_server_endpoint_listens_and_client_endpoint_connects(reactor, run_until):
    port = listen(reactor, run_until, Factory.forProtocol(Echo))
    ep = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    p = run_until(ep.connect(Factory.forProtocol(Recorder)))
    assert isinstance(p, Recorder)
    assert p.made.called  # connected before the Deferred fires
    p.expect = 3
    p.transport.write(b"abc")
    assert run_until(p.got) == b"abc"


def test_connectProtocol_uses_the_given_instance(reactor, run_until):
    port = listen(reactor, run_until, Factory.forProtocol(Echo))
    mine = Recorder(expect=2)
    ep = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    p = run_until(connectProtocol(ep, mine))
    assert p is mine
    assert mine.transport.protocol is mine  # no wrapper left between them
    mine.transport.write(b"hi")
    assert run_until(mine.got) == b"hi"
    mine.transport.loseConnection()
    assert isinstance(run_until(mine.lost), error.ConnectionDone)


def test_client_endpoint_refused_errbacks(reactor, run_until):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    try:
        ep = TCP4ClientEndpoint(reactor, "127.0.0.1", s.getsockname()[1])
        with pytest.raises(error.ConnectionRefusedError):
            run_until(connectProtocol(ep, Recorder()))
    finally:
        s.close()


def test_client_endpoint_timeout_errbacks(reactor, run_until):
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    portno = ls.getsockname()[1]
    fillers = []
    for _ in range(4):
        f = socket.socket()
        f.setblocking(False)
        f.connect_ex(("127.0.0.1", portno))
        fillers.append(f)
    try:
        ep = TCP4ClientEndpoint(reactor, "127.0.0.1", portno, timeout=0.2)
        start = time.monotonic()
        with pytest.raises(error.TimeoutError):
            run_until(connectProtocol(ep, Recorder()))
        assert time.monotonic() - start >= 0.2
    finally:
        for s in [ls, *fillers]:
            s.close()


def test_cancelling_a_connect_in_progress(reactor, run_until):
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    portno = ls.getsockname()[1]
    fillers = []
    for _ in range(4):
        f = socket.socket()
        f.setblocking(False)
        f.connect_ex(("127.0.0.1", portno))
        fillers.append(f)
    try:
        ep = TCP4ClientEndpoint(reactor, "127.0.0.1", portno, timeout=10)
        d = connectProtocol(ep, Recorder())
        reactor.callLater(0.05, d.cancel)
        start = time.monotonic()
        with pytest.raises(defer.CancelledError):
            run_until(d)
        assert time.monotonic() - start < 5
        assert reactor.getWriters() == []  # the attempt's socket is no longer watched
    finally:
        for s in [ls, *fillers]:
            s.close()


def test_factory_returning_None_errbacks(reactor, run_until):
    port = listen(reactor, run_until, Factory.forProtocol(Echo))

    class Nothing(Factory):
        def buildProtocol(self, addr):
            return None

    ep = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    with pytest.raises(error.ConnectError):
        run_until(ep.connect(Nothing()))


def test_buildProtocol_raising_errbacks_with_that_error(reactor, run_until):
    port = listen(reactor, run_until, Factory.forProtocol(Echo))

    class Broken(Factory):
        def buildProtocol(self, addr):
            raise LookupError("no protocol today")

    ep = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    with pytest.raises(LookupError, match="no protocol today"):
        run_until(ep.connect(Broken()))


def test_TCP4ClientEndpoint_resolves_localhost_to_IPv4_only(reactor, run_until, monkeypatch):
    families = []
    real = socket.getaddrinfo

    def recording(host, port, family=0, *a, **kw):
        families.append(family)
        return real(host, port, family, *a, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    port = listen(reactor, run_until, Factory.forProtocol(Echo))
    ep = TCP4ClientEndpoint(reactor, "localhost", port.getHost().port)
    p = run_until(connectProtocol(ep, Recorder()))
    assert families == [socket.AF_INET]
    assert p.transport.getPeer().host == "127.0.0.1"


def test_TCP4ClientEndpoint_refuses_an_IPv6_literal(reactor, run_until):
    ep = TCP4ClientEndpoint(reactor, "::1", 6667)
    with pytest.raises(error.DNSLookupError):
        run_until(connectProtocol(ep, Recorder()))


def test_server_endpoint_on_a_busy_port_errbacks(reactor, run_until):
    port = listen(reactor, run_until, Factory.forProtocol(Echo))
    ep = TCP4ServerEndpoint(reactor, port.getHost().port, interface="127.0.0.1")
    with pytest.raises(OSError, match=str(port.getHost().port)):
        run_until(ep.listen(Factory.forProtocol(Echo)))
