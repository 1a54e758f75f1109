"""Listening TCP (and TLS) ports.

Compatibility surface: ``Port.getHost()``, ``Port.stopListening()`` (a Deferred),
``Port.startListening()``, ``Port.factory``.
"""

from __future__ import annotations

import errno
import logging
import socket
from typing import Any, Protocol, cast

from logbot.reactor import tcp
from logbot.reactor.failure import Failure

log = logging.getLogger("logbot.reactor.tcp")

#: When accept() fails for lack of descriptors, listen again after this long: the port
#: stays readable, so retrying at once would spin the loop at 100 % CPU.
EMFILE_PAUSE = 0.1


class _ListeningSocket(Protocol):
    """What ``Port.doRead`` uses of its socket: ``_accept`` is CPython's private accept,
    which returns ``(fd, addr)`` without building a blocking socket object."""

    family: int

    def _accept(self) -> tuple[int, Any]: ...


class Port:
    """A listening socket; every accepted connection gets a protocol from ``factory``."""

    def __init__(
        self,
        reactor: Any,
        port: int,
        factory: Any,
        backlog: int = 50,
        interface: str = "",
        tls: Any = None,
    ) -> None:
        self.reactor = reactor
        self.port = port
        self.factory = factory
        self.backlog = backlog
        self.interface = interface
        self.tls = tls
        self.socket: socket.socket | None = None
        self.connected = False
        self._fd = -1

    def fileno(self) -> int:
        return self._fd

    def startListening(self) -> None:
        family = socket.AF_INET6 if ":" in self.interface else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.interface, self.port))
            sock.listen(self.backlog)
            sock.setblocking(False)
        except OSError as e:
            sock.close()
            raise OSError(
                e.errno, f"cannot listen on {self.interface or '*'}:{self.port}: {e.strerror}"
            ) from None
        self._fd = sock.fileno()
        try:
            self.reactor.addReader(self)
        except ValueError:  # select's FD_SETSIZE limit: do not leak the socket
            self._fd = -1
            sock.close()
            raise
        self.socket = sock
        self.connected = True
        self.factory.doStart()

    def doRead(self) -> None:
        # Only watched while listening, so the socket is set.
        listening = cast(_ListeningSocket, self.socket)
        accept = listening._accept  # (fd, addr) without building a blocking socket
        family = listening.family
        for _ in range(tcp.ACCEPTS_PER_EVENT):
            try:
                fd, addr = accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    log.error(
                        "cannot accept on port %s: %s; pausing %.1f s",
                        self.port,
                        e.strerror,
                        EMFILE_PAUSE,
                    )
                    self.reactor.removeReader(self)
                    self.reactor.callLater(EMFILE_PAUSE, self._resume)
                    return
                continue  # ECONNABORTED and friends: that client is gone already
            sock = socket.socket(family, socket.SOCK_STREAM, 0, fd)
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            peer = tcp.make_address(addr)
            if self.tls is not None:
                from logbot.reactor import tls

                protocol: Any = tls.TLSServerProtocol(self.tls, self.factory, peer)
            else:
                try:
                    protocol = self.factory.buildProtocol(peer)
                except Exception:
                    log.exception("error in buildProtocol of %r", self.factory)
                    protocol = None
                if protocol is None:
                    sock.close()
                    continue
            tcp.start_connection(self.reactor, sock, protocol)

    def _resume(self) -> None:
        if self.connected:
            self.reactor.addReader(self)

    def doWrite(self) -> None:
        pass

    def getHost(self) -> Any:
        # Meaningful once listening; before that, as ever, an AttributeError on None.
        return tcp.make_address(cast(socket.socket, self.socket).getsockname())

    def stopListening(self) -> Any:
        """Close the port; returns a Deferred that fires once it is closed."""
        from logbot.reactor.defer import succeed

        if self.connected:
            self.connectionLost(None)
        return succeed(None)

    loseConnection = stopListening

    def connectionLost(self, reason: Failure | None) -> None:
        if not self.connected:
            return
        self.connected = False
        self.reactor.removeSelectable(self)
        assert self.socket is not None  # connected: startListening set it
        self.socket.close()
        self.factory.doStop()

    def __repr__(self) -> str:
        return f"<Port {self.interface or '*'}:{self.port} {type(self.factory).__name__}>"
