"""logbot's IRC client.

The sans-I/O core lives in the modules here and never touches a socket, a
timer or the wall clock: :class:`IRCConnection` takes bytes and ``now`` and
returns events and bytes.  ``IRCClient`` (``logbot/irc/client.py``), the
Twisted-compatible adapter that drives it on the reactor, is exported here
lazily (``from logbot import irc; irc.IRCClient``), so that importing the
core never imports the reactor.

Modules: message (parse/format), framing (bytes <-> lines), casemap,
isupport, modes, state, caps, sasl, flood, split, ctcp, chat, keepalive,
nick, events, core; client and client_events (the adapter), numerics.
"""

from typing import Any

from logbot.irc.core import IRCConnection
from logbot.irc.events import (
    Aborted,
    AccountChanged,
    Action,
    Away,
    CapsChanged,
    ChgHost,
    CtcpQuery,
    CtcpReply,
    DeadLink,
    ErrorReceived,
    Event,
    Invited,
    Joined,
    Kicked,
    ModeChange,
    ModeChanged,
    NickChanged,
    Notice,
    Parted,
    Privmsg,
    Quit,
    RawMessage,
    Registered,
    SaslResult,
    SetName,
    Topic,
)
from logbot.irc.flood import FloodControl
from logbot.irc.message import Message, ParseError, format, parse
from logbot.irc.sasl import SaslConfig, Secret

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
    "FloodControl",
    "IRCClient",
    "IRCConnection",
    "Invited",
    "Joined",
    "Kicked",
    "Message",
    "ModeChange",
    "ModeChanged",
    "NickChanged",
    "Notice",
    "ParseError",
    "Parted",
    "Privmsg",
    "Quit",
    "RawMessage",
    "Registered",
    "SaslConfig",
    "SaslResult",
    "Secret",
    "SetName",
    "Topic",
    "format",
    "parse",
]


def __getattr__(name: str) -> Any:
    if name == "IRCClient":
        from logbot.irc.client import IRCClient

        return IRCClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
