"""InspIRCd's flood limits as a model, to check our flood bucket on a fake clock.

What InspIRCd 3 (3.15 in Debian) does with the lines a client sends, read from its
source (``UserIOHandler::OnDataReady`` in src/users.cpp,
``CommandParser::ProcessCommand`` in src/command_parse.cpp and
``UserManager::DoBackgroundUserStuff`` in src/usermanager.cpp), for a client of a
``<connect>`` class with ``recvq``, ``threshold``, ``commandrate`` and ``fakelag="yes"``:

* What is read from the socket goes into the client's receive queue.  Each time the
  server looks at that queue, more than ``recvq`` bytes in it kill the client with
  "RecvQ exceeded".
* Then it runs complete lines from the queue, one at a time, while the client's
  penalty is below ``threshold * 1000``.  Each command adds its penalty: 1000 for
  PRIVMSG and most commands, 2000 for an unknown one.  Lines it does not run wait in
  the queue: that is the fake lag.
* Once a second (its housekeeping, when the wall clock's second changes) the penalty
  drops by ``commandrate`` (in thousandths of a command a second) and the queue is
  looked at again.
* A client's send queue past ``softsendq`` (1 MB) also stops it; a bot that sends a
  reply reads little, so that never happens here.

With the usual values (threshold 10, commandrate 1000, recvq 10K = 10240 bytes) a client
may send a burst of 10 lines, then 1 line a second, and whatever it sends faster piles
up until the queue passes 10 KB.

:class:`InspIRCdInput` is that model, charging 1000 for every line but JOIN (2000, its
real cost): exact for PRIVMSG, which is all a reply is made of, and the usual cost of
the few lines around it (registration, PING, PONG).  ``replay`` runs timed writes
through it, with housekeeping once a second.  Its verdicts agree with the real server: in
tests/integration/test_irc_servers.py InspIRCd kills an unpaced 200-line reply, lets
the scaled default bucket through, and kills a bucket twice as fast after 3.5 s (the
model: 3.5 to 4 s).  (When this module was written, a bucket of 15 lines/s against the
scaled limits was killed after 7.1 s; the model says 6.7 to 7.3 s.)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from logbot.irc.flood import FloodControl
from tests.ircd.servers import FLOOD_SPEEDUP, flood_settings

__all__ = [
    "FLOOD_SPEEDUP",
    "REPLY_LINES",
    "REPLY_TEXT",
    "InspIRCdInput",
    "Limits",
    "penalty_of",
    "replay",
    "scaled_default_flood",
]

#: The reply the flood tests send: REPLY_LINES lines of about 300 bytes on the wire
#: ("PRIVMSG <nick> :<i> " + REPLY_TEXT + CRLF), so that 10 KB is about 33 lines.
REPLY_TEXT = "flood control test line, long enough to fill the receive queue quickly " * 4
REPLY_LINES = 200

_PENALTY = 1000  # per line, in thousandths of a command
#: Commands that cost more: InspIRCd 3's ``CommandJoin`` has ``Penalty = 2``
#: (src/coremods/core_channel), charged once per line whatever the number of channels.
_PENALTIES = {b"JOIN": 2000}


def penalty_of(line: bytes) -> int:
    """What InspIRCd adds to the penalty for running ``line`` (no CRLF, no tags)."""
    command = line.split(b" ", 1)[0].upper()
    return _PENALTIES.get(command, _PENALTY)


def scaled_default_flood(speedup: float) -> FloodControl:
    """Our default bucket (``FloodControl()``: burst 4, then 1 line a second), with the
    same burst and a refill ``speedup`` times faster.  ``speedup=1`` is the default."""
    default = FloodControl()
    return FloodControl(burst=int(default.bucket.burst), rate=default.bucket.rate * speedup)


def _size(value: str) -> int:
    """A size as InspIRCd reads it from its config: K, M and G are powers of 1024."""
    units = {"K": 1024, "M": 1024**2, "G": 1024**3}
    if value[-1:].upper() in units:
        return int(value[:-1]) * units[value[-1].upper()]
    return int(value)


@dataclass(frozen=True)
class Limits:
    """One ``<connect>`` class's flood settings."""

    recvq: int  # bytes
    threshold: int  # commands
    commandrate: int  # thousandths of a command per second

    @classmethod
    def of(cls, flood: str) -> Limits:
        """The limits the test servers' flood mode ``flood`` renders for InspIRCd."""
        values = flood_settings(flood)
        if values["FAKELAG"] != "yes":
            raise ValueError(f"flood mode {flood!r} has no fake lag: nothing to model")
        return cls(
            recvq=_size(values["RECVQ"]),
            threshold=int(values["THRESHOLD"]),
            commandrate=int(values["COMMANDRATE"]),
        )


class InspIRCdInput:
    """One client's receive queue and penalty on InspIRCd (see the module docstring)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.penalty = 0
        self.lines: deque[bytes] = deque()  # complete lines not run yet, CRLF included
        self.partial = b""  # the start of a line whose end has not arrived
        self.queued = 0  # bytes in the receive queue: len(partial) + sum of len(lines)
        self.run: list[bytes] = []  # lines run, in order, without CRLF
        self.killed: str | None = None
        self.killed_at: float | None = None  # set by replay()
        self.peak_queued = 0  # the most bytes the server ever saw queued when it looked
        self.peak_penalty = 0
        self.lagged = False  # a complete line ever had to wait (fake lag)

    def receive(self, data: bytes) -> None:
        """Bytes read from the client's socket in one read."""
        if self.killed:
            return
        self.queued += len(data)
        *complete, self.partial = (self.partial + data).split(b"\n")
        self.lines.extend(line + b"\n" for line in complete)
        self._look()

    def tick(self) -> None:
        """The once-a-second housekeeping."""
        if self.killed:
            return
        self.penalty = max(0, self.penalty - self.limits.commandrate)
        self._look()

    def _look(self) -> None:
        self.peak_queued = max(self.peak_queued, self.queued)
        if self.queued > self.limits.recvq:
            self.killed = "RecvQ exceeded"
            return
        while self.lines and self.penalty < self.limits.threshold * 1000:
            line = self.lines.popleft()
            self.queued -= len(line)
            self.run.append(line.rstrip(b"\r\n"))
            self.penalty += penalty_of(self.run[-1])
            self.peak_penalty = max(self.peak_penalty, self.penalty)
        if self.lines:
            self.lagged = True


def replay(
    writes: Iterable[tuple[float, bytes]], limits: Limits, first_tick: float
) -> InspIRCdInput:
    """Run timed writes through the model, with housekeeping at ``first_tick + k``
    seconds; a tick at the same time as a write comes first.  After the last write it
    ticks on until the queue is empty or the client is killed.

    Each write counts as one read.  The server reads up to ``netbuffersize`` (10240)
    bytes at a time, so that is exact for paced writes (a line or a few); an unpaced
    reply written at once is killed here at once and on the server a few reads later.
    """
    server = InspIRCdInput(limits)
    tick = first_tick
    for when, data in writes:
        while tick <= when:
            server.tick()
            tick += 1.0
        server.receive(data)
        if server.killed:
            server.killed_at = when
            return server
    for _ in range(100_000):
        if server.killed or not server.lines:
            break
        server.tick()
    return server
