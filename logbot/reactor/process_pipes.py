"""The parent's ends of the pipes to a child process: selectables for the reactor.

``PipeReader`` reads what the child writes on a ``"r"`` descriptor; ``PipeWriter``
buffers what the parent writes on a ``"w"`` descriptor.  Both report to their
``Process`` (``process.py``) through ``_childDataReceived`` and ``_childConnectionLost``.

Writing is ``flow.BufferedWriter``, the very code of ``tcp.Connection``: ``write()``
writes at once when nothing is buffered, only the rest of a partial write goes into one
``bytearray`` and asks the reactor for writability, and a registered producer is paused
above ``highWater`` (64 KiB) and resumed below ``lowWater`` (16 KiB).

Why a write pipe is also watched for *reading*: on Linux the write end of a pipe
becomes readable (POLLERR, which select reports as readable) only when the child has
closed the read end, e.g. by exiting.  Without this, a child that exits while the
parent never closes its stdin would leave that pipe open for ever and
``processEnded`` would never come.  Twisted calls this the "read hack".

``PTYMaster`` is the parent's end of a child's terminal (``spawnProcess(...,
usePTY=True)``): one descriptor, written like a ``PipeWriter`` (it is one) and read
like a ``PipeReader``.  Whatever the child writes to its terminal arrives as
``childDataReceived(1, data)``.  Linux ends a pty whose other side everyone has closed
with ``EIO`` from ``read()`` rather than an empty read: both mean the terminal is gone.

Compatibility surface: none directly; ``Process`` (process.py) exposes these as
``transport.pipes[childFD]``, as Twisted does.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Callable
from typing import Any

from logbot.reactor import error
from logbot.reactor.failure import Failure
from logbot.reactor.flow import HIGH_WATER, LOW_WATER, WOULD_BLOCK, BufferedWriter

log = logging.getLogger("logbot.reactor.process")

READ_SIZE = 65536


class _Pipe:
    """What both pipe ends share: the descriptor, the owner, and closing."""

    def __init__(self, reactor: Any, fd: int, process: Any, childFD: int) -> None:
        self.reactor = reactor
        self._fd = fd
        self.process = process
        self.childFD = childFD
        self.disconnecting = False
        self.disconnected = False
        self._lostReason: Failure | None = None
        self._noWrite = False

    def fileno(self) -> int:
        return self._fd

    def _closeLater(self, reason: Failure) -> None:
        """Close on the next turn, so the protocol never hears of it re-entrantly."""
        if self._lostReason is None and not self.disconnected:
            self._noWrite = True
            self._lostReason = reason
            self.reactor.removeSelectable(self)
            self.reactor.callLater(0, self.connectionLost, reason)

    def connectionLost(self, reason: Failure) -> None:
        """Close our end and tell the process (which tells the protocol)."""
        if self.disconnected:
            return
        self.disconnected = True
        self._noWrite = True
        self.reactor.removeSelectable(self)
        os.close(self._fd)
        self._closed()
        self.process._childConnectionLost(self.childFD, reason)

    def _closed(self) -> None:
        """Release what this end holds besides its descriptor."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} fd={self._fd} childFD={self.childFD}>"


class _Reads:
    """Reading what the child writes, for a pipe's read end and a terminal's master:
    the reader registration and ``doRead``.  ``reportFD`` is the child descriptor the
    data is reported as; ``_endOfInput(e)`` says whether a read error means the end."""

    reactor: Any
    process: Any
    disconnected: bool
    _fd: int
    _lostReason: Failure | None
    _reading: bool
    reportFD: int
    connectionLost: Callable[[Failure], None]  # _Pipe's

    def startReading(self) -> None:
        if not self._reading and not self.disconnected and self._lostReason is None:
            self._reading = True
            self.reactor.addReader(self)

    def stopReading(self) -> None:
        if self._reading:
            self._reading = False
            self.reactor.removeReader(self)

    def _endOfInput(self, e: OSError) -> bool:
        return False

    def doRead(self) -> None:
        try:
            data = os.read(self._fd, READ_SIZE)
        except WOULD_BLOCK:
            return
        except OSError as e:
            if not self._endOfInput(e):
                self.connectionLost(Failure(error.ConnectionLost(e.strerror or str(e))))
                return
            data = b""
        if data:
            self.process._childDataReceived(self.reportFD, data)
        else:
            self.connectionLost(Failure(error.ConnectionDone()))


