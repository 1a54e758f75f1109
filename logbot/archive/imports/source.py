"""What the four importers share: reading an old log file line by line, and what a
line can turn into.

Why a module of its own: the importers differ only in the shape of a line; how a file
is read (bounded, whatever its bytes), how a local time is placed and what a record of
an imported line looks like must be the same for all four, so that ``logbot import``
reports every program's files alike.

A line gives exactly one of:

* a :class:`~logbot.logs.record.LogRecord`, marked as imported: its ``tags`` are
  ``{"logbot.imported": "<program>"}`` (:data:`IMPORTED_TAG`).  The jsonl format
  writes ``tags`` as they are (the schema allows any tag), so the mark needs nothing
  of the bot's hot path, and a reader can tell an imported line from one the bot saw;
  ``time_source`` is ``"local"`` (the old program's clock, placed in ``--timezone``).
* :class:`Left`: a line that was read but has no logbot record: the old program's own
  bookkeeping ("Log opened", "Day changed", a names list, the channel's modes shown on
  joining) or an event logbot has no type for (an invite) or that lacks who did it
  (irssi's "You're now known as x" does not say the old nick).  Counted by kind in the
  summary: never a record with an invented speaker.
* :class:`Unread`: a line that does not have the program's shape.  Reported with its
  file and line number, and never guessed at.

Reading (:func:`numbered_lines`): in binary, one line at a time, at most
:data:`MAX_LINE_BYTES` of a line kept (a longer one is skipped to its end and reported
as :class:`Unread`), so a 2 GB file without a newline costs 64 KiB.  A line is decoded
as UTF-8, or, when it is not UTF-8 (old logs mix encodings), as Latin-1, which reads
every byte as one character: nothing is lost, and the summary counts those lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import BinaryIO

from logbot.archive.model import is_channel
from logbot.logs.record import LogRecord

__all__ = [
    "IMPORTED_TAG",
    "MAX_LINE_BYTES",
    "YEARS",
    "FileName",
    "Item",
    "Left",
    "Source",
    "Unread",
    "channel_like",
    "display",
    "numbered_lines",
    "split_mask",
    "split_userhost",
]

#: The tag that marks a record as imported; its value is the program's name.
IMPORTED_TAG = "logbot.imported"
#: Longest line read, in bytes (64 KiB; IRC lines are at most 8 KiB with tags): a
#: longer one is reported as not understood and skipped without being held.
MAX_LINE_BYTES = 64 * 1024
#: The years a line's time may be in: the others are reported (a day 1 or 9999 of any
#: zone may not be a day of another).
YEARS = range(2, 9999)
_CHUNK = 64 * 1024  # bytes read at a time while skipping the rest of a long line


@dataclass(frozen=True, slots=True)
class Unread:
    """A line that does not have the program's shape: why, and the line as read."""

    line: int
    why: str
    text: str


@dataclass(frozen=True, slots=True)
class Left:
    """A line read that has no logbot record: ``what`` kind of line it is."""

    line: int
    what: str


Item = LogRecord | Unread | Left


@dataclass(frozen=True, slots=True)
class FileName:
    """What a log file's name says: the channel, the day (ZNC's files; None when the
    lines carry their dates), and ``rank``, which orders a channel's files oldest
    first when the name alone does not (WeeChat's ``.1``, ``.2`` rotations)."""

    channel: str | None
    day: date | None = None
    rank: int = 0


@dataclass(frozen=True, slots=True)
class Source:
    """Where one file's records go and how its times are placed: ``tz`` is the zone
    the old program wrote its local times in (``--timezone``); ``day`` the date the
    file's name gives, if any."""

    program: str
    network: str
    channel: str
    tz: tzinfo
    day: date | None = None

    def local(self, naive: datetime) -> datetime:
        """A local time of the old log as an instant (the first of a repeated hour).

        :raises ValueError: a year outside :data:`YEARS` (the instant, its day in
            another zone or its Unix time could not be computed)."""
        if naive.year not in YEARS:
            raise ValueError(f"year {naive.year} is out of range")
        return naive.replace(tzinfo=self.tz)

    def record(
        self,
        when: datetime,
        kind: str,
        nick: str | None = None,
        *,
        user: str | None = None,
        host: str | None = None,
        account: str | None = None,
        text: str | None = None,
        target: str | None = None,
    ) -> LogRecord:
        """An imported record of this file: local time source, marked with the program."""
        return LogRecord(
            when,
            "local",
            kind,
            self.network,
            self.channel,
            nick,
            user,
            host,
            account,
            text,
            target,
            None,
            {IMPORTED_TAG: self.program},
        )


def split_userhost(userhost: str) -> tuple[str | None, str | None]:
    """``user@host`` as (user, host); (None, None) for anything else (``?``, empty)."""
    user, at, host = userhost.partition("@")
    if not at or not user or not host:
        return None, None
    return user, host


def split_mask(mask: str) -> tuple[str, str | None, str | None]:
    """``nick!user@host`` as (nick, user, host); a bare nick or server name as itself."""
    nick, bang, userhost = mask.partition("!")
    if not bang:
        return mask, None, None
    user, host = split_userhost(userhost)
    return nick, user, host


def channel_like(name: str | None) -> bool:
    """Whether ``name`` can be a channel's: a channel prefix, no space, comma or
    control character (the rest of a hostile name is escaped where it is written)."""
    return (
        name is not None
        and is_channel(name)
        and name.isprintable()
        and not any(c.isspace() or c == "," for c in name)
    )


def numbered_lines(f: BinaryIO, stats: dict[str, int]) -> Iterator[tuple[int, str | None]]:
    """(line number from 1, text without its line end) for each line of ``f``; the
    text is None for a line longer than :data:`MAX_LINE_BYTES` (skipped to its end).
    ``stats["latin1"]`` counts the lines that were not UTF-8."""
    number = 0
    while True:
        raw = f.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while True:  # the rest of the long line, a chunk at a time
                more = f.readline(_CHUNK)
                if not more or more.endswith(b"\n"):
                    break
            yield number, None
            continue
        raw = raw.rstrip(b"\n")
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
            stats["latin1"] = stats.get("latin1", 0) + 1
        yield number, text


def display(path: Path | str) -> str:
    """A file name as shown in the summary: as it is when printable, else its repr
    (a name may hold terminal escapes)."""
    text = str(path)
    return text if text.isprintable() else repr(text)
