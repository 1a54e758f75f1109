"""Which replayed lines are new: history matched against the log.

A replay (InspIRCd's ``+H`` on join, ZNC's buffer, a ``CHATHISTORY`` answer) repeats
lines the log may already hold: those said before the gap, or all of them when the
bot was only restarted.  A replayed line is a duplicate of a logged one when

* both have a ``msgid`` and they are equal (the server's own identity of a message);
* else, when they have the same content (:func:`~logbot.logs.readback.content_key`:
  type, nick and text) and their times are at most :data:`DEDUPE_SLACK` apart.  The
  slack covers the ways one message gets two times: InspIRCd's history keeps whole
  seconds where the live line had milliseconds, the text format keeps seconds, and a
  line logged without server-time has our clock's time where ZNC kept its own.  A
  text time written without seconds (irssi's ``14:03``) stands for its whole minute:
  the window is that much wider after it (:attr:`Logged.span`).

Each logged line matches at most one replayed line (a multiset): "ok" said twice in
the same second and replayed twice with one of them logged gives one new line, not
zero.  Replayed lines are matched oldest first, each to the earliest unmatched logged
line within the slack.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from logbot.logs.readback import Logged
from logbot.logs.record import LogRecord

__all__ = ["DEDUPE_SLACK", "new_lines"]

#: Seconds two stamps of one message may differ by and still match.
DEDUPE_SLACK = 2.0


def new_lines(
    replayed: Sequence[LogRecord],
    logged: Iterable[Logged],
    key: Callable[[LogRecord], tuple[str, ...]],
    slack: float = DEDUPE_SLACK,
) -> list[LogRecord]:
    """The records of ``replayed`` (in time order) not already in ``logged``."""
    msgids: dict[str, int] = {}
    by_key: dict[tuple[str, ...], _Times] = {}
    for entry in logged:
        if entry.marker:
            continue
        if entry.msgid is not None:
            msgids[entry.msgid] = msgids.get(entry.msgid, 0) + 1
        by_key.setdefault(entry.key, _Times()).add(entry.time, entry.msgid, entry.span)
    window = timedelta(seconds=slack)
    out: list[LogRecord] = []
    for record in sorted(replayed, key=lambda r: r.time):
        times = by_key.get(key(record))
        msgid = record.msgid
        if msgid is not None and msgids.get(msgid):
            msgids[msgid] -= 1
            if times is not None:
                times.consume(record.time, window, msgid)
            continue
        # Two msgids that differ are two messages, whatever they say: content decides
        # only where one side has none.
        if times is not None and times.consume(record.time, window, None if msgid else ""):
            continue
        out.append(record)
    return out


class _Times:
    """The logged times of one content key, each matched at most once."""

    __slots__ = ("entries", "sorted", "used", "widest")

    def __init__(self) -> None:
        self.entries: list[tuple[datetime, str | None, timedelta]] = []
        self.used: list[bool] = []
        self.sorted = True
        self.widest = timedelta(0)  # the largest span of the entries

    def add(self, when: datetime, msgid: str | None, span: float = 0) -> None:
        if self.entries and when < self.entries[-1][0]:
            self.sorted = False
        self.entries.append((when, msgid, timedelta(seconds=span)))
        self.used.append(False)
        if span:
            self.widest = max(self.widest, timedelta(seconds=span))

    def consume(self, when: datetime, window: timedelta, msgid: str | None) -> bool:
        """Mark the earliest unused entry within ``window`` of ``when``; True if one
        was.  ``msgid``: that entry's msgid (a msgid match), ``None``: only entries
        without one, ``""``: any entry."""
        if not self.sorted:
            self.entries.sort(key=lambda e: e[0])
            self.sorted = True
        entries, used = self.entries, self.used
        earliest = when - window
        i = bisect_left(entries, earliest - self.widest, key=lambda e: e[0])
        limit = when + window
        while i < len(entries) and entries[i][0] <= limit:
            if (
                not used[i]
                and entries[i][0] + entries[i][2] >= earliest
                and (
                    msgid == ""
                    or (entries[i][1] is None if msgid is None else entries[i][1] == msgid)
                )
            ):
                used[i] = True
                return True
            i += 1
        return False
