"""poll: no FD_SETSIZE limit, but every wait passes the whole set (O(n) per wait).

Portable to every Unix.  The seed's story: poll lifts select's 1,024 ceiling, but as the
number of descriptors grows each wait costs more, which is why epoll is the default.
"""

from __future__ import annotations

import math
import select


class PollBackend:
    name = "poll"

    def __init__(self) -> None:
        self._p = select.poll()
        self.register = self._p.register
        self.modify = self._p.modify
        self._poll = self._p.poll

    def unregister(self, fd: int) -> None:
        try:
            self._p.unregister(fd)
        except KeyError:
            pass

    def poll(self, timeout: float | None) -> list[tuple[int, int]]:
        if timeout is None:
            return self._poll()
        return self._poll(math.ceil(timeout * 1000) if timeout > 0 else 0)

    def close(self) -> None:
        """Drop the registrations (nothing kernel-side to release).  An empty poll object
        takes the old one's place, so that a late ``unregister`` from a transport that
        closes after the reactor is a no-op, as on the other backends."""
        self._p = select.poll()
        self.register = self._p.register
        self.modify = self._p.modify
        self._poll = self._p.poll