class PipeReader(_Reads, _Pipe):
    """The parent reads what the child writes on ``childFD``."""

    def __init__(self, reactor: Any, fd: int, process: Any, childFD: int) -> None:
        _Pipe.__init__(self, reactor, fd, process, childFD)
        self._reading = False
        self.reportFD = childFD

    def doWrite(self) -> None:  # never registered for writing
        pass

    def loseConnection(self) -> None:
        """Stop reading and close our end now (the child gets EPIPE if it writes)."""
        if self.disconnected or self.disconnecting:
            return
        self.disconnecting = True
        self._reading = False
        self._closeLater(Failure(error.ConnectionDone()))


class PipeWriter(BufferedWriter, _Pipe):
    """The parent writes to the child's ``childFD``: buffered, with flow control."""

    def __init__(self, reactor: Any, fd: int, process: Any, childFD: int) -> None:
        super().__init__(reactor, fd, process, childFD)
        self._buf = bytearray()
        self.producer: Any = None
        self._streaming = False
        self._producerPaused = False
        self.highWater = HIGH_WATER
        self.lowWater = LOW_WATER

    @property
    def bufferedBytes(self) -> int:
        """Bytes written by the parent that the child has not yet taken."""
        return len(self._buf)

    def startWatching(self) -> None:
        """Watch for the child closing its end (see the module docstring)."""
        self.reactor.addReader(self)

    def doRead(self) -> None:
        # A write end is readable only once the reader has gone.
        self.connectionLost(Failure(error.ConnectionLost("the child closed the pipe")))

    # write, writeSequence, doWrite, registerProducer, unregisterProducer:
    # flow.BufferedWriter, the same code as TCP's.

    def _send(self, data: Any) -> int:
        return os.write(self._fd, data)

    def _writeFailed(self, e: OSError) -> None:  # EPIPE: the child closed its end
        self._closeLater(Failure(error.ConnectionLost(e.strerror or str(e))))

    def _sendFailed(self, e: OSError) -> None:
        self.connectionLost(Failure(error.ConnectionLost(e.strerror or str(e))))

    def _flushed(self) -> None:
        if self.disconnecting and self.producer is None:
            self.connectionLost(Failure(error.ConnectionDone()))

    def loseConnection(self) -> None:
        """Write what is buffered, then close (the child reads EOF)."""
        if self.disconnecting or self.disconnected:
            return
        self.disconnecting = True
        self._noWrite = True
        self.reactor.addWriter(self)  # doWrite flushes and closes when empty

    def _closed(self) -> None:
        self._stopProducer()


class PTYMaster(_Reads, PipeWriter):
    """The parent's end of the child's terminal: read and written on one descriptor."""

    def __init__(self, reactor: Any, fd: int, process: Any, childFD: int) -> None:
        PipeWriter.__init__(self, reactor, fd, process, childFD)
        self._reading = False
        self.reportFD = 1  # the terminal's output, stdout and stderr together

    def startWatching(self) -> None:
        self.startReading()  # reading sees the hang-up: no separate watch needed

    def _endOfInput(self, e: OSError) -> bool:
        return e.errno == errno.EIO  # every holder of the terminal's other side closed it

    def loseConnection(self) -> None:
        """Write what is buffered, then close the terminal (the child gets SIGHUP)."""
        self.stopReading()
        super().loseConnection()
