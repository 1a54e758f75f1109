"""TLS over any TCP transport, with ``ssl.MemoryBIO``.

Why memory BIOs and not ``SSLSocket``: with a non-blocking ``SSLSocket`` every call can
raise "want read" or "want write" in either direction, and the reactor would have to
re-arm epoll differently for each; data buffered inside OpenSSL is invisible to epoll.
With two memory BIOs, TLS is a pure transformation between the TCP transport (which
keeps its own buffering, flow control and fast paths) and the application protocol:
bytes from the socket go into ``incoming``, records to send come out of ``outgoing``.
One code path serves all three backends.

A connection counts as *made* only after the handshake: for a client, a failed
handshake (bad certificate, wrong host name, the peer hanging up) reaches
``clientConnectionFailed`` with a readable reason and the factory never builds a
protocol.  Certificates and host names are verified by default
(``ssl.create_default_context()``); SNI is sent for host names.

``contextFactory`` may be an ``ssl.SSLContext`` or, as in Twisted, an object with a
``getContext()`` method returning one.

Closing (what TLS adds to TCP's): ``loseConnection`` sends close_notify after what is
written, then closes the TCP connection without waiting for the peer's close_notify.
``loseWriteConnection`` is TLS's half-close: close_notify goes out after what is
written, then the TCP sending side is shut (FIN), and reading goes on until the peer
closes.  The peer's close_notify ends the reading side: a protocol with
``readConnectionLost`` (Twisted's ``IHalfCloseableProtocol``) is told so and may still
write until it closes; any other protocol's connection is closed, with our
close_notify sent back.  A TCP end of stream without close_notify closes the
connection (``ConnectionDone``), as before.  Note that ``ssl.SSLObject.read`` reports
the peer's close_notify as ``b""`` while ours is not sent yet, and as
``SSLZeroReturnError`` after: both are handled as the same event.

A protocol with ``handshakeCompleted()`` (Twisted's ``IHandshakeListener``) is called
once the handshake is done.  ``startTLS`` on a plain TCP connection is in
``starttls.py``; it reuses ``_TLSProtocol`` below.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

from logbot.reactor import error
from logbot.reactor.failure import Failure

log = logging.getLogger("logbot.reactor.tls")

#: Plaintext taken out of the TLS layer per read call.
READ_SIZE = 65536


def _context(contextFactory: Any) -> ssl.SSLContext:
    if isinstance(contextFactory, ssl.SSLContext):
        return contextFactory
    getContext = getattr(contextFactory, "getContext", None)
    if getContext is None:
        raise TypeError(f"expected an ssl.SSLContext, not {contextFactory!r}")
    context: ssl.SSLContext = getContext()  # Twisted's contextFactory contract
    return context


def client_context(contextFactory: Any = None) -> ssl.SSLContext:
    """The context for a client; None means the system's verified defaults."""
    if contextFactory is None:
        return ssl.create_default_context()
    return _context(contextFactory)


def server_context(contextFactory: Any) -> ssl.SSLContext:
    if contextFactory is None:
        raise ValueError("listenSSL needs an ssl.SSLContext with a certificate loaded")
    return _context(contextFactory)


