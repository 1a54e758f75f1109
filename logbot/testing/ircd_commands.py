"""Commands of the test IRC server (:mod:`logbot.testing.ircd`) other than channels'.

Registration (CAP, PASS, NICK, USER), QUIT, PING, messages (PRIVMSG, NOTICE, TAGMSG)
and queries (WHO, WHOIS, AWAY); the channel commands are in
:mod:`logbot.testing.ircd_channels`.  Also the names both share: limits, folding,
name checks.

Each handler takes ``(server, user, msg)`` and is registered for its commands by
``@HANDLERS.on``; a command no table has gets ``421``.  Handlers do not know
whether ``user`` is a TCP client or a local user: they only call ``server.send`` and
``server.reply``, which is why both kinds see each other identically.

Numerics follow RFC 1459/2812 and modern.ircdocs.horse; where servers differ, the
simplest common choice is taken (``403`` for a missing channel, a KICK without reason
uses the kicker's nick, ``-k`` is echoed as ``-k *``).  NOTICE never gets an error
reply, as the RFCs require.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from logbot.irc.casemap import casefold
from logbot.irc.message import Message, mask_match
from logbot.irc.registry import HandlerTable
from logbot.testing.ircd_users import Channel, Server, User, names_prefix

__all__ = [
    "BEFORE_REGISTRATION",
    "CAPS",
    "HANDLERS",
    "find_channel",
    "fold",
    "is_banned",
    "need_params",
    "valid_channel",
    "valid_nick",
]

CASEMAPPING = "rfc1459"
NICKLEN = 30
CHANNELLEN = 50
TOPICLEN = 390
CAPS = (  # always offered; draft/chathistory too when the server keeps history
    "account-tag",
    "batch",
    "echo-message",
    "extended-join",
    "message-tags",
    "multi-prefix",
    "server-time",
)
USER_MODES = "iw"
CHANNEL_FLAGS = "imnst"

Handler = Callable[[Server, User, Message], None]
HANDLERS: HandlerTable[Handler] = HandlerTable()
BEFORE_REGISTRATION = frozenset(
    {"CAP", "PASS", "NICK", "USER", "PING", "PONG", "QUIT", "AUTHENTICATE"}
)

_NICK = re.compile(r"[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]*\Z")


def fold(name: str) -> str:
    """The case-folded form of a nick or channel name (CASEMAPPING=rfc1459)."""
    return casefold(name, CASEMAPPING)


def valid_nick(nick: str) -> bool:
    return len(nick) <= NICKLEN and _NICK.match(nick) is not None


def valid_channel(name: str) -> bool:
    return (
        name.startswith("#")
        and 1 < len(name) <= CHANNELLEN
        and not any(c in name for c in " ,\x07")
    )


def need_params(server: Server, user: User, msg: Message, count: int) -> bool:
    """True if ``msg`` has ``count`` parameters, else 461 and False."""
    if len(msg.params) >= count and all(msg.params[:count]):
        return True
    server.reply(user, "461", msg.command, "Not enough parameters")
    return False


def find_channel(server: Server, user: User, name: str) -> Channel | None:
    """The channel called ``name``, or None after 403."""
    channel = server.channels.get(fold(name))
    if channel is None:
        server.reply(user, "403", name, "No such channel")
    return channel


def is_banned(channel: Channel, user: User) -> bool:
    return any(mask_match(mask, user.prefix, CASEMAPPING) for mask in channel.bans)


# -- registration -----------------------------------------------------------------------


@HANDLERS.on("CAP")
def cap(server: Server, user: User, msg: Message) -> None:
    if not need_params(server, user, msg, 1):
        return
    sub = msg.params[0].upper()
    me = user.nickname or "*"
    if sub in ("LS", "REQ") and not user.registered:
        user.negotiating = True
    if sub == "LS":
        server.send(user, "CAP", me, "LS", " ".join(server.caps))
    elif sub == "LIST":
        server.send(user, "CAP", me, "LIST", " ".join(sorted(user.caps)))
    elif sub == "REQ":
        text = msg.params[1] if len(msg.params) > 1 else ""
        wanted = text.split()
        names = {offered.partition("=")[0] for offered in server.caps}  # "sasl=..." is sasl
        if not wanted or any(name.lstrip("-") not in names for name in wanted):
            server.send(user, "CAP", me, "NAK", text)  # all or nothing
            return
        for name in wanted:
            if name.startswith("-"):
                user.caps.discard(name[1:])
            else:
                user.caps.add(name)
        server.send(user, "CAP", me, "ACK", " ".join(wanted))
    elif sub == "END":
        if not user.registered:
            user.negotiating = False
            server.try_register(user)
    else:
        server.reply(user, "410", msg.params[0], "Invalid CAP command")


@HANDLERS.on("PASS")
def pass_(server: Server, user: User, msg: Message) -> None:
    if user.registered:
        server.reply(user, "462", "You may not reregister")
    elif need_params(server, user, msg, 1):
        user.password = msg.params[0]


@HANDLERS.on("USER")
def user_(server: Server, user: User, msg: Message) -> None:
    if user.registered:
        server.reply(user, "462", "You may not reregister")
    elif need_params(server, user, msg, 4):
        user.username = msg.params[0][:10]
        user.realname = msg.params[3]
        server.try_register(user)


@HANDLERS.on("NICK")
def nick(server: Server, user: User, msg: Message) -> None:
    if not msg.params or not msg.params[0]:
        server.reply(user, "431", "No nickname given")
        return
    new = msg.params[0]
    if not valid_nick(new):
        server.reply(user, "432", new, "Erroneous nickname")
        return
    holder = server.users.get(fold(new))
    if holder is not None and holder is not user:
        server.reply(user, "433", new, "Nickname is already in use")
        return
    if new == user.nickname:
        return
    if user.registered:  # the old prefix is the source: tell everyone first
        for peer in [user, *server.peers(user)]:
            server.send(peer, "NICK", new, sender=user)
    if user.nickname:
        del server.users[fold(user.nickname)]
    user.nickname = new
    server.users[fold(new)] = user  # reserved at once, registered or not
    server.try_register(user)


@HANDLERS.on("QUIT")
def quit_(server: Server, user: User, msg: Message) -> None:
    server.quit(user, msg.params[0] if msg.params and msg.params[0] else None)


@HANDLERS.on("PING")
def ping(server: Server, user: User, msg: Message) -> None:
    if not msg.params or not msg.params[0]:
        server.reply(user, "409", "No origin specified")
    else:
        server.send(user, "PONG", server.name, msg.params[0])


@HANDLERS.on("PONG")
def pong(server: Server, user: User, msg: Message) -> None:
    pass  # the server never pings: nothing to check


# -- messages ---------------------------------------------------------------------------


@HANDLERS.on("PRIVMSG", "NOTICE", "TAGMSG")
def message(server: Server, user: User, msg: Message) -> None:
    """To channels and nicks (comma lists); client-only ``+tags`` are relayed."""
    quiet = msg.command == "NOTICE"  # never an error reply to a NOTICE
    tagmsg = msg.command == "TAGMSG"
    if not msg.params or not msg.params[0]:
        if not quiet:
            server.reply(user, "411", f"No recipient given ({msg.command})")
        return
    if not tagmsg and (len(msg.params) < 2 or not msg.params[1]):
        if not quiet:
            server.reply(user, "412", "No text to send")
        return
    text = () if tagmsg else (msg.params[1],)
    client_tags = {k: v for k, v in msg.tags.items() if k.startswith("+")}
    for target in msg.params[0].split(","):
        channel = None
        if target.startswith("#"):
            channel = server.channels.get(fold(target))
            if channel is None:
                if not quiet:
                    server.reply(user, "403", target, "No such channel")
                continue
            if not channel.can_speak(user, is_banned(channel, user)):
                if not quiet:
                    server.reply(user, "404", channel.name, "Cannot send to channel")
                continue
            name = channel.name
            recipients = [member for member in channel.users if member is not user]
        else:
            peer = server.find_user(target)
            if peer is None:
                if not quiet:
                    server.reply(user, "401", target, "No such nick/channel")
                continue
            name = peer.nickname or target
            recipients = [peer]
            if peer.away is not None and msg.command == "PRIVMSG":
                server.reply(user, "301", name, peer.away)
        if "echo-message" in user.caps and user not in recipients:
            recipients.append(user)
        meta = None  # time and msgid, the same for every recipient (None: no history kept)
        if not tagmsg:
            meta = server.stamp(channel, user, msg.command, msg.params[1], client_tags)
        for recipient in recipients:
            if not tagmsg or "message-tags" in recipient.caps:
                server.send(
                    recipient, msg.command, name, *text, sender=user, tags=client_tags, meta=meta
                )


# -- queries ----------------------------------------------------------------------------


@HANDLERS.on("WHO")
def who(server: Server, user: User, msg: Message) -> None:
    mask = msg.params[0] if msg.params and msg.params[0] else "*"
    multi = "multi-prefix" in user.caps
    rows: list[tuple[User, str, set[str]]] = []
    channel = server.channels.get(fold(mask))
    if channel is not None and ("s" not in channel.modes or user in channel.users):
        rows = [(member, channel.name, prefixes) for member, prefixes in channel.users.items()]
    elif not mask.startswith("#"):
        peer = server.find_user(mask)
        rows = [(peer, "*", set())] if peer is not None else []
    for who_user, where, prefixes in rows:
        flags = ("G" if who_user.away is not None else "H") + names_prefix(prefixes, multi)
        server.reply(
            user,
            "352",
            where,
            who_user.username or "*",
            who_user.host,
            server.name,
            who_user.nickname or "*",
            flags,
            f"0 {who_user.realname or ''}",
        )
    server.reply(user, "315", mask, "End of /WHO list.")


@HANDLERS.on("WHOIS")
def whois(server: Server, user: User, msg: Message) -> None:
    if not need_params(server, user, msg, 1):
        return
    nick = msg.params[-1]  # "WHOIS server nick" asks the same here
    peer = server.find_user(nick)
    if peer is None:
        server.reply(user, "401", nick, "No such nick/channel")
        server.reply(user, "318", nick, "End of /WHOIS list.")
        return
    name = peer.nickname or nick
    server.reply(user, "311", name, peer.username or "*", peer.host, "*", peer.realname or "")
    channels = [
        names_prefix(channel.users[peer], False) + channel.name
        for channel in peer.channels.values()
        if "s" not in channel.modes or user in channel.users
    ]
    if channels:
        server.reply(user, "319", name, " ".join(channels))
    server.reply(user, "312", name, server.name, f"{server.network} test server")
    if peer.account:
        server.reply(user, "330", name, peer.account, "is logged in as")
    if peer.away is not None:
        server.reply(user, "301", name, peer.away)
    server.reply(user, "318", name, "End of /WHOIS list.")


@HANDLERS.on("AWAY")
def away(server: Server, user: User, msg: Message) -> None:
    if msg.params and msg.params[0]:
        user.away = msg.params[0]
        server.reply(user, "306", "You have been marked as being away")
    else:
        user.away = None
        server.reply(user, "305", "You are no longer marked as being away")
