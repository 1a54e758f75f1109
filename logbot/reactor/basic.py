"""``LineReceiver``: a protocol that splits the byte stream into lines.

Compatibility surface (Twisted's names, see API.md): ``LineReceiver`` with
``delimiter``, ``MAX_LENGTH``, ``line_mode``, ``lineReceived``, ``sendLine``,
``lineLengthExceeded``, ``setRawMode``, ``setLineMode``, ``rawDataReceived``,
``clearLineBuffer``, ``dataReceived``.

Why ``dataReceived`` looks the way it does (it is the hot path: an IRC bot in a busy
network sees hundreds of thousands of lines a second):

* A chunk is split in one pass with ``bytes.split`` (C speed) and only the last,
  incomplete piece is kept.  Twisted splits off one line at a time and rebuilds the
  buffer each time, which is quadratic in the number of lines per chunk.
* The lines of a chunk are delivered from an iterator stored on the instance.  The
  per-line work is the length check, the call, and the checks that must happen after
  each call: the protocol may have switched to raw mode, closed the transport
  (``transport.disconnecting``: no more lines are delivered), returned a true value
  (Twisted's "stop" convention), or called ``clearLineBuffer()``, which drains the
  iterator and so ends the loop without an extra check.
* Re-entrant calls (``dataReceived`` or ``setLineMode(extra)`` from inside
  ``lineReceived``/``rawDataReceived``) only append to the buffer; the outer call
  processes that data in order after the lines of the current chunk.
* Memory is bounded: a line longer than ``MAX_LENGTH`` goes to ``lineLengthExceeded``
  whether it is complete or not, so the buffer never holds more than ``MAX_LENGTH``
  plus a partial delimiter between chunks, and ``MAX_LENGTH`` plus one chunk while a
  chunk is processed.  After an incomplete overlong line, the rest of that line (up to
  the next delimiter) is discarded instead of being delivered as if it were a line;
  ``lineLengthExceeded`` is called once per overlong line.  (Twisted's default closes
  the connection anyway; this matters to a subclass that overrides it to carry on.)
* Twisted hands ``lineLengthExceeded`` the overlong line *and everything after it*; we
  hand it only the overlong line (or, when incomplete, what was buffered of it) and go
  on with the following lines unless the protocol disconnected.

Changing ``delimiter`` from inside ``lineReceived`` takes effect from the next chunk.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from logbot.reactor.protocol import Protocol

_EMPTY_ITERATOR: Iterator[bytes] = iter(())


def _partial_delimiter(data: bytes, delimiter: bytes) -> bytes:
    """The end of ``data`` that could be the start of a delimiter split across chunks."""
    keep = len(delimiter) - 1
    return data[-keep:] if keep else b""


class LineReceiver(Protocol):
    """Calls ``lineReceived(line)`` for each delimited line (in line mode) or
    ``rawDataReceived(data)`` for the bytes as they come (in raw mode)."""

    delimiter = b"\r\n"
    MAX_LENGTH = 16384
    line_mode = 1

    _buffer = b""
    _busy = False
    _discarding = False  # inside an overlong line: drop bytes up to the next delimiter
    _pending: Iterator[bytes] = _EMPTY_ITERATOR  # lines of the chunk not yet delivered

    # -- requests ---------------------------------------------------------------------

    def sendLine(self, line: bytes) -> Any:
        """Write ``line`` and the delimiter in one ``transport.write`` call."""
        return self.transport.write(line + self.delimiter)

    def setRawMode(self) -> None:
        """Deliver further data to ``rawDataReceived`` as it comes."""
        self.line_mode = 0

    def setLineMode(self, extra: bytes = b"") -> Any:
        """Deliver further data as lines; ``extra`` is handled as if just received."""
        self.line_mode = 1
        if extra:
            return self.dataReceived(extra)
        return None

    def clearLineBuffer(self) -> bytes:
        """Remove and return the data received but not delivered yet.

        Called from ``lineReceived`` it also returns the later lines of the current
        chunk (with their delimiters), which are then not delivered.
        """
        rest = self._rest()
        self._discarding = False
        return rest

    # -- events -----------------------------------------------------------------------

    def lineReceived(self, line: bytes) -> Any:
        """A line arrived, without its delimiter."""
        raise NotImplementedError

    def rawDataReceived(self, data: bytes) -> Any:
        """Bytes arrived in raw mode."""
        raise NotImplementedError

    def lineLengthExceeded(self, line: bytes) -> Any:
        """A line longer than ``MAX_LENGTH`` arrived (or is arriving); closes by default."""
        return self.transport.loseConnection()

    # -- the hot path -----------------------------------------------------------------

    def _rest(self) -> bytes:
        """Take the undelivered lines of the current chunk and the buffer, as bytes."""
        pending = list(self._pending)  # drains the iterator the delivery loop reads
        self._pending = _EMPTY_ITERATOR
        rest, self._buffer = self._buffer, b""
        if pending:
            delimiter = self.delimiter
            rest = delimiter.join(pending) + delimiter + rest
        return rest

    def _stopped(self) -> bool:
        transport = self.transport
        return transport is not None and bool(getattr(transport, "disconnecting", False))

    def dataReceived(self, data: bytes) -> Any:
        """Split ``data`` into lines and deliver them (see the module docstring)."""
        if self._busy:  # re-entered: the outer call delivers this after what it has
            self._buffer += data
            return None
        if self._stopped():
            return None  # the protocol asked to close: it gets no more data
        self._busy = True
        try:
            return self._deliver(data)
        finally:
            self._busy = False
            self._pending = _EMPTY_ITERATOR

    def _deliver(self, data: bytes) -> Any:
        if self._buffer:
            data = self._buffer + data
        self._buffer = b""
        while data:
            if not self.line_mode:
                why = self.rawDataReceived(data)
                data, self._buffer = self._buffer, b""
                if why or self._stopped():
                    self._buffer = data
                    return why
                continue

            delimiter = self.delimiter
            if self._discarding:
                end = data.find(delimiter)
                if end < 0:
                    self._buffer = _partial_delimiter(data, delimiter)
                    return None
                self._discarding = False
                data = data[end + len(delimiter) :]
                continue

            lines = data.split(delimiter)
            tail = lines.pop()
            self._buffer = tail
            self._pending = pending = iter(lines)
            max_length = self.MAX_LENGTH
            line_received = self.lineReceived
            transport = self.transport
            stop = False
            why = None
            for line in pending:
                if len(line) > max_length:
                    why = self.lineLengthExceeded(line)
                else:
                    why = line_received(line)
                if (
                    why
                    or not self.line_mode
                    or (transport is not None and getattr(transport, "disconnecting", False))
                ):
                    stop = True
                    break
            if stop:
                if why or self._stopped():
                    self._buffer = self._rest()  # kept for clearLineBuffer(), not delivered
                    return why
                data = self._rest()  # switched to raw mode: the rest is raw data
                continue
            if self._buffer is not tail:  # re-entered or cleared meanwhile: go again
                data, self._buffer = self._buffer, b""
                continue
            if len(tail) >= max_length + len(delimiter):
                # No delimiter within reach: the line is too long whatever comes next.
                # Keep a possible partial delimiter to find where the line ends.
                self._buffer = _partial_delimiter(tail, delimiter)
                self._discarding = True
                return self.lineLengthExceeded(tail)
            return None
        return None
