"""Channel commands of the test IRC server: JOIN, PART, TOPIC, NAMES, LIST, KICK, MODE.

Handlers as in :mod:`logbot.testing.ircd_commands` (same signature, own table, merged
by :mod:`logbot.testing.ircd`).  Channel state lives on :class:`Channel`; everything
a member must see is sent to every member, the actor included, as servers do.
"""

from __future__ import annotations

from logbot.irc.message import Message
from logbot.irc.registry import HandlerTable
from logbot.testing.ircd_commands import (
    CHANNEL_FLAGS,
    TOPICLEN,
    USER_MODES,
    Handler,
    find_channel,
    fold,
    is_banned,
    need_params,
    valid_channel,
)
from logbot.testing.ircd_users import Channel, Server, User, names_prefix

__all__ = ["HANDLERS"]

HANDLERS: HandlerTable[Handler] = HandlerTable()
_NAMES_BUDGET = 400  # bytes of nicks per 353 line: leaves room for the prefix and channel


@HANDLERS.on("JOIN")
def join(server: Server, user: User, msg: Message) -> None:
    if not need_params(server, user, msg, 1):
        return
    if msg.params[0] == "0":  # leave every channel
        for channel in list(user.channels.values()):
            _part(server, user, channel, None)
        return
    keys = msg.params[1].split(",") if len(msg.params) > 1 else []
    for i, name in enumerate(msg.params[0].split(",")):
        _join(server, user, name, keys[i] if i < len(keys) else None)


def _join(server: Server, user: User, name: str, key: str | None) -> None:
    if not valid_channel(name):
        server.reply(user, "403", name, "No such channel")
        return
    channel = server.channels.get(fold(name))
    if channel is None:
        channel = server.channels[fold(name)] = Channel(name, server.wall())
        prefixes = {"@"}  # the first user gets ops
    else:
        if user in channel.users:
            return
        refusal = None
        if channel.key is not None and key != channel.key:
            refusal = ("475", "Cannot join channel (+k)")
        elif channel.limit is not None and len(channel.users) >= channel.limit:
            refusal = ("471", "Cannot join channel (+l)")
        elif "i" in channel.modes:
            refusal = ("473", "Cannot join channel (+i)")
        elif is_banned(channel, user):
            refusal = ("474", "Cannot join channel (+b)")
        if refusal is not None:
            server.reply(user, refusal[0], channel.name, refusal[1])
            return
        prefixes = set()
    channel.users[user] = prefixes
    user.channels[fold(name)] = channel
    for member in channel.users:
        if "extended-join" in member.caps:
            server.send(
                member, "JOIN", channel.name, user.account or "*", user.realname or "", sender=user
            )
        else:
            server.send(member, "JOIN", channel.name, sender=user)
    if channel.topic is not None:
        _send_topic(server, user, channel)
    _names(server, user, channel)


@HANDLERS.on("PART")
def part(server: Server, user: User, msg: Message) -> None:
    if not need_params(server, user, msg, 1):
        return
    reason = msg.params[1] if len(msg.params) > 1 and msg.params[1] else None
    for name in msg.params[0].split(","):
        channel = find_channel(server, user, name)
        if channel is None:
            continue
        if user not in channel.users:
            server.reply(user, "442", channel.name, "You're not on that channel")
            continue
        _part(server, user, channel, reason)


def _part(server: Server, user: User, channel: Channel, reason: str | None) -> None:
    for member in channel.users:
        server.send(member, "PART", channel.name, *([reason] if reason else []), sender=user)
    server.leave(user, channel)


@HANDLERS.on("TOPIC")
def topic(server: Server, user: User, msg: Message) -> None:
    if not need_params(server, user, msg, 1):
        return
    channel = find_channel(server, user, msg.params[0])
    if channel is None:
        return
    if len(msg.params) == 1:
        _send_topic(server, user, channel)
        return
    if user not in channel.users:
        server.reply(user, "442", channel.name, "You're not on that channel")
        return
    if "t" in channel.modes and not channel.is_op(user):
        server.reply(user, "482", channel.name, "You're not channel operator")
        return
    text = msg.params[1][:TOPICLEN]
    channel.topic = text or None
    channel.topic_setter = user.nickname
    channel.topic_time = int(server.wall())
    for member in channel.users:
        server.send(member, "TOPIC", channel.name, text, sender=user)


def _send_topic(server: Server, user: User, channel: Channel) -> None:
    if channel.topic is None:
        server.reply(user, "331", channel.name, "No topic is set")
        return
    server.reply(user, "332", channel.name, channel.topic)
    server.reply(
        user, "333", channel.name, channel.topic_setter or server.name, str(channel.topic_time)
    )


@HANDLERS.on("NAMES")
def names(server: Server, user: User, msg: Message) -> None:
    if not msg.params or not msg.params[0]:
        server.reply(user, "366", "*", "End of /NAMES list.")
        return
    for name in msg.params[0].split(","):
        channel = server.channels.get(fold(name))
        if channel is None:
            server.reply(user, "366", name, "End of /NAMES list.")
        else:
            _names(server, user, channel)


def _names(server: Server, user: User, channel: Channel) -> None:
    """353 lines (as many as the nicks need) and 366."""
    if "s" not in channel.modes or user in channel.users:
        multi = "multi-prefix" in user.caps
        symbol = "@" if "s" in channel.modes else "="
        entries = [
            names_prefix(prefixes, multi) + (member.nickname or "*")
            for member, prefixes in channel.users.items()
        ]
        chunk: list[str] = []
        for entry in entries:
            if chunk and len(" ".join([*chunk, entry]).encode()) > _NAMES_BUDGET:
                server.reply(user, "353", symbol, channel.name, " ".join(chunk))
                chunk = []
            chunk.append(entry)
        if chunk:
            server.reply(user, "353", symbol, channel.name, " ".join(chunk))
    server.reply(user, "366", channel.name, "End of /NAMES list.")


