"""Outgoing flood control: one token bucket for every line we send, in three lanes.

Servers count *all* lines of a client against one budget, so one bucket holds
every line.  The default (a burst of 4, then 1 line a second) stays under the
throttling measured on ngircd (burst 5, 3/s), InspIRCd (burst 9, 1/s; it kills
a client with more than 10 KB queued) and Ergo (burst 5, 2/s).  The class never
reads a clock: every method that needs the time takes ``now`` (monotonic seconds).

**The priority lane.**  Lines of a few commands (``PONG``, ``CAP``, ``AUTHENTICATE``,
``QUIT``) jump every queue and are sent at once even when the bucket is empty,
because a late PONG costs the connection and registration must not wait behind
chatter.  They are still charged to the bucket, which may go into debt, but never
below ``1 - burst`` tokens (:attr:`TokenBucket.floor`): the debt used to be
unbounded, and after 100,000 PINGs from a server the next line of ours waited 27.8
hours.  Now a line waits for that debt at most the bucket's refill time
(``burst / rate``, 4 s by default).

**The protocol lane.**  Registration (``PASS``, ``NICK``, ``USER``), ``JOIN``,
``WHO`` (the account check of an admin command), ``CHATHISTORY`` and ``MONITOR``
wait for tokens like any line but go before every line of the ordinary lane: a WHO
queued behind an hour of plugin replies timed out and an admin was refused.  A
JOIN of a channel that a queued ``PART`` leaves waits in the ordinary lane behind
that PART instead, so that a PART and a JOIN of one channel keep their order.  With
flood control off nothing waits, and every line but the priority lane's leaves in
the order it was queued.

**The ordinary lane** holds everything else in order: replies (``PRIVMSG``,
``NOTICE``), PART, MODE, the keepalive PING...  Replies are bounded: at most
``max_queued`` reply lines wait in all and ``max_per_target`` to one target (a
line over either bound is dropped and counted in :attr:`FloodControl.overflowed`),
and a reply still waiting ``max_reply_wait`` seconds after it was queued is
dropped when its turn comes (:attr:`FloodControl.expired`), unless it continues a
reply whose line before has left (``push(..., continues=True)``): a reply is never
cut in the middle.  At the plugins' rate limits, users could queue more lines than
the bucket sends (2,442 in an hour in one channel, on the fake clock), and the
replies went out hours late.  :meth:`FloodControl.admit`
lets the caller ask first, so that a reply that would be dropped is refused while
the asker can still be told (``logbot.plugins.runner``).  The bounds are off in
this class and in :class:`~logbot.irc.client.IRCClient` (Twisted's keeps every line
too), and the logging bot's client sets them to ``MAX_QUEUED_LINES``,
``MAX_QUEUED_PER_TARGET`` and ``MAX_REPLY_WAIT``.  They
apply only while flood control is enabled: when it is off, the queue empties at
every ``pop_ready``.

A ``JOIN`` line at the head of its lane may put the bucket into debt too, down to
``-burst`` tokens; past that it waits for a token like any line.  Registration
(CAP LS, NICK, USER, CAP REQ, CAP END) leaves the bucket in debt, so the JOINs
queued at 001 used to wait 1-2 s for a token, and everything said in the channels
meanwhile was lost after every reconnect.  Now the first JOIN lines (3 or 4 of up
to 512 bytes: hundreds of channels) leave with 001.  The charge keeps the pace the
server sees: the lines after them leave no sooner than when the JOINs waited for
tokens, and the bounded debt keeps a long channel list from arriving at once
(InspIRCd kills a client with 10 KB waiting).  tests/irc/test_flood_join.py
replays this against a model of InspIRCd's limits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

__all__ = [
    "EAGER_COMMANDS",
    "MAX_QUEUED_LINES",
    "MAX_QUEUED_PER_TARGET",
    "MAX_REPLY_WAIT",
    "PRIORITY_COMMANDS",
    "PROTOCOL_COMMANDS",
    "REPLY_COMMANDS",
    "FloodControl",
    "TokenBucket",
]

PRIORITY_COMMANDS = frozenset({"PONG", "CAP", "AUTHENTICATE", "QUIT"})
#: Paced, but ahead of every reply (see the module doc).
PROTOCOL_COMMANDS = frozenset({"PASS", "NICK", "USER", "JOIN", "WHO", "CHATHISTORY", "MONITOR"})
#: Commands that, at the head of their lane, may borrow up to ``burst`` tokens.
EAGER_COMMANDS = frozenset({"JOIN"})
#: The lines that are bounded and expire: what people read.
REPLY_COMMANDS = frozenset({"PRIVMSG", "NOTICE"})

#: Seconds a reply may wait in the queue before it is dropped instead of sent: an
#: answer later than this answers a conversation that has moved on.
MAX_REPLY_WAIT = 30.0
#: Reply lines waiting at most, all targets together (memory, and the wait at fast
#: line rates: at the default 1 line/s, ``MAX_REPLY_WAIT`` is reached first).
MAX_QUEUED_LINES = 200
#: Reply lines waiting for one target at most: the most lines one plugin reply may
#: have (``plugins.max_lines`` is at most 50), so an idle queue takes any reply.
MAX_QUEUED_PER_TARGET = 50

#: How far short of a whole token still counts as one: the refill at the time
#: :meth:`TokenBucket.ready_at` names can fall short by float rounding (at rate 10,
#: t=0.6 held 0.9999999999999998), and a caller woken then must find its token, or it
#: asks for the same time again (for ever, on a fake clock).  The same slack is given
#: to a reply's deadline, for the same reason.
ROUNDING = 1e-9


class TokenBucket:
    """``burst`` tokens at most, refilled at ``rate`` tokens per second."""

    def __init__(self, burst: float, rate: float) -> None:
        if burst < 1 or rate <= 0:
            raise ValueError(f"need burst >= 1 and rate > 0, got {burst}, {rate}")
        self.burst = burst
        self.rate = rate
        #: The lowest :meth:`charge` takes the bucket: from there one token is
        #: ``burst / rate`` seconds (the refill time) away.
        self.floor = 1.0 - burst
        self.tokens = float(burst)
        self._last: float | None = None

    def _refill(self, now: float) -> None:
        if self._last is not None and now > self._last:
            self.tokens = min(self.burst, self.tokens + (now - self._last) * self.rate)
        if self._last is None or now > self._last:
            self._last = now

    def level(self, now: float) -> float:
        """The tokens in the bucket at ``now`` (negative: in debt)."""
        self._refill(now)
        return self.tokens

    def try_take(self, now: float) -> bool:
        """Take one token if there is one."""
        self._refill(now)
        if self.tokens >= 1 - ROUNDING:
            self.tokens -= 1
            return True
        return False

    def charge(self, now: float) -> None:
        """Take one token even if that puts the bucket into debt, but never below
        :attr:`floor` (a bucket already lower, from :meth:`try_borrow`, stays)."""
        self._refill(now)
        self.tokens = min(self.tokens, max(self.floor, self.tokens - 1))

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


def _command_and_target(line: str) -> tuple[str, str]:
    """The command (upper case) and its first parameter ("" if none)."""
    tokens = line.split(" ", 4)
    i = 0
    if tokens[0].startswith("@"):
        i += 1
    if len(tokens) > i and tokens[i].startswith(":"):
        i += 1
    command = tokens[i].upper() if len(tokens) > i else ""
    target = tokens[i + 1] if len(tokens) > i + 1 else ""
    return command, target[1:] if target.startswith(":") else target


class _Queued:
    """One line of the ordinary lane."""

    __slots__ = ("after", "borrows", "key", "line", "parts", "queued_at", "sent")

    def __init__(self, line: str, key: str | None, borrows: bool, parts: tuple[str, ...]) -> None:
        self.line = line
        self.key = key  # a reply's folded target; None: not a reply
        self.borrows = borrows  # a JOIN, which may borrow at the head
        self.parts = parts  # the folded channels of a PART
        self.queued_at: float | None = None  # set by the first call that knows the time
        self.after: _Queued | None = None  # the line before, of the same reply
        self.sent = False


class FloodControl:
    """Queues of outgoing lines, released as the bucket allows (see the module doc).

    ``enabled=False`` releases everything at once (for servers that exempt
    the bot, and for tests).  ``max_reply_wait``, ``max_queued`` and
    ``max_per_target`` bound the replies (None: no bound).  ``fold`` makes a
    target a key (the core sets it to the server's case mapping).
    """

    def __init__(
        self,
        burst: int = 4,
        rate: float = 1.0,
        enabled: bool = True,
        *,
        max_reply_wait: float | None = None,
        max_queued: int | None = None,
        max_per_target: int | None = None,
        fold: Callable[[str], str] = str.lower,
    ) -> None:
        for name, value in (("max_queued", max_queued), ("max_per_target", max_per_target)):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, not {value!r}")
        if max_reply_wait is not None and not max_reply_wait > 0:
            raise ValueError(f"max_reply_wait must be > 0, not {max_reply_wait!r}")
        self.bucket = TokenBucket(burst, rate)
        self.enabled = enabled
        self.max_reply_wait = max_reply_wait
        self.max_queued = max_queued
        self.max_per_target = max_per_target
        self.fold = fold
        #: Reply lines given up: refused by :meth:`admit`, over a bound when pushed, and
        #: waiting longer than ``max_reply_wait`` when their turn came.
        self.refused = 0
        self.overflowed = 0
        self.expired = 0
        self._priority: deque[str] = deque()
        self._protocol: deque[tuple[str, bool]] = deque()  # (line, may borrow)
        self._ordinary: deque[_Queued] = deque()
        self._urgent = 0  # replies at the head of _ordinary that jumped it
        self._replies = 0  # replies in _ordinary
        self._per_target: dict[str, int] = {}  # folded target -> replies in _ordinary
        self._parting: dict[str, int] = {}  # folded channel -> PARTs in _ordinary
        self._unstamped: list[_Queued] = []  # replies queued since the time was last known
        self._last_reply: _Queued | None = None  # the reply line pushed last

    # -- queueing -------------------------------------------------------------------

    def push(self, line: str, *, urgent: bool = False, continues: bool = False) -> bool:
        """Queue one line (no CRLF) in its lane; False if it was dropped (a reply over a
        bound).  An ``urgent`` reply goes ahead of the replies waiting (after the other
        urgent ones): a short notice that the asker's reply was dropped.  A reply line
        that ``continues`` the one pushed just before (the next line of one reply) is
        not dropped for its age once that one has left."""
        command, target = _command_and_target(line)
        if command in PRIORITY_COMMANDS:
            self._priority.append(line)
            return True
        fold = self.fold
        if command in REPLY_COMMANDS and target:
            key = fold(target)
            if self.enabled and not self._fits(key, 1):
                self.overflowed += 1
                self._last_reply = None  # what continues this line continues nothing sent
                return False
            entry = _Queued(line, key, False, ())
            if continues:
                entry.after = self._last_reply
            self._last_reply = entry
            self._replies += 1
            self._per_target[key] = self._per_target.get(key, 0) + 1
            self._unstamped.append(entry)
            if urgent:
                self._ordinary.insert(self._urgent, entry)
                self._urgent += 1
            else:
                self._ordinary.append(entry)
            return True
        if (
            command in PROTOCOL_COMMANDS
            and self.enabled  # else nothing waits: every line leaves in the order given
            and not (
                command == "JOIN"
                and self._parting
                and any(fold(c) in self._parting for c in target.split(","))
            )
        ):
            self._protocol.append((line, command in EAGER_COMMANDS))
            return True
        parts: tuple[str, ...] = ()
        if command == "PART" and target:
            parts = tuple(fold(c) for c in target.split(","))
            for key in parts:
                self._parting[key] = self._parting.get(key, 0) + 1
        self._ordinary.append(_Queued(line, None, command in EAGER_COMMANDS, parts))
        return True

    def _fits(self, key: str, lines: int) -> bool:
        return (self.max_queued is None or self._replies + lines <= self.max_queued) and (
            self.max_per_target is None
            or self._per_target.get(key, 0) + lines <= self.max_per_target
        )

    def admit(self, target: str, lines: int, now: float) -> bool:
        """Whether ``lines`` more reply lines to ``target`` fit the bounds and would all
        leave within ``max_reply_wait`` (at the bucket's pace, behind every line
        waiting).  A refusal is counted in :attr:`refused`; nothing is queued."""
        if lines <= 0 or not self.enabled:
            return True
        wait = self.max_reply_wait
        if self._fits(self.fold(target), lines) and (
            wait is None or self.delay(now, lines) <= wait + ROUNDING
        ):
            return True
        self.refused += lines
        return False

    def delay(self, now: float, lines: int = 1) -> float:
        """Seconds from ``now`` until the last of ``lines`` more ordinary lines would
        leave, behind the lines waiting (an upper bound: JOINs may borrow, and expired
        replies leave no line)."""
        if not self.enabled:
            return 0.0
        needed = len(self._protocol) + len(self._ordinary) + lines
        return max(0.0, (needed - self.bucket.level(now)) / self.bucket.rate)

    def __len__(self) -> int:
        return len(self._priority) + len(self._protocol) + len(self._ordinary)

    @property
    def queue_length(self) -> int:
        """Lines waiting (for metrics)."""
        return len(self)

    @property
    def dropped(self) -> int:
        """Reply lines given up, for every reason (for metrics)."""
        return self.refused + self.overflowed + self.expired

    def clear(self) -> None:
        """Forget every queued line (the connection is gone)."""
        self._priority.clear()
        self._protocol.clear()
        self._ordinary.clear()
        self._urgent = self._replies = 0
        self._per_target.clear()
        self._parting.clear()
        self._unstamped.clear()
        self._last_reply = None

    # -- releasing ------------------------------------------------------------------

    def _stamp(self, now: float) -> None:
        """Give the replies queued since the last call their time: ``push`` takes no
        ``now`` (the core's requests do not know it), and the adapter asks for the
        lines to send within the same turn as every request."""
        for entry in self._unstamped:
            entry.queued_at = now
        self._unstamped.clear()

    def _take(self, now: float, borrows: bool) -> bool:
        bucket = self.bucket
        return bucket.try_borrow(now, bucket.burst) if borrows else bucket.try_take(now)

    def _pop_ordinary(self) -> _Queued:
        entry = self._ordinary.popleft()
        if self._urgent:
            self._urgent -= 1
        key = entry.key
        if key is not None:
            self._replies -= 1
            left = self._per_target[key] - 1
            if left:
                self._per_target[key] = left
            else:
                del self._per_target[key]
        for channel in entry.parts:
            left = self._parting[channel] - 1
            if left:
                self._parting[channel] = left
            else:
                del self._parting[channel]
        entry.after = None  # (no chain of lines kept alive)
        return entry

    def pop_ready(self, now: float) -> list[str]:
        """Remove and return the lines that may be sent at ``now``, in order."""
        if self._unstamped:
            self._stamp(now)
        ready: list[str] = []
        bucket = self.bucket
        enabled = self.enabled
        while self._priority:
            bucket.charge(now)
            ready.append(self._priority.popleft())
        protocol = self._protocol
        while protocol:
            line, borrows = protocol[0]
            if enabled and not self._take(now, borrows):
                return ready
            protocol.popleft()
            ready.append(line)
        ordinary = self._ordinary
        wait = self.max_reply_wait
        while ordinary:
            entry = ordinary[0]
            at = entry.queued_at
            if (
                wait is not None
                and at is not None
                and now > at + wait + ROUNDING
                and not (entry.after is not None and entry.after.sent)
            ):
                self._pop_ordinary()  # too late to be an answer
                self.expired += 1
                continue
            if enabled and not self._take(now, entry.borrows):
                break
            self._pop_ordinary().sent = True
            ready.append(entry.line)
        return ready

    def next_ready_time(self, now: float) -> float | None:
        """When :meth:`pop_ready` will next return a line; ``None`` if idle."""
        if self._priority:
            return now
        if self._protocol:
            borrows = self._protocol[0][1]
        elif self._ordinary:
            borrows = self._ordinary[0].borrows
        else:
            return None
        if not self.enabled:
            return now
        return self.bucket.ready_at(now, self.bucket.burst if borrows else 0.0)
