"""Outgoing TCP (and TLS) connections: the connector and one connect attempt.

A ``Connector`` is what ``connectTCP`` returns and what a ``ClientFactory`` sees; it can
``connect()`` again after a loss (the seed's ircLogBot reconnects that way).  Each
``connect()`` makes one ``_Attempt``: resolve the host off the loop, then try every
address in turn with a non-blocking ``connect``, all under one timeout.  Only when a
socket is connected (and, for TLS, the handshake has succeeded) does the factory build
a protocol; every failure before that reaches ``clientConnectionFailed`` with a
readable reason.

Compatibility surface: ``connect``, ``disconnect``, ``stopConnecting``,
``getDestination``, ``state``, ``factory``, ``transport``.
"""

from __future__ import annotations

import errno
import logging
import socket
from typing import Any

from logbot.reactor import error, resolve, tcp
from logbot.reactor.address import IPv4Address
from logbot.reactor.failure import Failure

log = logging.getLogger("logbot.reactor.tcp")


class Connector:
    """Connects ``factory`` to ``host:port``; reusable after each connection ends."""

    def __init__(
        self,
        reactor: Any,
        host: str,
        port: int,
        factory: Any,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
        tls: Any = None,
        family: int = 0,
    ) -> None:
        self.reactor = reactor
        self.host = host
        self.port = port
        self.factory = factory
        self.timeout = timeout
        self.bindAddress = bindAddress
        self.tls = tls
        self.family = family
        self.state = "disconnected"
        self.transport: Any = None
        self._attempt: _Attempt | None = None
        self._factoryStarted = False

    def connect(self) -> None:
        """Start connecting (again); the factory hears ``startedConnecting`` first."""
        if self.state != "disconnected":
            raise RuntimeError(f"cannot connect in state {self.state!r}")
        self.state = "connecting"
        if not self._factoryStarted:
            self.factory.doStart()
            self._factoryStarted = True
        self._attempt = _Attempt(self)
        self.factory.startedConnecting(self)
        if self.state == "connecting" and self._attempt is not None:
            self._attempt.start()

    def stopConnecting(self) -> None:
        if self.state != "connecting":
            raise RuntimeError("stopConnecting() while not connecting")
        if self._attempt is not None:
            self._attempt.fail(error.UserError(None, "connection attempt stopped"))

    def disconnect(self) -> None:
        """Stop connecting, or close the connection (``loseConnection``)."""
        if self.state == "connecting":
            self.stopConnecting()
        elif self.state == "connected" and self.transport is not None:
            self.transport.loseConnection()

    def getDestination(self) -> IPv4Address:
        return IPv4Address("TCP", self.host, self.port)

    # -- called by the attempt and the transport -------------------------------------------

    def _connectionFailed(self, reason: Failure) -> None:
        self._attempt = None
        self.state = "disconnected"
        self.transport = None
        self.factory.clientConnectionFailed(self, reason)
        self._maybeStopFactory()

    def _connectionMade(self, transport: Any) -> None:
        self._attempt = None
        self.state = "connected"
        self.transport = transport

    def _connectionLost(self, reason: Failure) -> None:
        self.state = "disconnected"
        self.transport = None
        self.factory.clientConnectionLost(self, reason)
        self._maybeStopFactory()

    def _maybeStopFactory(self) -> None:
        if self.state == "disconnected" and self._factoryStarted:
            self._factoryStarted = False
            self.factory.doStop()

    def buildProtocol(self, addr: Any) -> Any:
        return self.factory.buildProtocol(addr)

    def __repr__(self) -> str:
        return f"<Connector {self.host}:{self.port} {self.state}>"