def describe(exc: BaseException) -> str:
    """A one-line reason for a handshake failure, without OpenSSL's source positions."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return exc.reason.replace("_", " ").lower()
    return str(exc) or type(exc).__name__


class _TLSProtocol:
    """Sits on a TCP transport as its protocol and serves as the app's transport."""

    #: As on a TCP transport after ``startTLS`` (Twisted's attribute).
    TLS = True

    def __init__(self, context: ssl.SSLContext, server_side: bool, hostname: str | None) -> None:
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._ssl = context.wrap_bio(
            self._in, self._out, server_side=server_side, server_hostname=hostname
        )
        self.tcp: Any = None
        self.protocol: Any = None
        self.handshaken = False
        self.disconnecting = False
        self.disconnected = False
        self.connected = False
        self._closeReason: Exception | None = None
        self._writeClosed = False  # our close_notify is asked for (loseWriteConnection)
        self._readClosed = False  # the peer's close_notify arrived

    # -- as the TCP transport's protocol ---------------------------------------------

    def makeConnection(self, transport: Any) -> None:
        self.tcp = transport
        self._handshake()

    def dataReceived(self, data: bytes) -> None:
        if self._readClosed:
            return  # nothing may follow the peer's close_notify
        self._in.write(data)
        if not self.handshaken:
            self._handshake()
            if not self.handshaken:
                return
        self._readApp()

    def _flush(self) -> None:
        data = self._out.read()
        if data:
            self.tcp.write(data)

    def _handshake(self) -> None:
        try:
            self._ssl.do_handshake()
        except ssl.SSLWantReadError:
            self._flush()
            return
        except (ssl.SSLError, ssl.CertificateError, OSError) as e:
            self._flush()
            self._handshakeFailed(e)
            return
        self._flush()
        self.handshaken = True
        self._handshakeDone()
        if self.protocol is not None and not self.disconnected:
            handshakeCompleted = getattr(self.protocol, "handshakeCompleted", None)
            if handshakeCompleted is not None:
                handshakeCompleted()
            if not self.disconnected:
                self._readApp()  # application data that came with the last handshake flight

    def _readApp(self) -> None:
        read = self._ssl.read
        while not self.disconnected and not self._readClosed:
            try:
                chunk = read(READ_SIZE)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:  # close_notify, after we sent ours
                chunk = b""
            except ssl.SSLError as e:
                self._closeReason = error.ConnectionLost(f"TLS error: {describe(e)}")
                self.tcp.abortConnection()
                break
            if not chunk:  # close_notify from the peer (see the module docstring)
                self._peerClosed()
                break
            self.protocol.dataReceived(chunk)
        if not self.disconnected and self.tcp is not None and not self.tcp.disconnected:
            self._flush()

    def _peerClosed(self) -> None:
        """The peer's close_notify: its side is done; ours may be too (as TCP does with
        an end of stream: a half-closeable protocol hears of it first)."""
        self._readClosed = True
        readConnectionLost = getattr(self.protocol, "readConnectionLost", None)
        if readConnectionLost is not None and not self.disconnecting:
            readConnectionLost()  # half-closed: the protocol may go on writing
            if not self._writeClosed or self.disconnecting or self.disconnected:
                return
        if not self.disconnected:
            self._closeReason = error.ConnectionDone()
            self.disconnecting = True
            self._close()  # our close_notify back, then the TCP close

    # -- as the TCP transport's half-closeable protocol ------------------------------

    def readConnectionLost(self) -> None:
        """The TCP stream ended.  Only after the peer's close_notify, with our side
        still open for a half-closeable protocol, does the connection stay up."""
        if self._readClosed and not self._writeClosed and not self.disconnecting:
            return
        self.tcp.connectionLost(Failure(error.ConnectionDone()))

    def writeConnectionLost(self) -> None:
        """Our close_notify and the TCP FIN after it are sent."""
        writeConnectionLost = getattr(self.protocol, "writeConnectionLost", None)
        if writeConnectionLost is not None:
            writeConnectionLost()

    def connectionLost(self, reason: Failure) -> None:
        self.disconnected = True
        self.connected = False
        if not self.handshaken:
            self._handshakeFailed(reason.value, lost=True)
            return
        if self._closeReason is not None:  # what TLS said beats the TCP-level reason
            reason = Failure(self._closeReason)
        if self.protocol is not None:
            self.protocol.connectionLost(reason)

    # -- as the application's transport ----------------------------------------------

    def write(self, data: bytes) -> None:
        if self.disconnecting or self.disconnected or self._writeClosed:
            return
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"write() takes bytes, not {type(data).__name__}")
        self._encrypt(data)

    def _encrypt(self, data: bytes) -> None:
        try:
            self._ssl.write(data)
        except ssl.SSLError as e:
            self._closeReason = error.ConnectionLost(f"TLS error: {describe(e)}")
            self.tcp.abortConnection()
            return
        self._flush()

    def writeSequence(self, iovec: Any) -> None:
        self.write(b"".join(iovec))

    def loseConnection(self) -> None:
        """Send close_notify after what is buffered, then close the TCP connection."""
        if self.disconnecting or self.disconnected:
            return
        self.disconnecting = True
        self._close()

    def _close(self) -> None:
        self._sendCloseNotify()
        self.tcp.loseConnection()

    def loseWriteConnection(self) -> None:
        """Half-close: close_notify after what is written, then a TCP FIN; reading
        goes on until the peer closes (see the module docstring)."""
        if self._writeClosed or self.disconnecting or self.disconnected:
            return
        self._writeClosed = True
        self._closeWrite()

    def _closeWrite(self) -> None:
        self._sendCloseNotify()
        self.tcp.loseWriteConnection()

    def _sendCloseNotify(self) -> None:
        # ``unwrap()`` calls SSL_shutdown a second time, which reads the peer's records
        # looking for its close_notify and throws application data away: after a
        # half-close that data is still wanted.  So the bytes not read yet are taken
        # out of the incoming BIO for the call (it then only sends) and put back.
        unread = self._in.read()
        try:
            self._ssl.unwrap()
        except (ssl.SSLError, OSError):
            pass  # SSLWantRead: we do not wait for the peer's close_notify
        if unread:
            self._in.write(unread)
        self._flush()

    def startTLS(self, contextFactory: Any, normal: bool = True, *, extra: bytes = b"") -> None:
        raise RuntimeError("TLS is already started on this connection")

    def abortConnection(self) -> None:
        self.tcp.abortConnection()

    def getPeer(self) -> Any:
        return self.tcp.getPeer()

    def getHost(self) -> Any:
        return self.tcp.getHost()

    def getPeerCertificate(self, binary_form: bool = False) -> Any:
        """``ssl``'s ``getpeercert``: a dict of a verified certificate, or with
        ``binary_form`` its DER bytes (there even when it was not verified)."""
        return self._ssl.getpeercert(binary_form)

    def getHandle(self) -> Any:
        return self.tcp.getHandle()

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        self.tcp.registerProducer(producer, streaming)

    def unregisterProducer(self) -> None:
        self.tcp.unregisterProducer()

    def pauseProducing(self) -> None:
        self.tcp.pauseProducing()

    def resumeProducing(self) -> None:
        self.tcp.resumeProducing()

    def stopProducing(self) -> None:
        self.loseConnection()

    # -- subclasses ------------------------------------------------------------------

    def _handshakeDone(self) -> None:
        raise NotImplementedError

    def _handshakeFailed(self, exc: BaseException, lost: bool = False) -> None:
        raise NotImplementedError

    def _startApp(self, protocol: Any) -> None:
        self.protocol = protocol
        self.connected = True
        try:
            protocol.makeConnection(self)
        except Exception:
            log.exception("error in connectionMade of %r; closing it", protocol)
            self.tcp.abortConnection()


