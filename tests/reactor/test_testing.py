"""The fakes in logbot.reactor.testing behave like the real things they stand for."""

from __future__ import annotations

import pytest

from logbot.reactor import task
from logbot.reactor.address import IPv4Address, IPv6Address
from logbot.reactor.error import ConnectionAborted, ConnectionDone
from logbot.reactor.protocol import ClientFactory, Factory, ProcessProtocol, Protocol
from logbot.reactor.testing import (
    Clock,
    MemoryReactor,
    MemoryReactorClock,
    StringTransport,
    StringTransportWithDisconnection,
)

# -- StringTransport --------------------------------------------------------------------


def test_records_writes_until_cleared():
    t = StringTransport()
    t.write(b"a")
    t.writeSequence([b"b", b"c"])
    assert t.value() == b"abc"
    t.clear()
    assert t.value() == b""


def test_refuses_str():
    with pytest.raises(TypeError):
        StringTransport().write("text")


def test_loseConnection_only_marks_disconnecting():
    t = StringTransport()
    t.loseConnection()
    assert t.disconnecting
    t2 = StringTransport()
    t2.abortConnection()
    assert t2.disconnecting


def test_addresses_default_and_given():
    t = StringTransport()
    assert t.getPeer().type == "TCP" and isinstance(t.getPeer(), IPv4Address)
    assert t.getHost().port == 12345
    host, peer = IPv6Address("TCP", "::1", 6697), IPv4Address("TCP", "203.0.113.5", 40000)
    t = StringTransport(hostAddress=host, peerAddress=peer)
    assert (t.getHost(), t.getPeer()) == (host, peer)


def test_addresses_are_values():
    a = IPv4Address("TCP", "127.0.0.1", 1)
    same = IPv4Address("TCP", "127.0.0.1", 1)
    assert a == same and len({a, same}) == 1
    with pytest.raises(AttributeError):
        a.port = 2  # frozen
    with pytest.raises(ValueError):
        IPv4Address("SCTP", "127.0.0.1", 1)


def test_producer_registration_and_state():
    t = StringTransport()
    producer = object()
    t.registerProducer(producer, True)
    assert (t.producer, t.streaming) == (producer, True)
    with pytest.raises(RuntimeError):
        t.registerProducer(object(), True)
    t.unregisterProducer()
    assert t.producer is None
    with pytest.raises(RuntimeError):
        t.unregisterProducer()

    t.pauseProducing()
    assert t.producerState == "paused"
    t.resumeProducing()
    assert t.producerState == "producing"
    t.stopProducing()
    assert t.producerState == "stopped"
    with pytest.raises(RuntimeError):
        t.resumeProducing()


def test_with_disconnection_tells_the_protocol_once():
    reasons = []

    class P(Protocol):
        def connectionLost(self, reason):
            reasons.append(reason)

    t = StringTransportWithDisconnection()
    t.protocol = p = P()
    p.makeConnection(t)
    t.loseConnection()
    t.loseConnection()
    assert len(reasons) == 1 and reasons[0].check(ConnectionDone)
    assert t.disconnecting and not t.connected

    t2 = StringTransportWithDisconnection()
    t2.protocol = p
    t2.abortConnection()
    assert reasons[1].check(ConnectionAborted)


# -- MemoryReactor ----------------------------------------------------------------------


def test_records_tcp_and_ssl_calls_with_their_arguments():
    r = MemoryReactor()
    f = ClientFactory()
    port = r.listenTCP(6667, Factory(), interface="127.0.0.1")
    c = r.connectTCP("irc.example.org", 6667, f, timeout=10)
    r.listenSSL(6697, Factory(), "ctx")
    sc = r.connectSSL("::1", 6697, f, "ctx")
    assert r.tcpServers[0][0] == 6667 and r.tcpServers[0][3] == "127.0.0.1"
    assert r.tcpClients == [("irc.example.org", 6667, f, 10, None)]
    assert r.sslServers[0][:1] == (6697,) and r.sslServers[0][2] == "ctx"
    assert r.sslClients == [("::1", 6697, f, "ctx", 30, None)]
    assert r.connectors == [c, sc]
    assert port.getHost() == IPv4Address("TCP", "127.0.0.1", 6667)
    assert c.getDestination() == IPv4Address("TCP", "irc.example.org", 6667)
    assert sc.getDestination() == IPv6Address("TCP", "::1", 6697)


def test_fake_connector_counts_attempts_and_tells_the_factory():
    started = []

    class F(ClientFactory):
        def startedConnecting(self, connector):
            started.append(connector.connect_count)

    c = MemoryReactor().connectTCP("h", 1, F())
    c.connect()
    assert started == [1, 2] and c.state == "connecting"
    c.stopConnecting()
    assert c.stoppedConnecting and c.state == "disconnected"
    c.disconnect()
    assert c.disconnected


def test_stopListening_returns_a_fired_deferred():
    pytest.importorskip("logbot.reactor.defer")
    port = MemoryReactor().listenTCP(0, Factory())
    results = []
    port.stopListening().addCallback(results.append)
    assert results == [None] and not port.listening


def test_spawnProcess_records_and_connects_the_protocol():
    class PP(ProcessProtocol):
        def connectionMade(self):
            self.transport.write(b"input\n")
            self.transport.closeStdin()

    r = MemoryReactor()
    pp = PP()
    transport = r.spawnProcess(pp, "wc", ["wc"], {})
    assert r.spawnedProcesses == [(pp, "wc", ["wc"], {}, None, None)]
    assert pp.transport is transport and transport.written == {0: b"input\n"}
    assert 0 in transport.closed_fds
    transport.signalProcess("TERM")
    assert transport.signals == ["TERM"] and transport.pid is not None


def test_run_calls_hooks_and_thread_calls_then_stops_firing_shutdown_triggers():
    r = MemoryReactor()
    order = []
    r.callWhenRunning(order.append, "hook")
    r.callFromThread(order.append, "thread")
    assert order == []  # queued, never called at once
    for phase in ("after", "during", "before"):
        r.addSystemEventTrigger(phase, "shutdown", order.append, phase)
    with pytest.raises(ValueError):
        r.addSystemEventTrigger("later", "shutdown", order.append)
    r.run()
    assert order == ["hook", "thread", "before", "during", "after"]
    assert r.hasRun and r.hasStopped and not r.running
    r.stop()  # triggers fire once
    assert order[-1] == "after" and len(order) == 5


def test_callWhenRunning_while_running_calls_at_once():
    r = MemoryReactor()
    seen = []
    r.callWhenRunning(lambda: r.callWhenRunning(seen.append, "now"))
    r.run()
    assert seen == ["now"]


def test_memory_reactor_clock_is_a_clock():
    r = MemoryReactorClock()
    assert isinstance(r, task.Clock) and Clock is task.Clock
    seen = []
    r.callLater(5, seen.append, "later")
    r.callFromThread(seen.append, "thread")
    r.advance(0)
    assert seen == ["thread"]
    r.advance(5)
    assert seen == ["thread", "later"] and r.seconds() == 5