@HANDLERS.on("LIST")
def list_(server: Server, user: User, msg: Message) -> None:
    server.reply(user, "321", "Channel", "Users  Name")
    for channel in server.channels.values():
        if "s" not in channel.modes or user in channel.users:
            server.reply(user, "322", channel.name, str(len(channel.users)), channel.topic or "")
    server.reply(user, "323", "End of /LIST")


@HANDLERS.on("KICK")
def kick(server: Server, user: User, msg: Message) -> None:
    if not need_params(server, user, msg, 2):
        return
    channel = find_channel(server, user, msg.params[0])
    if channel is None:
        return
    if user not in channel.users:
        server.reply(user, "442", channel.name, "You're not on that channel")
        return
    if not channel.is_op(user):
        server.reply(user, "482", channel.name, "You're not channel operator")
        return
    reason = msg.params[2] if len(msg.params) > 2 and msg.params[2] else user.nickname or ""
    for nick in msg.params[1].split(","):
        victim = server.find_user(nick)
        if victim is None or victim not in channel.users:
            server.reply(user, "441", nick, channel.name, "They aren't on that channel")
            continue
        for member in channel.users:
            server.send(member, "KICK", channel.name, victim.nickname or "*", reason, sender=user)
        server.leave(victim, channel)


# -- modes ------------------------------------------------------------------------------


@HANDLERS.on("MODE")
def mode(server: Server, user: User, msg: Message) -> None:
    if not need_params(server, user, msg, 1):
        return
    target = msg.params[0]
    if target.startswith("#"):
        channel = find_channel(server, user, target)
        if channel is not None:
            _channel_mode(server, user, channel, msg.params[1:])
        return
    if server.find_user(target) is None:
        server.reply(user, "401", target, "No such nick/channel")
    elif fold(target) != fold(user.nickname or ""):
        server.reply(user, "502", "Can't change mode for other users")
    elif len(msg.params) == 1:
        server.reply(user, "221", "+" + "".join(sorted(user.modes)))
    else:
        changes: list[tuple[str, str, str | None]] = []
        sign = "+"
        for char in msg.params[1]:
            if char in "+-":
                sign = char
            elif char not in USER_MODES:
                server.reply(user, "501", "Unknown MODE flag")
            elif (char in user.modes) != (sign == "+"):
                (user.modes.add if sign == "+" else user.modes.discard)(char)
                changes.append((sign, char, None))
        if changes:
            server.send(user, "MODE", user.nickname or "*", _mode_line(changes)[0], sender=user)


def _channel_mode(server: Server, user: User, channel: Channel, args: tuple[str, ...]) -> None:
    if not args:
        server.reply(user, "324", channel.name, *channel.mode_string(user in channel.users))
        server.reply(user, "329", channel.name, str(int(channel.created)))
        return
    if args[0].lstrip("+") == "b" and len(args) == 1:
        _ban_list(server, user, channel)
        return
    if not channel.is_op(user):
        server.reply(user, "482", channel.name, "You're not channel operator")
        return
    params = iter(args[1:])
    changes: list[tuple[str, str, str | None]] = []
    sign = "+"
    for char in args[0]:
        if char in "+-":
            sign = char
            continue
        adding = sign == "+"
        if char in "ov":
            nick = next(params, None)
            if nick is None:
                continue
            member = server.find_user(nick)
            if member is None or member not in channel.users:
                server.reply(user, "441", nick, channel.name, "They aren't on that channel")
                continue
            prefixes = channel.users[member]
            prefix = "@" if char == "o" else "+"
            if (prefix in prefixes) != adding:
                (prefixes.add if adding else prefixes.discard)(prefix)
                changes.append((sign, char, member.nickname))
        elif char == "b":
            mask = next(params, None)
            if mask is None:
                _ban_list(server, user, channel)
            elif adding and mask not in channel.bans:
                channel.bans.append(mask)
                changes.append((sign, char, mask))
            elif not adding and mask in channel.bans:
                channel.bans.remove(mask)
                changes.append((sign, char, mask))
        elif char == "k":
            key = next(params, None)
            if adding and key:
                channel.key = key
                changes.append((sign, char, key))
            elif not adding and channel.key is not None:
                channel.key = None
                changes.append((sign, char, "*"))
        elif char == "l":
            if not adding:
                if channel.limit is not None:
                    channel.limit = None
                    changes.append((sign, char, None))
                continue
            limit = next(params, None)
            if limit is not None and limit.isdigit() and int(limit) > 0:
                channel.limit = int(limit)
                changes.append((sign, char, limit))
        elif char in CHANNEL_FLAGS:
            if (char in channel.modes) != adding:
                (channel.modes.add if adding else channel.modes.discard)(char)
                changes.append((sign, char, None))
        else:
            server.reply(user, "472", char, "is unknown mode char to me")
    if changes:
        modes, mode_args = _mode_line(changes)
        for member in channel.users:
            server.send(member, "MODE", channel.name, modes, *mode_args, sender=user)


def _mode_line(changes: list[tuple[str, str, str | None]]) -> tuple[str, list[str]]:
    """``[("+", "o", "bob"), ("-", "v", "carol")]`` -> ``("+o-v", ["bob", "carol"])``."""
    modes, args, last = "", [], ""
    for sign, char, arg in changes:
        if sign != last:
            modes += sign
            last = sign
        modes += char
        if arg is not None:
            args.append(arg)
    return modes, args


def _ban_list(server: Server, user: User, channel: Channel) -> None:
    for mask in channel.bans:
        server.reply(user, "367", channel.name, mask)
    server.reply(user, "368", channel.name, "End of channel ban list")
