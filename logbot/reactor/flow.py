"""Buffered non-blocking writing with producer flow control: TCP and pipes alike.

``BufferedWriter`` is mixed into ``tcp.Connection`` and ``process_pipes.PipeWriter``;
both write to a non-blocking descriptor and differ only in the call that sends
(``socket.send`` or ``os.write``) and in what closing means.  Why it works this way:

* ``write()`` sends at once when nothing is buffered; only the rest of a partial send
  is buffered, and only then is the reactor asked for writability.  A round trip of a
  line protocol is therefore one send and no ``epoll_ctl``.
* The buffer is one ``bytearray``: appends are amortised O(1) and CPython deletes from
  its front in O(1), so a 10 MiB backlog drains without quadratic copying.
* A streaming producer is paused when the buffer passes ``highWater`` and resumed when
  it drains below ``lowWater``; a pull (non-streaming) producer is asked for its next
  piece each time the buffer is empty, even when its last piece left inside
  ``write()``.  Without a producer, ``write`` buffers whatever it is given, as Twisted
  does: the caller decides.

The class using it provides the attributes ``_buf``, ``_send``, ``reactor``,
``producer``, ``_streaming``, ``_producerPaused``, ``highWater``, ``lowWater``,
``_noWrite`` (True once writes must be dropped), ``disconnecting``, ``disconnected``,
and three hooks: ``_writeFailed(exc)`` (a send inside ``write()`` failed: close on the
next turn, never re-entrantly), ``_sendFailed(exc)`` (a send in ``doWrite`` failed:
close now) and ``_flushed()`` (the buffer is empty and no producer wants to go on).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

log = logging.getLogger("logbot.reactor")

HIGH_WATER = 64 * 1024
LOW_WATER = 16 * 1024

WOULD_BLOCK = (BlockingIOError, InterruptedError)


def _not_bytes(data: Any) -> TypeError:
    return TypeError(f"write() takes bytes, not {type(data).__name__}")


class _WriterHost(Protocol):
    """What a class mixing in ``BufferedWriter`` provides (see the module docstring).

    The mixin's methods take ``self`` as this protocol: the mixin itself has empty
    ``__slots__`` and no state, so its users (``tcp.Connection``, ``PipeWriter``) are
    checked against this list wherever they call a ``BufferedWriter`` method.
    """

    _buf: bytearray
    reactor: Any
    producer: Any
    _streaming: bool
    _producerPaused: bool
    highWater: int
    lowWater: int
    _noWrite: bool
    disconnecting: bool
    disconnected: bool

    def _send(self, data: Any, /) -> int: ...

    def _writeFailed(self, e: OSError) -> None: ...

    def _sendFailed(self, e: OSError) -> None: ...

    def _flushed(self) -> None: ...

    def write(self, data: bytes) -> None: ...


class BufferedWriter:
    """``write``/``doWrite`` and producer registration over ``self._send``."""

    __slots__ = ()

    def write(self: _WriterHost, data: bytes) -> None:
        """Send ``data`` now if possible; buffer what the descriptor does not take."""
        if self._noWrite:
            return
        buf = self._buf
        if buf:
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise _not_bytes(data)
            buf += data
        else:
            if not data:
                if not isinstance(data, (bytes, bytearray, memoryview)):
                    raise _not_bytes(data)
                return
            try:
                sent = self._send(data)
            except WOULD_BLOCK:
                sent = 0
            except TypeError:
                raise _not_bytes(data) from None
            except OSError as e:
                self._writeFailed(e)
                return
            if sent == len(data):
                if self.producer is not None and not self._streaming:
                    # All sent at once: a pull producer must still be asked for its
                    # next piece, which doWrite does when the descriptor is writable.
                    self.reactor.addWriter(self)
                return
            buf += memoryview(data)[sent:]
            self.reactor.addWriter(self)
        if self.producer is not None and len(buf) > self.highWater and not self._producerPaused:
            self._producerPaused = True
            if self._streaming:
                self.producer.pauseProducing()

    def writeSequence(self: _WriterHost, iovec: Any) -> None:
        self.write(b"".join(iovec))

    def doWrite(self: _WriterHost) -> None:
        buf = self._buf
        if buf:
            try:
                sent = self._send(buf)
            except WOULD_BLOCK:
                return
            except OSError as e:
                self._sendFailed(e)
                return
            del buf[:sent]
            if self._producerPaused and len(buf) <= self.lowWater:
                # Below the low-water mark: let a streaming producer go on now, so its
                # next data arrives before the buffer runs dry.
                self._producerPaused = False
                if self._streaming and self.producer is not None:
                    self.producer.resumeProducing()
                if self.disconnected:
                    return
            if buf:
                return
        self.reactor.removeWriter(self)
        if self.disconnected:
            return
        if self.producer is not None and not self._streaming:
            self.producer.resumeProducing()  # a pull producer: ask for the next piece
            if self._buf or self.disconnected:
                return
        self._flushed()

    def registerProducer(self: _WriterHost, producer: Any, streaming: bool) -> None:
        if self.producer is not None:
            raise RuntimeError(f"a producer ({self.producer!r}) is already registered")
        if self.disconnected:
            producer.stopProducing()
            return
        self.producer = producer
        self._streaming = bool(streaming)
        if not streaming:
            producer.resumeProducing()

    def unregisterProducer(self: _WriterHost) -> None:
        self.producer = None
        self._producerPaused = False
        if self.disconnecting and not self._buf and not self.disconnected:
            self.reactor.addWriter(self)  # a loseConnection was waiting for it

    def _stopProducer(self: _WriterHost) -> None:
        """On close: drop the buffer and tell the producer to stop."""
        self._buf = bytearray()
        producer, self.producer = self.producer, None
        if producer is not None:
            try:
                producer.stopProducing()
            except Exception:
                log.exception("error in stopProducing of %r", producer)
