"""STARTTLS: a plain TCP connection switched to TLS in mid-stream.

``transport.startTLS(contextFactory, normal=True)`` is Twisted's ``ITLSTransport``,
which our TCP transports (``tcp.Connection``) provide.  ``contextFactory`` is an
``ssl.SSLContext`` (or an object with ``getContext()``).  ``normal=True`` keeps the
connection's roles: the side that connected is the TLS client, and checks the
server's certificate against the host name it connected to (the connector's
``host``); the side that accepted is the TLS server, whose context holds the
certificate.  ``normal=False`` swaps them.

The order of bytes, which is the whole point:

* Writing: everything written before ``startTLS`` goes out in clear first, even what
  still sits in the transport's buffer; TLS records are queued behind it.  What the
  protocol writes after ``startTLS`` is encrypted; until the handshake is done it is
  held, then sent in order.  ``loseConnection``/``loseWriteConnection`` during the
  handshake take effect after it.
* Reading: every byte read from the socket after ``startTLS`` goes to TLS.  Bytes the
  protocol was handed before are its own, and that includes the rest of the chunk
  that carried the peer's "let us start TLS": a peer that sends its handshake right
  behind that command (not waiting for the reply) may have put its first TLS bytes
  in the same chunk.  A protocol gives those back with the keyword-only ``extra``
  (our extension; Twisted has no way to): ``startTLS(ctx, extra=rest)`` handles
  ``rest`` as if just received, e.g. ``rest = self.clearLineBuffer()`` in a
  ``LineReceiver``.

The protocol keeps its transport object: ``Connection.startTLS`` (tcp.py) changes the
connection's class to ``tcp.TLSConnection`` (same slots, so the object stays the same),
whose ``write`` and closing methods go through the TLS layer.  Why a class change
rather than a flag: the plain TCP ``write`` is the hot path of every connection and
stays free of a TLS test.  The layer, ``StartTLSProtocol`` here (a ``tls._TLSProtocol``),
becomes the connection's protocol and writes to the socket through ``tcp._Plain``,
which calls the plain TCP methods.  (So tcp.py imports this module, which imports
only ``tls``: no import goes back.)  After a successful handshake a protocol's
``handshakeCompleted()`` is called if it has one (Twisted's ``IHandshakeListener``);
a failed one ends the connection, and ``connectionLost`` gets an ``error.TLSError``
with the reason (a certificate that does not verify, a host name that does not
match, a peer that is not TLS).
"""

from __future__ import annotations

import ssl
from typing import Any

from logbot.reactor import error, tls
from logbot.reactor.failure import Failure

__all__ = ["StartTLSProtocol", "makeLayer"]


def makeLayer(
    app: Any, contextFactory: Any, client: bool, hostname: str | None
) -> StartTLSProtocol:
    """The TLS layer for ``app``'s connection; raises before anything has changed."""
    if contextFactory is None and not client:
        raise ValueError("startTLS as the TLS server needs an ssl.SSLContext with a certificate")
    context = tls.client_context(contextFactory)  # None: the system's verified defaults
    return StartTLSProtocol(context, not client, hostname, app)


class StartTLSProtocol(tls._TLSProtocol):
    """The TLS layer under a protocol that was already connected in clear."""

    def __init__(
        self, context: ssl.SSLContext, server_side: bool, hostname: str | None, app: Any
    ) -> None:
        super().__init__(context, server_side, hostname)
        self.protocol = app
        self.connected = True
        self._held: list[bytes] = []  # written before the handshake was done

    def write(self, data: bytes) -> None:
        if self.handshaken:
            super().write(data)
            return
        if self.disconnecting or self.disconnected or self._writeClosed:
            return
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"write() takes bytes, not {type(data).__name__}")
        self._held.append(bytes(data))

    def loseConnection(self) -> None:
        if self.handshaken or self.disconnecting or self.disconnected:
            super().loseConnection()
            return
        self.disconnecting = True  # _handshakeDone closes, after the held data

    def loseWriteConnection(self) -> None:
        if self.handshaken or self._writeClosed or self.disconnecting or self.disconnected:
            super().loseWriteConnection()
            return
        self._writeClosed = True  # _handshakeDone half-closes, after the held data

    def _handshakeDone(self) -> None:
        held, self._held = self._held, []
        for data in held:
            if self.disconnected:
                return
            self._encrypt(data)
        if self.disconnecting:
            self._close()
        elif self._writeClosed:
            self._closeWrite()

    def _handshakeFailed(self, exc: BaseException, lost: bool = False) -> None:
        self._held = []
        if lost:
            reason = f"connection closed during the TLS handshake ({exc})"
        else:
            reason = f"TLS handshake failed: {tls.describe(exc)}"
        failure = error.TLSError(None, reason)
        failure.__cause__ = exc
        if self._closeReason is None:
            self._closeReason = failure
        if not lost:
            self.tcp.loseConnection()  # after the alert that tells the peer why

    def connectionLost(self, reason: Failure) -> None:
        self.disconnected = True
        self.connected = False
        if not self.handshaken and self._closeReason is None:
            self._handshakeFailed(reason.value, lost=True)
        if self._closeReason is not None:  # what TLS said beats the TCP-level reason
            reason = Failure(self._closeReason)
        self.protocol.connectionLost(reason)
