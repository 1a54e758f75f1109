"""Small protocols and factories that the TCP, TLS and endpoint tests share."""

from __future__ import annotations

from logbot.reactor import defer
from logbot.reactor.protocol import ClientFactory, Factory, Protocol


class Echo(Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


def listen(reactor, factory, **kw):
    return reactor.listenTCP(0, factory, interface="127.0.0.1", **kw)


def server_factory(protocol_class, **attrs):
    f = Factory.forProtocol(protocol_class)
    for k, v in attrs.items():
        setattr(f, k, v)
    return f


class Recorder(Protocol):
    """Records what it receives; ``made``, ``got`` (``expect`` bytes arrived) and
    ``lost`` are Deferreds."""

    def __init__(self, expect=None):
        self.data = bytearray()
        self.expect = expect
        self.made = defer.Deferred()
        self.got = defer.Deferred()
        self.lost = defer.Deferred()

    def connectionMade(self):
        self.made.callback(self)

    def dataReceived(self, data):
        self.data += data
        if self.expect is not None and len(self.data) >= self.expect and not self.got.called:
            self.got.callback(bytes(self.data))

    def connectionLost(self, reason):
        self.lost.callback(reason.value)


class OneProtocolFactory(ClientFactory):
    """Hands out one given protocol; records the connector events in ``events``."""

    def __init__(self, protocol):
        self.proto = protocol
        self.events = []
        self.built = 0
        self.failed = defer.Deferred()
        self.clientLost = defer.Deferred()

    def startedConnecting(self, connector):
        self.events.append("startedConnecting")

    def buildProtocol(self, addr):
        self.events.append(("buildProtocol", addr))
        self.built += 1
        self.proto.factory = self
        return self.proto

    def clientConnectionFailed(self, connector, reason):
        self.events.append("clientConnectionFailed")
        self.failed.callback(reason.value)

    def clientConnectionLost(self, connector, reason):
        self.events.append("clientConnectionLost")
        self.clientLost.callback(reason.value)
