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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["MARKERS", "TYPES", "LogRecord"]

#: Lines the bot writes about itself, formatted as ``*** logbot: <text>``.
MARKERS = frozenset({"connect", "disconnect", "gap", "opted_out"})

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
