"""One line of a channel log, before it is formatted.

The service turns IRC events into records (``events_to_records.py``); the
formatters (``formats.py``) turn a record into a ``text`` or ``jsonl`` line; the
writer (``writer.py``) decides the file.  A record is plain data, so each of
those steps is tested on its own.

``type`` is one of :data:`TYPES`.  ``nick``/``user``/``host`` are the actor (the
speaker, the one who joined, the kicker, the old nick); ``target`` is what the
action was done to (the new nick, the kicked nick, the new ``user@host``);
``text`` is the message, the reason, the topic, the mode string or, for a marker,
the whole sentence.  Fields are positional in this order, so the hot path can
build one without keyword arguments.  ``time`` is always timezone-aware; ``time_source`` says
whether it came from the ``server-time`` tag (``"server"``) or our clock
(``"local"``).

A ``server-time`` stamp that was *not* used (it does not parse, or it is further from
our clock than the channel's ``server_time_tolerance``) is kept as ``server_time``, with
``server_time_rejected`` saying why (one of :data:`REJECTED`), and ``time`` is then
ours: a server with a wrong clock must not decide which file a line goes to, and the
JSONL still shows what the server said.

A line recovered from the server's or a bouncer's history after a gap (see
:mod:`logbot.bot.replay`) has ``replayed`` set to where it came from: the IRCv3 batch
type that carried it (``chathistory``, ``znc.in/playback``).  Its ``time`` is the
original one, however old.

A QUIT of a netsplit or a JOIN of a netjoin (IRCv3 ``netsplit``/``netjoin`` batches,
:mod:`logbot.bot.netsplits`) has ``split`` set to the batch type and its two servers
(``("netsplit", "irc.hub.net irc.leaf.net")``), and ``only`` set to ``"jsonl"``: the
text log gets one summary line per channel instead (a record of one of the
:data:`SUMMARIES` types, ``only`` ``"text"``), as irssi shows a netsplit.  ``only``
names the one format a record is written in (None: every format of the channel).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

__all__ = ["MARKERS", "REJECTED", "RENAMES", "SUMMARIES", "TYPES", "LogRecord", "restamped"]

#: Lines the bot writes about itself, formatted as ``*** logbot: <text>``.  ``gap``
#: names a time span whose events are missing; ``recovered`` says a span was missing
#: and the server's history filled all of it.
MARKERS = frozenset({"connect", "disconnect", "gap", "recovered", "opted_out"})
#: A channel renamed (IRCv3 ``draft/channel-rename``): ``renamed_to`` in the log of the
#: name it had (``target``: the new name), ``renamed_from`` in the log of the new name
#: (``target``: the old one).  ``nick`` renamed it, ``text`` is the reason.
RENAMES = frozenset({"renamed_to", "renamed_from"})
#: Text-only lines that sum up a netsplit or netjoin in a channel: ``text`` the nicks
#: (comma-separated), ``target`` the two servers.  Never in the jsonl, which has the
#: QUITs and JOINs themselves: not in :data:`TYPES`, which is the jsonl's ``type``.
SUMMARIES = frozenset({"netsplit", "netjoin"})

TYPES = (
    frozenset(
        {
            "message",
            "action",
            "notice",  # <nick> text, * nick text, -nick- text
            "join",
            "part",
            "quit",
            "kick",
            "nick",
            "mode",
            "topic",
            "topic_info",  # topic_info: the topic shown when we join
            "chghost",
            "setname",
            "away",
            "back",
        }
    )
    | MARKERS
    | RENAMES
)


@dataclass(slots=True)
class LogRecord:
    """Not frozen: a frozen dataclass sets each of its 13 fields through
    ``object.__setattr__``, which doubled the cost of making one for every line.
    Treat it as immutable all the same."""

    time: datetime
    time_source: str  # "server" or "local"
    type: str
    network: str
    channel: str  # as the server wrote it (for private logs: the other nick)
    nick: str | None = None
    user: str | None = None
    host: str | None = None
    account: str | None = None
    text: str | None = None
    target: str | None = None
    msgid: str | None = None
    tags: Mapping[str, str | None] = field(default_factory=dict)
    server_time: str | None = None  # a server-time stamp not used for ``time``
    server_time_rejected: str | None = None  # why not: one of REJECTED
    replayed: str | None = None  # recovered from history: the batch type that carried it
    split: tuple[str, str] | None = None  # in a netsplit/netjoin batch: (type, servers)
    only: str | None = None  # the one format to write it in ("text", "jsonl"); None: all


#: Why a server-time stamp was not used: more than the tolerance ahead of our clock or
#: behind it, or not a time at all (no parse, or so near year 1 or 9999 that the dates
#: around it cannot be computed).
REJECTED = frozenset({"ahead", "behind", "invalid"})


def restamped(record: LogRecord, when: datetime, why: str) -> LogRecord:
    """``record`` at our clock's ``when`` instead of its server-time, which is kept (as
    the server wrote it when the tag is there) with ``why`` it was not used."""
    raw = record.tags.get("time") if record.tags else None
    return replace(
        record,
        time=when,
        time_source="local",
        server_time=raw if raw is not None else record.time.isoformat(),
        server_time_rejected=why,
    )
