"""Measure the server's round trip: a PING with a token of ours, timed to its PONG.

Why a probe of its own: the keepalive (:mod:`logbot.irc.keepalive`) pings only
after a quiet period, so on a busy channel it never pings and there would be
nothing to time.  While registered, a probe goes out every ``interval`` seconds
whatever arrives; when the keepalive wants a PING and no probe is out, that PING
*is* the probe (one PING, not two).  One probe is out at a time.

The probe is timed from the moment it leaves (:meth:`released`), not from when it
was queued: a long flood queue is our delay, not the server's, and has a metric of
its own.  Its PONG is recognised by the token (``:srv PONG srv :lag3``) and is
consumed by the core, never reported as an event: nobody asked for it but us.

:meth:`lag` is the last round trip or, while a probe has been out for longer than
that, how long it has been out, so that a stalled server shows a growing lag rather
than its last good figure.  It is None until the first probe has left.  Like the
rest of the core, nothing here reads a clock: every method takes ``now``.
"""

from __future__ import annotations

__all__ = ["TOKEN_PREFIX", "LagProbe"]

TOKEN_PREFIX = "lag"


class LagProbe:
    def __init__(self, interval: float = 60.0, first: float | None = None) -> None:
        if interval <= 0 or (first is not None and first < 0):
            raise ValueError("need interval > 0 and first >= 0")
        self.interval = interval
        self.first = interval if first is None else first
        self.last: float | None = None  # seconds of the last measured round trip
        self.probes = 0  # probes sent so far (their tokens are lag1, lag2, ...)
        self._token: str | None = None  # the probe out (queued or sent), if any
        self._sent_at: float | None = None  # when it left; None while it is queued
        self._next: float | None = None  # when the next probe is due; None: not started

    def start(self, now: float) -> None:
        """Registered: the first probe goes out ``first`` seconds from ``now`` (a bot
        wants its lag known soon after connecting), the next ones every ``interval``."""
        self._next = now + self.first

    @property
    def idle(self) -> bool:
        """Started, and no probe out: a PING sent now may be the probe."""
        return self._next is not None and self._token is None

    def due(self, now: float) -> bool:
        return self.idle and now >= self._next  # type: ignore[operator]

    def next_deadline(self) -> float | None:
        """When :meth:`due` next becomes true (None while a probe is out)."""
        return self._next if self._token is None else None

    def probe(self, now: float) -> str:
        """The PING line of a new probe (to be queued now)."""
        self.probes += 1
        self._token = f"{TOKEN_PREFIX}{self.probes}"
        self._sent_at = None
        self._next = now + self.interval
        return f"PING :{self._token}"

    def released(self, lines: list[str], now: float) -> None:
        """``lines`` left for the server at ``now``: start timing if the probe is one."""
        if self._token is not None and self._sent_at is None and f"PING :{self._token}" in lines:
            self._sent_at = now

    def pong(self, token: str, now: float) -> bool:
        """A PONG with ``token`` arrived: True if it answers our probe (consumed)."""
        if self._token is None or token != self._token:
            return False
        if self._sent_at is not None:
            self.last = max(0.0, now - self._sent_at)
        self._token = self._sent_at = None
        return True

    def lag(self, now: float) -> float | None:
        """Seconds: the last round trip, or the time the probe out has been out if longer."""
        if self._sent_at is None:
            return self.last
        out = max(0.0, now - self._sent_at)
        return out if self.last is None or out > self.last else self.last
