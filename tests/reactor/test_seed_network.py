"""The seed's network programs (section 3), written again against logbot's names.

* the chat server: a ``LineReceiver`` per user, a factory holding the users, names
  asked for and refused when taken, messages relayed to everyone else;
* the single-use client: ``TCP4ClientEndpoint`` + ``connectProtocol`` + ``callLater``
  sending a message now, another later, then ``loseConnection`` (the seed waits a
  second; here 0.05 s and 0.1 s, the order and the gap are what is checked);
* the ``ClientFactory`` client: ``startedConnecting``, ``buildProtocol``,
  ``clientConnectionLost`` (and ``clientConnectionFailed`` when nobody listens).

Each runs on every backend, over real sockets on 127.0.0.1.
"""

from __future__ import annotations

import io
import socket

from logbot.reactor import defer, error
from logbot.reactor.basic import LineReceiver
from logbot.reactor.endpoints import TCP4ClientEndpoint, connectProtocol
from logbot.reactor.protocol import ClientFactory, Factory, Protocol
from tests.reactor.seed_chat import ChatFactory

# -- the chat server -----------------------------------------------------------------------


class ChatClient(LineReceiver):
    """A test user: records lines; ``waitFor(n)`` fires once ``n`` lines arrived."""

    def __init__(self):
        self.lines = []
        self._waiting = []
        self.lost = defer.Deferred()

    def lineReceived(self, line):
        self.lines.append(line)
        for n, d in list(self._waiting):
            if len(self.lines) >= n:
                self._waiting.remove((n, d))
                d.callback(list(self.lines))

    def waitFor(self, n):
        d = defer.Deferred()
        if len(self.lines) >= n:
            d.callback(list(self.lines))
        else:
            self._waiting.append((n, d))
        return d

    def connectionLost(self, reason):
        self.lost.callback(reason.value)


def join(reactor, run_until, portno):
    ep = TCP4ClientEndpoint(reactor, "127.0.0.1", portno)
    client = run_until(connectProtocol(ep, ChatClient()))
    assert run_until(client.waitFor(1)) == [b"What's your name?"]
    return client


def test_chat_names_and_relay(reactor, run_until):
    factory = ChatFactory()
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    portno = port.getHost().port

    alice = join(reactor, run_until, portno)
    alice.sendLine(b"alice")
    assert run_until(alice.waitFor(2))[1] == b"Welcome, alice!"

    bob = join(reactor, run_until, portno)
    bob.sendLine(b"alice")
    assert run_until(bob.waitFor(2))[1] == b"Name taken, please choose another."
    bob.sendLine(b"bob")
    assert run_until(bob.waitFor(3))[2] == b"Welcome, bob!"

    carol = join(reactor, run_until, portno)
    carol.sendLine(b"carol")
    assert run_until(carol.waitFor(2))[1] == b"Welcome, carol!"
    assert set(factory.users) == {b"alice", b"bob", b"carol"}

    alice.sendLine(b"hello, everyone")
    assert run_until(bob.waitFor(4))[3] == b"<alice> hello, everyone"
    assert run_until(carol.waitFor(3))[2] == b"<alice> hello, everyone"

    bob.sendLine(b"hi alice")
    assert run_until(alice.waitFor(3))[2] == b"<bob> hi alice"
    assert run_until(carol.waitFor(4))[3] == b"<bob> hi alice"

    # Bob leaves: his name is free again and he no longer gets messages.
    bob.transport.loseConnection()
    run_until(bob.lost)
    carol.sendLine(b"bye bob")
    assert run_until(alice.waitFor(4))[3] == b"<carol> bye bob"
    assert factory.users.keys() == {b"alice", b"carol"}
    assert alice.lines == [
        b"What's your name?",
        b"Welcome, alice!",
        b"<bob> hi alice",
        b"<carol> bye bob",
    ]  # never its own lines
    assert len(bob.lines) == 4

    dave = join(reactor, run_until, portno)
    dave.sendLine(b"bob")
    assert run_until(dave.waitFor(2))[1] == b"Welcome, bob!"


