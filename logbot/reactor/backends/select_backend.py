"""select: the oldest call, limited to descriptors below FD_SETSIZE (1,024 on Linux).

The seed's story: a server on select failed at its 1,025th client.  Calling
``select()`` with a larger descriptor raises ``ValueError`` from inside the loop (or, in
C, silently corrupts memory), so this backend refuses such a descriptor at
``register`` with an error that names the limit and the way out.
"""

from __future__ import annotations

import select

from logbot.reactor.backends.contract import ERROR, READ, WRITE

#: glibc's fixed size of ``fd_set``; CPython's select() refuses fds at or above it.
FD_SETSIZE = 1024


class DescriptorTooLargeError(ValueError):
    """A descriptor at or above FD_SETSIZE cannot be watched with select()."""


class SelectBackend:
    name = "select"

    def __init__(self) -> None:
        self._read: set[int] = set()
        self._write: set[int] = set()

    def register(self, fd: int, events: int) -> None:
        if fd >= FD_SETSIZE:
            raise DescriptorTooLargeError(
                f"descriptor {fd} is at or above FD_SETSIZE ({FD_SETSIZE}), which the "
                "select backend cannot watch; use the epoll or poll backend for more "
                "than about 1,000 open files"
            )
        self.modify(fd, events)

    def modify(self, fd: int, events: int) -> None:
        (self._read.add if events & READ else self._read.discard)(fd)
        (self._write.add if events & WRITE else self._write.discard)(fd)

    def unregister(self, fd: int) -> None:
        self._read.discard(fd)
        self._write.discard(fd)

    def poll(self, timeout: float | None) -> list[tuple[int, int]]:
        if not self._read and not self._write:
            # select() with three empty lists is only a sleep; keep it one.
            select.select([], [], [], timeout)
            return []
        try:
            r, w, x = select.select(self._read, self._write, self._read, timeout)
        except (OSError, ValueError):
            return self._find_bad()
        events: dict[int, int] = {}
        for fd in r:
            events[fd] = READ
        for fd in w:
            events[fd] = events.get(fd, 0) | WRITE
        for fd in x:  # out-of-band data: let the read path look
            events[fd] = events.get(fd, 0) | READ
        return list(events.items())

    def _find_bad(self) -> list[tuple[int, int]]:
        """A descriptor was closed while registered: report it as an error."""
        bad = []
        for fd in self._read | self._write:
            try:
                select.select([fd], [], [], 0)
            except (OSError, ValueError):
                bad.append((fd, ERROR))
        return bad

    def close(self) -> None:
        self._read.clear()
        self._write.clear()
