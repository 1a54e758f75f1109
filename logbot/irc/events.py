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

from logbot.irc.message import NO_TAGS, Message

__all__ = [
    "Aborted",
    "AccountChanged",
    "Action",
    "Away",
    "BatchEnded",
    "BatchOverdue",
    "BatchStarted",
    "CapsChanged",
    "ChannelRenamed",
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
    "StandardReply",
    "StsAdvertised",
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
    tags = msg.tags
    if tags is NO_TAGS:
        return {"time": None, "msgid": None, "tags": tags}
    return {
        "time": parse_server_time(tags.get("time")),
        "msgid": tags.get("msgid"),
        "tags": tags,
    }


def meta_tuple(msg: Message) -> tuple[datetime | None, str | None, Mapping[str, str | None]]:
    """``(time, msgid, tags)`` of ``msg``, for the positional fast constructors."""
    tags = msg.tags
    if tags is NO_TAGS:
        return None, None, tags
    return parse_server_time(tags.get("time")), tags.get("msgid"), tags


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    time: datetime | None = None
    msgid: str | None = None
    tags: Mapping[str, str | None] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class RawMessage(Event):
    """Every parsed message, first; the adapter calls ``irc_<COMMAND>`` hooks."""

    message: Message


@dataclass(frozen=True, kw_only=True, slots=True)
class Registered(Event):
    """001 arrived: we are on the network as ``nick``."""

    nick: str
    server: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Joined(Event):
    channel: str
    nick: str
    source: str
    is_self: bool
    account: str | None = None  # extended-join
    realname: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Parted(Event):
    channel: str
    nick: str
    source: str
    is_self: bool
    reason: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Kicked(Event):
    channel: str
    nick: str  # who was kicked
    source: str  # who kicked
    is_self: bool
    reason: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Quit(Event):
    nick: str
    source: str
    reason: str | None
    channels: Channels
    is_self: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class NickChanged(Event):
    old: str
    new: str
    source: str
    channels: Channels
    is_self: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class Privmsg(Event):
    """A message; ``is_self`` for our own (echoed, or emitted when sent)."""

    source: str
    target: str
    text: str
    is_self: bool = False
    private: bool = False  # sent to a nick, not a channel


@dataclass(frozen=True, kw_only=True, slots=True)
class Notice(Privmsg):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class Action(Privmsg):
    """CTCP ACTION (``/me``); ``text`` is the action without the markers."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CtcpQuery(Event):
    source: str
    target: str
    command: str
    argument: str
    is_self: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class CtcpReply(CtcpQuery):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
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


@dataclass(frozen=True, kw_only=True, slots=True)
class ModeChanged(Event):
    target: str  # a channel, or our nick for user modes
    source: str
    changes: tuple[ModeChange, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class ChgHost(Event):
    nick: str
    user: str
    host: str
    channels: Channels


@dataclass(frozen=True, kw_only=True, slots=True)
class SetName(Event):
    nick: str
    realname: str
    channels: Channels


@dataclass(frozen=True, kw_only=True, slots=True)
class AccountChanged(Event):
    nick: str
    account: str | None  # None: logged out
    channels: Channels


@dataclass(frozen=True, kw_only=True, slots=True)
class Away(Event):
    nick: str
    message: str | None  # None: back
    channels: Channels


@dataclass(frozen=True, kw_only=True, slots=True)
class Invited(Event):
    source: str
    nick: str
    channel: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CapsChanged(Event):
    """The set of enabled capabilities changed (ACK, DEL)."""

    enabled: frozenset[str]


@dataclass(frozen=True, kw_only=True, slots=True)
class StsAdvertised(Event):
    """The server offered the ``sts`` capability (in a complete ``CAP LS``, or in ``CAP
    NEW``): its keys that were well formed (:mod:`logbot.irc.sts`).  Whether to believe
    it depends on the connection (plain, or TLS with a verified certificate), which only
    the owner of the connection knows."""

    port: int | None
    duration: int | None
    preload: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class SaslResult(Event):
    success: bool
    mechanism: str | None
    account: str | None
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class BatchStarted(Event):
    """``BATCH +ref type params``: ``history`` for a replay (see
    :mod:`logbot.irc.batches`), whose lines then carry ``batch=ref`` in their tags."""

    ref: str
    type: str
    params: tuple[str, ...]
    history: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class BatchEnded(BatchStarted):
    """``BATCH -ref``, or the batch was forgotten (``forced``: too many open, or the
    connection ended): its lines are all in."""

    forced: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class BatchOverdue(BatchStarted):
    """The batch has been open ``open_for`` seconds (``MAX_BATCH_SECONDS`` in
    :mod:`logbot.irc.batches`, then as many again each time) and is still open: write
    what was collected of it as it stands.  Its later lines still carry its reference."""

    open_for: float


@dataclass(frozen=True, kw_only=True, slots=True)
class ChannelRenamed(Event):
    """``RENAME old new :reason`` (IRCv3 ``draft/channel-rename``): a channel of ours
    is ``new`` from now on, with its members, modes and topic; ``old`` is the name we
    knew it by.  ``source`` is who renamed it (the full prefix; may be a server)."""

    old: str
    new: str
    source: str
    reason: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class StandardReply(Event):
    """IRCv3 standard replies: ``FAIL``, ``WARN`` or ``NOTE`` (``kind``) about
    ``command`` (``*``: no command of ours), with a machine-readable ``code``, the
    ``context`` parameters and a ``description`` for people."""

    kind: str
    command: str
    code: str
    context: tuple[str, ...]
    description: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ErrorReceived(Event):
    """The server sent ERROR: it is closing the link."""

    message: str


@dataclass(frozen=True, kw_only=True, slots=True)
class DeadLink(Event):
    """Nothing arrived within the keepalive deadline; close and reconnect."""

    silent_for: float


@dataclass(frozen=True, kw_only=True, slots=True)
class Aborted(Event):
    """The core gave up (required SASL failed, no usable nick); close."""

    reason: str


# -- fast constructors for the events of every line -----------------------------------------
# The dataclass ``__init__`` of a frozen class sets each field through
# ``object.__setattr__`` and takes keywords: about 0.8 us for a Privmsg.  The core makes
# one event per PRIVMSG, so these set the slots through their descriptors (less than
# half the time).  They take every field, positionally, and give an instance equal to
# what ``__init__`` would (tests/irc/test_core.py checks).

_new = object.__new__
_set_time = vars(Event)["time"].__set__
_set_msgid = vars(Event)["msgid"].__set__
_set_tags = vars(Event)["tags"].__set__
_set_source = vars(Privmsg)["source"].__set__
_set_target = vars(Privmsg)["target"].__set__
_set_text = vars(Privmsg)["text"].__set__
_set_is_self = vars(Privmsg)["is_self"].__set__
_set_private = vars(Privmsg)["private"].__set__
_set_message = vars(RawMessage)["message"].__set__


def new_privmsg(
    cls: type[Privmsg],
    source: str,
    target: str,
    text: str,
    is_self: bool,
    private: bool,
    time: datetime | None,
    msgid: str | None,
    tags: Mapping[str, str | None],
) -> Privmsg:
    """``cls(source=..., ...)`` for Privmsg, Notice or Action, without ``__init__``."""
    event = _new(cls)
    _set_time(event, time)
    _set_msgid(event, msgid)
    _set_tags(event, tags)
    _set_source(event, source)
    _set_target(event, target)
    _set_text(event, text)
    _set_is_self(event, is_self)
    _set_private(event, private)
    return event


def new_raw_message(
    message: Message, time: datetime | None, msgid: str | None, tags: Mapping[str, str | None]
) -> RawMessage:
    """``RawMessage(message=..., ...)`` without ``__init__``."""
    event = _new(RawMessage)
    _set_time(event, time)
    _set_msgid(event, msgid)
    _set_tags(event, tags)
    _set_message(event, message)
    return event