class _Attempt:
    """Resolve, then try each address until one connects or the timeout passes."""

    def __init__(self, connector: Connector) -> None:
        self.connector = connector
        self.reactor = connector.reactor
        self.sock: socket.socket | None = None
        self._fd = -1
        self._addresses: list[tuple[int, Any]] = []
        self._errors: list[str] = []
        self._timer: Any = None
        self._resolving: Any = None
        self._tlsTransport: Any = None
        self._lastErrno = 0
        self.done = False

    def fileno(self) -> int:
        return self._fd

    def start(self) -> None:
        c = self.connector
        if c.timeout is not None and c.timeout > 0:
            self._timer = self.reactor.callLater(c.timeout, self._timedOut)
        d = resolve.resolve(self.reactor, c.host, c.port, c.family)
        self._resolving = d
        d.addCallbacks(self._resolved, self._resolveFailed)

    def _resolved(self, addresses: list[tuple[int, Any]]) -> None:
        self._resolving = None
        if self.done:
            return
        self._addresses = list(addresses)
        self._next()

    def _resolveFailed(self, failure: Failure) -> None:
        self._resolving = None
        if not self.done:
            self.fail(failure.value)

    def _next(self) -> None:
        """Try the next address; fail with the last error when none is left."""
        while self._addresses and not self.done:
            family, addr = self._addresses.pop(0)
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                if self.connector.bindAddress is not None:
                    sock.bind(self.connector.bindAddress)
                err = sock.connect_ex(addr)
            except OSError as e:
                sock.close()
                self._errors.append(f"{addr[0]}: {e.strerror or e}")
                self._lastErrno = e.errno or 0
                continue
            if err in (0, errno.EISCONN):
                self._connected(sock)
                return
            if err in (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY, errno.EINTR):
                self.sock = sock
                self._fd = sock.fileno()
                try:
                    self.reactor.addWriter(self)
                except ValueError as e:  # select's FD_SETSIZE limit
                    self._fd = -1
                    self.sock = None
                    sock.close()
                    self.fail(error.ConnectError(None, str(e)))
                return
            sock.close()
            self._lastErrno = err
            self._errors.append(f"{addr[0]}: {errno.errorcode.get(err, err)}")
        if not self.done:
            err = self._lastErrno
            detail = "; ".join(self._errors)
            self.fail(
                tcp.connect_error(err, detail)
                if err
                else error.ConnectError(None, detail or "no address to try")
            )

    def doWrite(self) -> None:
        sock = self.sock
        assert sock is not None  # watched only while a connect on self.sock is pending
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err == 0:
            try:
                sock.getpeername()
            except OSError as e:
                if e.errno == errno.ENOTCONN:
                    # Not writable after all: the event belonged to an earlier owner
                    # of this descriptor number, closed and reused in the same pass.
                    return
        self.reactor.removeSelectable(self)
        self.sock = None
        self._fd = -1
        if err == 0:
            self._connected(sock)
            return
        sock.close()
        self._lastErrno = err
        try:
            peer = sock.getpeername()[0]
        except OSError:
            peer = self.connector.host
        self._errors.append(f"{peer}: {errno.errorcode.get(err, err)}")
        self._next()

    doRead = doWrite  # an error condition is reported as readable too

    def _connected(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c = self.connector
        if c.tls is not None:
            from logbot.reactor import tls

            # The attempt (and its timeout) lasts until the handshake is done.
            shim = tls.TLSClientProtocol(c.tls, c.host, self)
            self.sock = sock
            self._tlsTransport = tcp.Connection(sock, shim, self.reactor)
            try:
                self._tlsTransport.startReading()
            except ValueError as e:  # select's FD_SETSIZE limit
                self._tlsTransport = None
                self.fail(error.ConnectError(None, str(e)))
                return
            shim.makeConnection(self._tlsTransport)
            return
        self._finish(sock)

    def _finish(self, sock: socket.socket) -> None:
        c = self.connector
        self.done = True
        self._cancelTimer()
        try:
            peer = tcp.make_address(sock.getpeername())
            protocol = c.buildProtocol(peer)
        except OSError as e:  # reset between connect and now
            sock.close()
            c._connectionFailed(Failure(error.ConnectionLost(e.strerror)))
            return
        except Exception:  # buildProtocol raised: the attempt failed with that error
            log.exception("error in buildProtocol of %r", c.factory)
            sock.close()
            c._connectionFailed(Failure())
            return
        if protocol is None:
            sock.close()
            c._connectionFailed(Failure(error.UserError(None, "the factory built no protocol")))
            return
        transport = tcp.Connection(sock, protocol, self.reactor)
        transport.connector = c
        c._connectionMade(transport)
        try:
            transport.startReading()
            protocol.makeConnection(transport)
        except Exception:
            log.exception("error in connectionMade of %r; closing it", protocol)
            transport.connectionLost(Failure())

    def tlsReady(self, tlsTransport: Any, peer: Any) -> Any:
        """The TLS handshake succeeded: build the protocol on the TLS transport."""
        c = self.connector
        self.done = True
        self._cancelTimer()
        try:
            protocol = c.buildProtocol(peer)
        except Exception:  # logged; the caller reports "no protocol" and closes
            log.exception("error in buildProtocol of %r", c.factory)
            return None
        if protocol is None:
            return None
        c._connectionMade(tlsTransport)
        return protocol

    def _timedOut(self) -> None:
        self._timer = None
        self.fail(error.TimeoutError(None, f"no connection after {self.connector.timeout} s"))

    def _cancelTimer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def fail(self, exc: BaseException) -> None:
        """Give up: close what is open and tell the factory (once)."""
        if self.done:
            return
        self.done = True
        self._cancelTimer()
        if self._resolving is not None:
            d, self._resolving = self._resolving, None
            d.addErrback(lambda _: None)
        if self.sock is not None:
            self.reactor.removeSelectable(self)
            transport = self._tlsTransport
            if transport is not None:  # the TLS shim owns the socket now
                transport.connector = None
                transport.abortConnection()
            else:
                self.sock.close()
            self.sock = None
            self._fd = -1
        self.connector._connectionFailed(Failure(exc))

    def connectionLost(self, reason: Failure) -> None:
        self.fail(reason.value if isinstance(reason.value, Exception) else error.ConnectError())
