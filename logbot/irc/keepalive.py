"""Detect a dead link: ping after a quiet period, give up after a deadline.

TCP can take many minutes to notice a vanished peer (a NAT that forgot us,
a suspended laptop, a server that hangs with its sockets open).  So after
``interval`` seconds without receiving anything we send our own PING; if still
nothing at all has arrived ``timeout`` seconds after the last data, the link is
dead.  Any received line counts, not only our PONG: a busy channel proves the link
as well.

Everything sent to us while the link was dead is lost, and a logging bot must say
from when: :attr:`Keepalive.last_received` (the core's monotonic clock) is that
moment, not the moment of the drop.  The defaults (:data:`PING_INTERVAL`,
:data:`PING_TIMEOUT`) bound that loss to 90 s, and notice before the servers
measured drop us themselves (90-150 s of silence).
"""

from __future__ import annotations

__all__ = ["PING_INTERVAL", "PING_TIMEOUT", "Keepalive"]

PING_INTERVAL = 30.0  # seconds of silence before we PING
PING_TIMEOUT = 90.0  # seconds of silence (since the last data) that make the link dead


class Keepalive:
    def __init__(self, interval: float = PING_INTERVAL, timeout: float = PING_TIMEOUT) -> None:
        if not 0 < interval < timeout:
            raise ValueError("need 0 < interval < timeout")
        self.interval = interval
        self.timeout = timeout
        self.last_received: float | None = None
        self._pinged = False

    def data_received(self, now: float) -> None:
        self.last_received = now
        self._pinged = False

    def poll(self, now: float) -> str | None:
        """``"ping"`` (send one now), ``"dead"`` (close), or ``None``."""
        last = self.last_received
        if last is None:
            return None
        # ``last + step``, as in next_deadline: a wake-up at that deadline must find it
        # due (``now - last >= step`` can be false there by float rounding).
        if now >= last + self.timeout:
            return "dead"
        if now >= last + self.interval and not self._pinged:
            self._pinged = True
            return "ping"
        return None

    def silent_for(self, now: float) -> float:
        return 0.0 if self.last_received is None else now - self.last_received

    def next_deadline(self) -> float | None:
        """When :meth:`poll` may next have something to say."""
        if self.last_received is None:
            return None
        step = self.timeout if self._pinged else self.interval
        return self.last_received + step
