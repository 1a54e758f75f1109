"""The self-pipe that wakes a reactor blocked in ``epoll_wait``/``poll``/``select``.

Another thread (``callFromThread``) or a signal handler appends work to a queue and
writes one byte here; the read end is an ordinary reader of the reactor, so the wait
returns at once and the loop runs the queued work.  Both ends are non-blocking: when the
pipe is full the loop is certainly going to wake, so a failed write is harmless.
"""

from __future__ import annotations

import os


class Waker:
    """A selectable whose only job is to make the next wait return."""

    __slots__ = ("_r", "_w", "disconnected")

    def __init__(self) -> None:
        self._r, self._w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.disconnected = False

    def fileno(self) -> int:
        return self._r

    @property
    def write_fd(self) -> int:
        """The end that ``signal.set_wakeup_fd`` writes to."""
        return self._w

    def wake(self) -> None:
        """Make the reactor's current or next wait return (thread- and signal-safe)."""
        try:
            os.write(self._w, b"x")
        except OSError:  # full (a wake-up is pending anyway) or closed at shutdown
            pass

    def doRead(self) -> None:
        try:
            while len(os.read(self._r, 4096)) == 4096:
                pass
        except OSError:
            pass

    def doWrite(self) -> None:  # never registered for writing
        pass

    def connectionLost(self, reason: object) -> None:
        self.close()

    def close(self) -> None:
        if not self.disconnected:
            self.disconnected = True
            os.close(self._r)
            os.close(self._w)
