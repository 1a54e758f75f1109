"""TCP: the connection transport, which the client connector (``tcp_client``) and the
listening port (``tcp_server``) build on; they import this module, never the reverse.

Why the hot path looks as it does (measured against Twisted and asyncio, bench/):

* Writing is ``flow.BufferedWriter`` (shared with the pipes to child processes):
  ``write()`` sends at once when nothing is buffered, so a round trip costs two system
  calls (recv, send) and no ``epoll_ctl``; only a partial send buffers the rest in one
  ``bytearray`` and asks for writability.  Twisted never sends inside ``write()`` and
  pays two ``epoll_ctl`` per write.  Producers are paused above ``highWater`` (64 KiB)
  and resumed below ``lowWater`` (16 KiB).
* Reads are 64 KiB: large enough for a burst, small enough that glibc serves it from the
  heap (asyncio's 256 KiB read is an mmap/munmap pair per call).
* ``TCP_NODELAY`` is set: IRC and other line protocols write small lines and want them
  on the wire now, not after the peer's delayed ACK.

Compatibility surface (Twisted's names): transports' ``write``, ``writeSequence``,
``loseConnection``, ``abortConnection``, ``loseWriteConnection``, ``getPeer``,
``getHost``, ``registerProducer``, ``unregisterProducer``, ``pauseProducing``,
``resumeProducing``, ``stopProducing``, ``connected``, ``disconnecting``,
``startTLS`` (``ITLSTransport``, in ``starttls.py``) and ``TLS``; ports' ``getHost``,
``stopListening``, ``startListening``; connectors' ``connect``, ``disconnect``,
``stopConnecting``, ``getDestination``, ``state``.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from typing import Any

from logbot.reactor import error
from logbot.reactor.address import IPv4Address, IPv6Address
from logbot.reactor.failure import Failure
from logbot.reactor.flow import HIGH_WATER, LOW_WATER, WOULD_BLOCK, BufferedWriter

log = logging.getLogger("logbot.reactor.tcp")

__all__ = [
    "ACCEPTS_PER_EVENT",
    "READ_SIZE",
    "Connection",
    "TLSConnection",
    "connect_error",
    "make_address",
    "start_connection",
]

READ_SIZE = 65536
#: Connections accepted per readiness event, so one busy port cannot starve the loop.
ACCEPTS_PER_EVENT = 128


def make_address(sockaddr: Any) -> IPv4Address | IPv6Address:
    if len(sockaddr) == 4:
        return IPv6Address("TCP", sockaddr[0], sockaddr[1])
    return IPv4Address("TCP", sockaddr[0], sockaddr[1])


def connect_error(err: int, host: str = "") -> error.ConnectError:
    """The ConnectError subclass for an errno from connect()."""
    text = os.strerror(err)
    if err == errno.ECONNREFUSED:
        return error.ConnectionRefusedError(text, host)
    if err == errno.ETIMEDOUT:
        return error.TimeoutError(text, host)
    if err in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return error.NoRouteError(text, host)
    return error.ConnectError(text, host)


class Connection(BufferedWriter):
    """A connected TCP socket: the transport a protocol writes to."""

    __slots__ = (
        "socket",
        "_fd",
        "protocol",
        "reactor",
        "_buf",
        "_send",
        "connected",
        "disconnecting",
        "disconnected",
        "producer",
        "_streaming",
        "_producerPaused",
        "_reading",
        "_readClosed",
        "_writeClosed",
        "highWater",
        "lowWater",
        "connector",
        "_lostReason",
        "_noWrite",
        "__weakref__",
    )

    #: Whether ``startTLS`` has switched this connection to TLS (Twisted's attribute).
    TLS = False

    def __init__(self, sock: socket.socket, protocol: Any, reactor: Any) -> None:
        self.socket = sock
        self._fd = sock.fileno()
        self.protocol = protocol
        self.reactor = reactor
        self._buf = bytearray()
        self._send = sock.send
        self.connected = True
        self.disconnecting = False
        self.disconnected = False
        self.producer: Any = None
        self._streaming = False
        self._producerPaused = False
        self._reading = False
        self._readClosed = False
        self._writeClosed = 0  # 0 open, 1 asked (flush then shutdown), 2 shut
        self.highWater = HIGH_WATER
        self.lowWater = LOW_WATER
        self.connector: Any = None
        self._lostReason: Failure | None = None
        self._noWrite = False  # set once write() must drop data

    def fileno(self) -> int:
        return self._fd

    # -- reading ------------------------------------------------------------------------

    def startReading(self) -> None:
        if not self._reading and not self.disconnected and not self._readClosed:
            self._reading = True
            self.reactor.addReader(self)

    def stopReading(self) -> None:
        if self._reading:
            self._reading = False
            self.reactor.removeReader(self)

    def doRead(self) -> None:
        try:
            data = self.socket.recv(READ_SIZE)  # (a method call: no bound method kept)
        except WOULD_BLOCK:
            return
        except OSError as e:
            self._lose(error.ConnectionLost(e.strerror or str(e)))
            return
        if data:
            self.protocol.dataReceived(data)
        else:
            self._readEOF()

    def _readEOF(self) -> None:
        """The peer closed its side: half-close if the protocol wants it, else close."""
        readConnectionLost = getattr(self.protocol, "readConnectionLost", None)
        if readConnectionLost is None or self.disconnecting:
            self._lose(error.ConnectionDone())
            return
        self._readClosed = True
        self.stopReading()
        readConnectionLost()
        if self._writeClosed == 2 and not self.disconnected:
            self._lose(error.ConnectionDone())  # both halves are shut now

    # -- writing (write, writeSequence, doWrite: flow.BufferedWriter) -----------------

    def _writeFailed(self, e: OSError) -> None:
        self._failLater(e)

    def _sendFailed(self, e: OSError) -> None:
        self._lose(error.ConnectionLost(e.strerror or str(e)))

    def _flushed(self) -> None:
        if self.disconnecting and self.producer is None:
            self._lose(error.ConnectionDone())
        elif self._writeClosed == 1:
            self._shutdownWrite()

    def _failLater(self, e: OSError) -> None:
        """A send failed inside ``write()``: close on the next turn, not re-entrantly."""
        if self._lostReason is None:
            self._noWrite = True
            self._lostReason = Failure(error.ConnectionLost(e.strerror or str(e)))
            self.stopReading()
            self.reactor.callLater(0, self.connectionLost, self._lostReason)

    # -- closing ------------------------------------------------------------------------

    def loseConnection(self) -> None:
        """Send what is buffered, then close; ``connectionLost`` gets ConnectionDone."""
        if self.disconnecting or self.disconnected:
            return
        self.disconnecting = True
        self._noWrite = True
        self.stopReading()
        self.reactor.addWriter(self)  # doWrite flushes and closes when empty

    def loseWriteConnection(self) -> None:
        """Send what is buffered, then shut down our sending side (half-close)."""
        if self._writeClosed or self.disconnected:
            return
        self._writeClosed = 1
        self._noWrite = True
        self.reactor.addWriter(self)

    def _shutdownWrite(self) -> None:
        self._writeClosed = 2
        try:
            self.socket.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        writeConnectionLost = getattr(self.protocol, "writeConnectionLost", None)
        if writeConnectionLost is not None:
            writeConnectionLost()
        if self._readClosed:
            self._lose(error.ConnectionDone())

    def startTLS(self, contextFactory: Any, normal: bool = True, *, extra: bytes = b"") -> None:
        """Go on in TLS: what was written so far is sent in clear first, and what is
        read from now on is TLS (``starttls.py`` says how, and what ``extra`` is).

        ``normal``: the side that connected is the TLS client, checking the host name it
        connected to; False swaps the roles.
        """
        from logbot.reactor import starttls

        if self.disconnected or self.disconnecting or self._writeClosed:
            raise RuntimeError("startTLS on a connection that is closing or closed")
        connector = self.connector
        client = (connector is not None) == bool(normal)
        hostname = None
        if client and connector is not None:
            hostname = connector.host.strip("[]") or None
        layer = starttls.makeLayer(self.protocol, contextFactory, client, hostname)
        self.protocol = layer
        self.__class__ = TLSConnection
        layer.makeConnection(_Plain(self))
        if extra and not self.disconnected:
            layer.dataReceived(bytes(extra))

    def abortConnection(self) -> None:
        """Close now, dropping anything buffered; ``connectionLost`` comes next turn."""
        if self.disconnected or self._lostReason is not None:
            return
        self._buf.clear()
        self.disconnecting = True
        self._noWrite = True  # write() drops data from now on
        self._lostReason = Failure(error.ConnectionAborted())
        self.reactor.removeSelectable(self)
        self._reading = False
        self.reactor.callLater(0, self.connectionLost, self._lostReason)

    def _lose(self, exc: Exception) -> None:
        self.connectionLost(Failure(exc))

    def connectionLost(self, reason: Failure) -> None:
        """Close the socket and tell the protocol (and the connector, for clients)."""
        if self.disconnected:
            return
        self.disconnected = True
        self.connected = False
        self._noWrite = True
        self.reactor.removeSelectable(self)
        self._reading = False
        self.socket.close()
        self._stopProducer()
        try:
            self.protocol.connectionLost(reason)
        except Exception:
            log.exception("error in connectionLost of %r", self.protocol)
        if self.connector is not None:
            self.connector._connectionLost(reason)

    # -- producers ------------------------------------------------------------------------

    # registerProducer/unregisterProducer: flow.BufferedWriter

    def pauseProducing(self) -> None:
        """As a producer (of received data): stop reading from the socket."""
        self.stopReading()

    def resumeProducing(self) -> None:
        self.startReading()

    def stopProducing(self) -> None:
        self.loseConnection()

    # -- addresses ------------------------------------------------------------------------

    def getPeer(self) -> IPv4Address | IPv6Address:
        return make_address(self.socket.getpeername())

    def getHost(self) -> IPv4Address | IPv6Address:
        return make_address(self.socket.getsockname())

    def getHandle(self) -> socket.socket:
        return self.socket

    def setTcpNoDelay(self, enabled: bool) -> None:
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(enabled))

    def setTcpKeepAlive(self, enabled: bool) -> None:
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, int(enabled))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} fd={self._fd} protocol={type(self.protocol).__name__}>"


class TLSConnection(Connection):
    """A TCP connection after ``startTLS``: writing and closing go through TLS."""

    __slots__ = ()

    TLS = True

    def write(self, data: bytes) -> None:
        self.protocol.write(data)

    def writeSequence(self, iovec: Any) -> None:
        self.protocol.write(b"".join(iovec))

    def loseConnection(self) -> None:
        self.protocol.loseConnection()

    def loseWriteConnection(self) -> None:
        self.protocol.loseWriteConnection()

    def getPeerCertificate(self, binary_form: bool = False) -> Any:
        return self.protocol.getPeerCertificate(binary_form)

    def startTLS(self, contextFactory: Any, normal: bool = True, *, extra: bytes = b"") -> None:
        raise RuntimeError("TLS is already started on this connection")


class _Plain:
    """A ``TLSConnection`` as its TLS layer sees it: TCP's own write and closing."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def write(self, data: bytes) -> None:
        Connection.write(self._conn, data)

    def loseConnection(self) -> None:
        Connection.loseConnection(self._conn)

    def loseWriteConnection(self) -> None:
        Connection.loseWriteConnection(self._conn)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def start_connection(
    reactor: Any, sock: socket.socket, protocol: Any, connector: Any = None
) -> Connection | None:
    """Wrap a connected socket, hand it to ``protocol`` and start reading.

    Returns None (and closes the socket) when the reactor cannot watch it, e.g. a
    descriptor above FD_SETSIZE on the select backend; the error is logged.
    """
    transport = Connection(sock, protocol, reactor)
    transport.connector = connector
    try:
        transport.startReading()
    except ValueError as e:  # select's FD_SETSIZE limit
        log.error("cannot watch a new connection: %s", e)
        transport.disconnected = True
        sock.close()
        return None
    try:
        protocol.makeConnection(transport)
    except Exception:
        log.exception("error in connectionMade of %r; closing it", protocol)
        transport.connectionLost(Failure())
        return None
    return transport
