"""logbot's IRC client.

The sans-I/O core lives in the modules here and never touches a socket, a
timer or the wall clock: :class:`IRCConnection` takes bytes and ``now`` and
returns events and bytes.  ``IRCClient``, the Twisted-compatible adapter
that drives it on the reactor (``from logbot import irc; irc.IRCClient``),
will be added in ``logbot/irc/client.py`` by its own issue and re-exported
here then.

Modules: message (parse/format), framing (bytes <-> lines), casemap,
isupport, modes, state, caps, sasl, flood, split, ctcp, chat, keepalive,
nick, events, core.
"""

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
    "Aborted", "AccountChanged", "Action", "Away", "CapsChanged", "ChgHost", "CtcpQuery",
    "CtcpReply", "DeadLink", "ErrorReceived", "Event", "FloodControl", "IRCConnection",
    "Invited", "Joined", "Kicked", "Message", "ModeChange", "ModeChanged", "NickChanged",
    "Notice", "ParseError", "Parted", "Privmsg", "Quit", "RawMessage", "Registered",
    "SaslConfig", "SaslResult", "Secret", "SetName", "Topic", "format", "parse",
]