class TLSClientProtocol(_TLSProtocol):
    """The client side: reports to the connect attempt until the handshake is done."""

    def __init__(self, context: ssl.SSLContext, hostname: str, attempt: Any) -> None:
        super().__init__(context, False, hostname.strip("[]") or None)
        self.attempt = attempt

    def _handshakeDone(self) -> None:
        peer = self.tcp.getPeer()
        protocol = self.attempt.tlsReady(self, peer)
        if protocol is None:
            self.attempt.connector._connectionFailed(
                Failure(error.UserError(None, "the factory built no protocol"))
            )
            self.tcp.abortConnection()
            return
        self.tcp.connector = self.attempt.connector
        self._startApp(protocol)

    def _handshakeFailed(self, exc: BaseException, lost: bool = False) -> None:
        reason = f"connection closed during the TLS handshake ({exc})" if lost else describe(exc)
        failure = error.TLSError(None, reason)
        failure.__cause__ = exc  # for a caller that explains it (logbot.bot.conn_errors)
        self.attempt.fail(failure)


class TLSServerProtocol(_TLSProtocol):
    """The server side: the factory builds a protocol once the handshake is done."""

    def __init__(self, context: ssl.SSLContext, factory: Any, peer: Any) -> None:
        super().__init__(context, True, None)
        self.factory = factory
        self.peer = peer

    def _handshakeDone(self) -> None:
        try:
            protocol = self.factory.buildProtocol(self.peer)
        except Exception:
            log.exception("error in buildProtocol of %r", self.factory)
            protocol = None
        if protocol is None:
            self.tcp.abortConnection()
            return
        self._startApp(protocol)

    def _handshakeFailed(self, exc: BaseException, lost: bool = False) -> None:
        log.info(
            "TLS handshake with %s:%s failed: %s", self.peer.host, self.peer.port, describe(exc)
        )
        if not lost:
            self.tcp.abortConnection()
