"""Endpoints: where to connect or listen, as objects, with Deferred results.

Compatibility surface (Twisted's names): ``TCP4ClientEndpoint(reactor, host, port,
timeout=30, bindAddress=None)``, ``TCP4ServerEndpoint(reactor, port, backlog=50,
interface="")``, ``SSL4ClientEndpoint(reactor, host, port, sslContextFactory,
timeout=30, bindAddress=None)``, ``SSL4ServerEndpoint``, their ``connect(factory)`` /
``listen(factory)``, and ``connectProtocol(endpoint, protocol)``.

As their names say, the TCP4/SSL4 endpoints resolve IPv4 addresses only;
``reactor.connectTCP`` tries IPv6 and IPv4.  ``connect()`` returns a Deferred that fires
with the protocol once connected (after the TLS handshake for SSL4), errbacks with the
connection failure, and can be cancelled while connecting.
"""

from __future__ import annotations

import socket
from typing import Any

from logbot.reactor import defer, error, tcp_client, tls
from logbot.reactor.protocol import ClientFactory, Factory


class _WrappingFactory(ClientFactory):
    """Turns one connection attempt's outcome into a Deferred."""

    def __init__(self, factory: Any) -> None:
        self.wrapped = factory
        self.deferred: defer.Deferred[Any] = defer.Deferred(self._cancel)
        self.connector: Any = None

    def _cancel(self, d: Any) -> None:
        # Fire first: stopConnecting() reports the stop to clientConnectionFailed at
        # once, which must find the Deferred already fired (with CancelledError).
        d.errback(defer.CancelledError("connection attempt cancelled"))
        if self.connector is not None and self.connector.state == "connecting":
            self.connector.stopConnecting()

    def startedConnecting(self, connector: Any) -> None:
        self.connector = connector

    def buildProtocol(self, addr: Any) -> Any:
        try:
            protocol = self.wrapped.buildProtocol(addr)
        except Exception:
            if not self.deferred.called:
                self.deferred.errback()
            return None
        if protocol is None:
            if not self.deferred.called:
                self.deferred.errback(error.ConnectError(None, "the factory built no protocol"))
            return None
        return _Notify(protocol, self.deferred)

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        if not self.deferred.called:
            self.deferred.errback(reason)


class _Notify:
    """Passes everything to the real protocol; fires the Deferred on connectionMade."""

    def __init__(self, protocol: Any, deferred: Any) -> None:
        self.__dict__["_wrapped"] = protocol
        self.__dict__["_deferred"] = deferred

    def makeConnection(self, transport: Any) -> None:
        protocol = self._wrapped
        # The transport talks to the real protocol from now on: no wrapper per event.
        transport.protocol = protocol
        protocol.makeConnection(transport)
        if not self._deferred.called:
            self._deferred.callback(protocol)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._wrapped, name, value)


class TCP4ClientEndpoint:
    def __init__(
        self,
        reactor: Any,
        host: str,
        port: int,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> None:
        self._reactor = reactor
        self._host = host
        self._port = port
        self._timeout = timeout
        self._bindAddress = bindAddress

    def _tls(self) -> Any:
        return None

    def connect(self, protocolFactory: Any) -> Any:
        """A Deferred firing with the connected protocol."""
        wf = _WrappingFactory(protocolFactory)
        try:
            connector = tcp_client.Connector(
                self._reactor,
                self._host,
                self._port,
                wf,
                self._timeout,
                self._bindAddress,
                tls=self._tls(),
                family=socket.AF_INET,
            )
            connector.connect()
        except Exception:
            return defer.fail()
        return wf.deferred


class SSL4ClientEndpoint(TCP4ClientEndpoint):
    def __init__(
        self,
        reactor: Any,
        host: str,
        port: int,
        sslContextFactory: Any = None,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> None:
        super().__init__(reactor, host, port, timeout, bindAddress)
        self._context = tls.client_context(sslContextFactory)

    def _tls(self) -> Any:
        return self._context


class TCP4ServerEndpoint:
    def __init__(self, reactor: Any, port: int, backlog: int = 50, interface: str = "") -> None:
        self._reactor = reactor
        self._port = port
        self._backlog = backlog
        self._interface = interface

    def listen(self, protocolFactory: Any) -> Any:
        """A Deferred firing with the listening port."""
        return defer.maybeDeferred(
            self._reactor.listenTCP, self._port, protocolFactory, self._backlog, self._interface
        )


class SSL4ServerEndpoint(TCP4ServerEndpoint):
    def __init__(
        self,
        reactor: Any,
        port: int,
        sslContextFactory: Any,
        backlog: int = 50,
        interface: str = "",
    ) -> None:
        super().__init__(reactor, port, backlog, interface)
        self._context = sslContextFactory

    def listen(self, protocolFactory: Any) -> Any:
        return defer.maybeDeferred(
            self._reactor.listenSSL,
            self._port,
            protocolFactory,
            self._context,
            self._backlog,
            self._interface,
        )


class _SingleProtocolFactory(Factory):
    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol

    def buildProtocol(self, addr: Any) -> Any:
        return self._protocol


def connectProtocol(endpoint: Any, protocol: Any) -> Any:
    """Connect ``endpoint`` and hand the connection to the given ``protocol`` instance."""
    return endpoint.connect(_SingleProtocolFactory(protocol))