# -- the single-use client ----------------------------------------------------------------


class Greeter(Protocol):
    def sendMessage(self, msg):
        self.transport.write(b"MESSAGE %s\n" % msg)


class GreetingLog(LineReceiver):
    delimiter = b"\n"

    def connectionMade(self):
        self.factory.received.append(("connected", self.factory.clock()))

    def lineReceived(self, line):
        self.factory.received.append((line, self.factory.clock()))

    def connectionLost(self, reason):
        self.factory.done.callback(type(reason.value))


def test_single_use_greeter_client(reactor, run_until):
    server = Factory.forProtocol(GreetingLog)
    server.received = []
    server.done = defer.Deferred()
    server.clock = reactor.seconds
    port = reactor.listenTCP(0, server, interface="127.0.0.1")

    def gotProtocol(p):
        p.sendMessage(b"Hello")
        reactor.callLater(0.05, p.sendMessage, b"This is sent in a second")
        reactor.callLater(0.1, p.transport.loseConnection)

    point = TCP4ClientEndpoint(reactor, "localhost", port.getHost().port)
    d = connectProtocol(point, Greeter())
    d.addCallback(gotProtocol)

    assert run_until(server.done) is error.ConnectionDone
    lines = [what for what, _ in server.received]
    assert lines == ["connected", b"MESSAGE Hello", b"MESSAGE This is sent in a second"]
    (_, t_hello), (_, t_later) = server.received[1:]
    assert t_later - t_hello >= 0.04  # sent later, by callLater, not at once


# -- the ClientFactory client -----------------------------------------------------------------


class Echo(Protocol):
    def dataReceived(self, data):
        self.factory.stdout.write(data)


class EchoClientFactory(ClientFactory):
    def __init__(self, stdout):
        self.stdout = stdout
        self.printed = []
        self.finished = defer.Deferred()

    def startedConnecting(self, connector):
        self.printed.append("Started to connect.")

    def buildProtocol(self, addr):
        self.printed.append("Connected.")
        p = Echo()
        p.factory = self
        return p

    def clientConnectionLost(self, connector, reason):
        self.printed.append(f"Lost connection. Reason: {reason.value}")
        self.finished.callback(reason.value)

    def clientConnectionFailed(self, connector, reason):
        self.printed.append(f"Connection failed. Reason: {reason.value}")
        self.finished.callback(reason.value)


class Greeting(Protocol):
    def connectionMade(self):
        self.transport.write(b"Welcome to the echo test\n")
        self.transport.loseConnection()


def test_clientfactory_echo_client_connects_and_loses_the_connection(reactor, run_until):
    port = reactor.listenTCP(0, Factory.forProtocol(Greeting), interface="127.0.0.1")
    stdout = io.BytesIO()
    f = EchoClientFactory(stdout)
    reactor.connectTCP("127.0.0.1", port.getHost().port, f)
    reason = run_until(f.finished)
    assert isinstance(reason, error.ConnectionDone)
    assert stdout.getvalue() == b"Welcome to the echo test\n"
    assert f.printed == [
        "Started to connect.",
        "Connected.",
        "Lost connection. Reason: Connection was closed cleanly.",
    ]


def test_clientfactory_echo_client_reports_a_failed_connection(reactor, run_until):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
    try:
        f = EchoClientFactory(io.BytesIO())
        reactor.connectTCP("127.0.0.1", s.getsockname()[1], f)
        reason = run_until(f.finished)
    finally:
        s.close()
    assert isinstance(reason, error.ConnectionRefusedError)
    assert f.printed[0] == "Started to connect."
    assert f.printed[1].startswith("Connection failed. Reason: Connection was refused")
    assert len(f.printed) == 2  # buildProtocol never ran
