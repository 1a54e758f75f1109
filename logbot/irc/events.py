"""The events the sans-I/O core reports: frozen dataclasses, past tense.

Every event carries the metadata of the message that caused it: ``time``
from the IRCv3 ``server-time`` tag (``None`` without it: the adapter then
stamps its own clock), ``msgid`` and all ``tags``.  Events the core makes
itself (our own lines without echo-message, a dead link) have none of these.

``source`` fields are the full ``nick!user@host`` prefix (what Twisted's
``user`` arguments are); ``nick`` fields are the nick alone.  ``channels``
on Quit, NickChanged and friends are the channels we shared with that user,
computed *before* the state forgot them: the bot logs a QUIT into each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from logbot.irc.message import Message

__all__ = [
    "Aborted",
    "AccountChanged",
    "Action",
    "Away",
    "CapsChanged",
    "ChgHost",
    "CtcpQuery",
    "CtcpReply",
    "DeadLink",
    "ErrorReceived",
    "Event",
    "Invited",
    "Joined",
    "Kicked",
    "ModeChange",
    "ModeChanged",
    "NickChanged",
    "Notice",
    "Parted",
    "Privmsg",
    "Quit",
    "RawMessage",
    "Registered",
    "SaslResult",
    "SetName",
    "Topic",
    "meta",
    "parse_server_time",
]

Channels = tuple[str, ...]


def parse_server_time(value: str | None) -> datetime | None:
    """``2011-10-19T16:40:51.620Z`` -> aware UTC datetime; junk -> ``None``."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def meta(msg: Message) -> dict[str, Any]:
    """The keyword arguments common to every event made from ``msg``."""
    return {
        "time": parse_server_time(msg.tags.get("time")),
        "msgid": msg.tags.get("msgid"),
        "tags": msg.tags,
    }


@dataclass(frozen=True, kw_only=True)
class Event:
    time: datetime | None = None
    msgid: str | None = None
    tags: Mapping[str, str | None] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, kw_only=True)
class RawMessage(Event):
    """Every parsed message, first; the adapter calls ``irc_<COMMAND>`` hooks."""

    message: Message


@dataclass(frozen=True, kw_only=True)
class Registered(Event):
    """001 arrived: we are on the network as ``nick``."""

    nick: str
    server: str | None


@dataclass(frozen=True, kw_only=True)
class Joined(Event):
    channel: str
    nick: str
    source: str
    is_self: bool
    account: str | None = None  # extended-join
    realname: str | None = None


@dataclass(frozen=True, kw_only=True)
class Parted(Event):
    channel: str
    nick: str
    source: str
    is_self: bool
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Kicked(Event):
    channel: str
    nick: str  # who was kicked
    source: str  # who kicked
    is_self: bool
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Quit(Event):
    nick: str
    source: str
    reason: str | None
    channels: Channels
    is_self: bool = False


@dataclass(frozen=True, kw_only=True)
class NickChanged(Event):
    old: str
    new: str
    source: str
    channels: Channels
    is_self: bool


@dataclass(frozen=True, kw_only=True)
class Privmsg(Event):
    """A message; ``is_self`` for our own (echoed, or emitted when sent)."""

    source: str
    target: str
    text: str
    is_self: bool = False
    private: bool = False  # sent to a nick, not a channel


@dataclass(frozen=True, kw_only=True)
class Notice(Privmsg):
    pass


@dataclass(frozen=True, kw_only=True)
class Action(Privmsg):
    """CTCP ACTION (``/me``); ``text`` is the action without the markers."""


@dataclass(frozen=True, kw_only=True)
class CtcpQuery(Event):
    source: str
    target: str
    command: str
    argument: str
    is_self: bool = False


@dataclass(frozen=True, kw_only=True)
class CtcpReply(CtcpQuery):
    pass


@dataclass(frozen=True, kw_only=True)
class Topic(Event):
    """TOPIC (``is_change``) or the topic shown on join (332)."""

    channel: str
    topic: str | None
    setter: str | None
    is_change: bool


@dataclass(frozen=True)
class ModeChange:
    adding: bool
    mode: str
    param: str | None = None


@dataclass(frozen=True, kw_only=True)
class ModeChanged(Event):
    target: str  # a channel, or our nick for user modes
    source: str
    changes: tuple[ModeChange, ...]


@dataclass(frozen=True, kw_only=True)
class ChgHost(Event):
    nick: str
    user: str
    host: str
    channels: Channels


@dataclass(frozen=True, kw_only=True)
class SetName(Event):
    nick: str
    realname: str
    channels: Channels


@dataclass(frozen=True, kw_only=True)
class AccountChanged(Event):
    nick: str
    account: str | None  # None: logged out
    channels: Channels


@dataclass(frozen=True, kw_only=True)
class Away(Event):
    nick: str
    message: str | None  # None: back
    channels: Channels


@dataclass(frozen=True, kw_only=True)
class Invited(Event):
    source: str
    nick: str
    channel: str


@dataclass(frozen=True, kw_only=True)
class CapsChanged(Event):
    """The set of enabled capabilities changed (ACK, DEL)."""

    enabled: frozenset[str]


@dataclass(frozen=True, kw_only=True)
class SaslResult(Event):
    success: bool
    mechanism: str | None
    account: str | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class ErrorReceived(Event):
    """The server sent ERROR: it is closing the link."""

    message: str


@dataclass(frozen=True, kw_only=True)
class DeadLink(Event):
    """Nothing arrived within the keepalive deadline; close and reconnect."""

    silent_for: float


@dataclass(frozen=True, kw_only=True)
class Aborted(Event):
    """The core gave up (required SASL failed, no usable nick); close."""

    reason: str
