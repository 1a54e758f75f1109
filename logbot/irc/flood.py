"""Outgoing flood control: one token bucket for every line we send.

Servers count *all* lines of a client against one budget, so one bucket holds
every line.  The default (a burst of 4, then 1 line a second) stays under the
throttling measured on ngircd (burst 5, 3/s), InspIRCd (burst 9, 1/s; it kills
a client with more than 10 KB queued) and Ergo (burst 5, 2/s).

Lines of a few commands (``PONG``, ``CAP``, ``AUTHENTICATE``, ``QUIT``) go in
a priority lane: they jump the queue and are sent at once even when the
bucket is empty, because a late PONG costs the connection and registration
must not wait behind chatter.  They are still charged to the bucket, which
may go into debt; the ordinary lines that follow pay it back.  The class
never reads a clock: every method takes ``now`` (monotonic seconds).

A ``JOIN`` line keeps its place in the queue but, once at its head, may put the
bucket into debt too, down to ``-burst`` tokens; past that it waits for a token like
any line.  Registration (CAP LS, NICK, USER, CAP REQ, CAP END) leaves the bucket in
debt, so the JOINs queued at 001 used to wait 1-2 s for a token, and everything said
in the channels meanwhile was lost after every reconnect.  Now the first JOIN lines
(3 or 4 of up to 512 bytes: hundreds of channels) leave with 001.  The charge keeps
the pace the server sees: the lines after them leave no sooner than when the JOINs
waited for tokens, and the bounded debt keeps a long channel list from arriving at
once (InspIRCd kills a client with 10 KB waiting).  Keeping the place keeps a PART
queued before a JOIN of the same channel before it.  tests/irc/test_flood_join.py
replays this against a model of InspIRCd's limits.
"""

from __future__ import annotations

from collections import deque

__all__ = ["EAGER_COMMANDS", "PRIORITY_COMMANDS", "FloodControl", "TokenBucket"]

PRIORITY_COMMANDS = frozenset({"PONG", "CAP", "AUTHENTICATE", "QUIT"})
#: Commands that, at the head of the queue, may borrow up to ``burst`` tokens.
EAGER_COMMANDS = frozenset({"JOIN"})

#: How far short of a whole token still counts as one: the refill at the time
#: :meth:`TokenBucket.ready_at` names can fall short by float rounding (at rate 10,
#: t=0.6 held 0.9999999999999998), and a caller woken then must find its token, or it
#: asks for the same time again (for ever, on a fake clock).
ROUNDING = 1e-9


class TokenBucket:
    """``burst`` tokens at most, refilled at ``rate`` tokens per second."""

    def __init__(self, burst: float, rate: float) -> None:
        if burst < 1 or rate <= 0:
            raise ValueError(f"need burst >= 1 and rate > 0, got {burst}, {rate}")
        self.burst = burst
        self.rate = rate
        self.tokens = float(burst)
        self._last: float | None = None

    def _refill(self, now: float) -> None:
        if self._last is not None and now > self._last:
            self.tokens = min(self.burst, self.tokens + (now - self._last) * self.rate)
        if self._last is None or now > self._last:
            self._last = now

    def try_take(self, now: float) -> bool:
        """Take one token if there is one."""
        self._refill(now)
        if self.tokens >= 1 - ROUNDING:
            self.tokens -= 1
            return True
        return False

    def charge(self, now: float) -> None:
        """Take one token even if that puts the bucket into debt."""
        self._refill(now)
        self.tokens -= 1

    def try_borrow(self, now: float, limit: float) -> bool:
        """Take one token if that leaves the bucket no more than ``limit`` in debt."""
        self._refill(now)
        if self.tokens - 1 >= -limit - ROUNDING:
            self.tokens -= 1
            return True
        return False

    def ready_at(self, now: float, limit: float = 0.0) -> float:
        """The earliest time at which :meth:`try_take` (or :meth:`try_borrow` with
        ``limit``) succeeds."""
        self._refill(now)
        return now + max(0.0, (1 - limit - self.tokens) / self.rate)


def _command_of(line: str) -> str:
    tokens = line.split(" ", 2)
    if tokens[0].startswith("@"):
        tokens = tokens[1:]
    if tokens and tokens[0].startswith(":"):
        tokens = tokens[1:]
    return tokens[0].upper() if tokens else ""


class FloodControl:
    """A queue of outgoing lines, released as the bucket allows.

    ``enabled=False`` releases everything at once (for servers that exempt
    the bot, and for tests).
    """

    def __init__(self, burst: int = 4, rate: float = 1.0, enabled: bool = True) -> None:
        self.bucket = TokenBucket(burst, rate)
        self.enabled = enabled
        self._priority: deque[str] = deque()
        self._normal: deque[tuple[str, bool]] = deque()  # (line, may borrow)

    def push(self, line: str) -> None:
        """Queue one line (no CRLF); priority commands jump the queue."""
        command = _command_of(line)
        if command in PRIORITY_COMMANDS:
            self._priority.append(line)
        else:
            self._normal.append((line, command in EAGER_COMMANDS))

    def __len__(self) -> int:
        return len(self._priority) + len(self._normal)

    @property
    def queue_length(self) -> int:
        """Lines waiting (for metrics)."""
        return len(self)

    def clear(self) -> None:
        """Forget every queued line (the connection is gone)."""
        self._priority.clear()
        self._normal.clear()

    def pop_ready(self, now: float) -> list[str]:
        """Remove and return the lines that may be sent at ``now``, in order."""
        ready: list[str] = []
        bucket = self.bucket
        while self._priority:
            bucket.charge(now)
            ready.append(self._priority.popleft())
        normal = self._normal
        while normal:
            line, borrows = normal[0]
            if self.enabled and not (
                bucket.try_borrow(now, bucket.burst) if borrows else bucket.try_take(now)
            ):
                break
            normal.popleft()
            ready.append(line)
        return ready

    def next_ready_time(self, now: float) -> float | None:
        """When :meth:`pop_ready` will next return a line; ``None`` if idle."""
        if self._priority or (self._normal and not self.enabled):
            return now
        if self._normal:
            return self.bucket.ready_at(now, self.bucket.burst if self._normal[0][1] else 0.0)
        return None
