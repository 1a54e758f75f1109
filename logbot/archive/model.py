"""The archive's shared vocabulary: a query, a line of a day, a search hit, a channel key.

Why a module of its own: the index, the file scan, the web view and the terminal all
speak of the same things, and none of them should import another to name them.

A channel is known by its **key**: its name folded with RFC 1459 case mapping (the IRC
default, which folds the most; the index cannot know each network's CASEMAPPING), so
``#Foo`` and ``#foo`` are one channel, as they are one folder of logs.  A **day** is the
``YYYY-MM-DD`` of a line's ``time`` as written, which is in the channel's configured
time zone: a day page shows what the log files of that day hold.  A line's **seq** is
its place in its channel's day, counted from 1 in the order the lines were written
(the files' order): the permalink ``#L<seq>`` of a day page.  It depends only on the
files, so a rebuilt index gives every line the same number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from logbot.irc.casemap import casefold

__all__ = [
    "PRIVATE_PREFIXES",
    "ArchiveUnavailable",
    "Hit",
    "Line",
    "Query",
    "channel_key",
    "day_of",
    "is_channel",
]

#: The first characters of channel names (RFC 2811 ``#&+!``); a private log's "channel"
#: is a nick, which never starts with one of them: never published, never listed.
PRIVATE_PREFIXES = "#&+!"

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class ArchiveUnavailable(Exception):
    """The archive's store cannot answer now (its database is down or unreachable): a
    reader says so (the web view: 503) rather than fail as on a bug.  The message names
    the store, never a password."""


def channel_key(name: str) -> str:
    """The name a channel is filed under in the archive (RFC 1459 folding)."""
    return casefold(name, "rfc1459")


def is_channel(name: str) -> bool:
    """True for a channel's name, False for a private log's (a nick)."""
    return bool(name) and name[0] in PRIVATE_PREFIXES


def day_of(record: Mapping[str, Any]) -> str | None:
    """The ``YYYY-MM-DD`` a jsonl record belongs to (its ``time``'s date, as written:
    the channel's own time zone); None for a record without a usable time."""
    time = record.get("time")
    if not isinstance(time, str) or not _DAY.match(time):
        return None
    return time[:10]


@dataclass(frozen=True)
class Query:
    """What to look for.  Every field given must match (AND); None or empty: any.

    ``words``: every word must occur in the text (case- and accent-insensitive, whole
    words; a word ending in ``*`` is a prefix; ``"a phrase"`` in double quotes).
    ``regex``: a Python regular expression searched in the text (case-insensitive unless
    ``case`` is True); with the index, lines are first narrowed by the other fields.
    ``nick``: the speaker (compared with RFC 1459 folding).  ``channel``: a channel's
    name (any case).  ``since_ms``/``until_ms``: ``time_ms`` bounds, ``until`` excluded.
    Results come newest first; ``limit`` of them, after skipping ``offset``.
    """

    words: str | None = None
    regex: str | None = None
    case: bool = False
    nick: str | None = None
    channel: str | None = None
    network: str | None = None
    types: tuple[str, ...] = ()
    since_ms: int | None = None
    until_ms: int | None = None
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True)
class Line:
    """One line of a channel's day: its place (``seq``, from 1) and its jsonl record."""

    seq: int
    record: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Hit:
    """A line that matched a :class:`Query`, with where it lives.

    ``channel`` is the channel's key (:func:`channel_key`); the record has the name as
    the server wrote it.  ``context``: lines around it when asked for (oldest first,
    the hit among them)."""

    network: str
    channel: str
    day: str
    seq: int
    record: Mapping[str, Any] = field(repr=False)
    context: tuple[Line, ...] = ()
