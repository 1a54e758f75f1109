"""What we know of the network: our nick, our channels, the users in them.

:class:`IRCState` is fed every parsed message (``apply``) and returns the
membership events that message caused.  Handlers are registered in a table
by decorator (:mod:`logbot.irc.registry`), never looked up by name.

Names are keys only after case folding with the server's CASEMAPPING; the
displayed spelling is kept in the objects.  Only users who share a channel
with us (and we ourselves) are tracked: a user who leaves our last common
channel is forgotten, so memory follows our channels, not the network.

Every event that concerns a user (QUIT, NICK, CHGHOST, ...) carries the
channels we share with them, computed *before* the state changes.

``channels`` and ``users`` always agree (a member of a channel is a known user who
lists it; a user lists only our channels; we are in each of them): a server, a
bouncer or a lost line can send what does not fit (a JOIN for a channel we are in,
a NICK onto a nick we know, a bare ``001``), and such a line is made to fit or
ignored with a debug log, never allowed to raise: an exception here would drop the
connection and the rest of the read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from logbot.irc import events as ev
from logbot.irc.isupport import ISupport
from logbot.irc.message import NO_TAGS, Message, split_userhost
from logbot.irc.modes import apply_channel_modes, parse_modes
from logbot.irc.registry import HandlerTable

__all__ = ["Channel", "IRCState", "User"]

log = logging.getLogger(__name__)


@dataclass
class User:
    nick: str
    user: str | None = None
    host: str | None = None
    account: str | None = None
    away: str | None = None
    realname: str | None = None
    channels: set[str] = field(default_factory=set)  # folded channel names

    @property
    def hostmask(self) -> str:
        return f"{self.nick}!{self.user or '*'}@{self.host or '*'}"


@dataclass
class Channel:
    name: str
    topic: str | None = None
    topic_setter: str | None = None
    topic_time: int | None = None
    modes: dict[str, str | None] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=dict)  # folded nick -> prefix modes


Handler = Callable[["IRCState", Message], list[ev.Event]]
HANDLERS: HandlerTable[Handler] = HandlerTable()
_HANDLERS = HANDLERS.mapping  # the live dict: filled by the decorators below


class IRCState:
    """Mutable tracking state of one connection."""

    def __init__(self, nick: str) -> None:
        self.nick = nick
        self.isupport = ISupport()
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, User] = {}
        self.user_modes: set[str] = set()
        self.me = self._user(nick)

    # -- lookups ------------------------------------------------------------

    def fold(self, name: str) -> str:
        """``name`` case-folded with the server's CASEMAPPING (a dictionary key)."""
        return self.isupport.folded[name]

    def is_self(self, nick: str | None) -> bool:
        folded = self.isupport.folded
        return nick is not None and folded[nick] == folded[self.nick]

    def user(self, nick: str) -> User | None:
        return self.users.get(self.isupport.folded[nick])

    def channel(self, name: str) -> Channel | None:
        return self.channels.get(self.fold(name))

    def shared_channels(self, nick: str) -> tuple[str, ...]:
        """Display names of our channels that ``nick`` is in, sorted."""
        user = self.user(nick)
        if user is None:
            return ()
        names = (self.channels[key].name for key in user.channels if key in self.channels)
        return tuple(sorted(names))

    # -- bookkeeping --------------------------------------------------------

    def _user(self, nick: str) -> User:
        key = self.fold(nick)
        if key not in self.users:
            self.users[key] = User(nick)
        return self.users[key]

    def _learn(self, source: str) -> User | None:
        """Record user/host of a known user from any message's source."""
        rest, _, host = source.partition("@")  # split_userhost, inlined: every line
        nick, _, user_name = rest.partition("!")
        user = self.users.get(self.isupport.folded[nick])
        if user is not None:
            user.user = user_name or user.user
            user.host = host or user.host
        return user

    def _add_member(self, channel: Channel, nick: str, prefixes: set[str]) -> User:
        user = self._user(nick)
        channel.members[self.fold(nick)] = prefixes
        user.channels.add(self.fold(channel.name))
        return user

    def _remove_member(self, channel_key: str, nick: str) -> None:
        channel = self.channels.get(channel_key)
        if channel is not None:
            channel.members.pop(self.fold(nick), None)
        user = self.user(nick)
        if user is not None:
            user.channels.discard(channel_key)
            self._forget_if_alone(user)

    def _forget_if_alone(self, user: User) -> None:
        if not user.channels and not self.is_self(user.nick):
            self.users.pop(self.fold(user.nick), None)

    def _drop_channel(self, key: str) -> None:
        channel = self.channels.pop(key, None)
        if channel is None:
            return
        for member in list(channel.members):
            user = self.users.get(member)
            if user is not None:
                user.channels.discard(key)
                self._forget_if_alone(user)

    def leave(self, channel_name: str, nick: str) -> tuple[Channel | None, bool]:
        """``nick`` left a channel (PART, KICK): forget the channel if that was
        us, else the membership.  Returns the channel (if ours) and is_self."""
        key = self.fold(channel_name)
        channel = self.channels.get(key)
        is_self = self.is_self(nick)
        if channel is not None:
            if is_self:
                self._drop_channel(key)
            else:
                self._remove_member(key, nick)
        return channel, is_self

    def rename(self, old: str, new: str) -> None:
        """Rename a user everywhere (also used when the server renames us).

        A rename onto a nick we still track means we missed that user's QUIT or
        NICK, so the stale user is forgotten first.  One onto our own nick, or to
        what cannot be a nick (empty, or two words: ``:srv 001 : ``), cannot be
        right and is ignored, as is one of an unknown user: an empty nick of ours
        would make every line without a source look like ours."""
        old_key, new_key = self.fold(old), self.fold(new)
        is_self = self.is_self(old)
        user = self.me if is_self else self.users.get(old_key)
        if user is None or not new or " " in new:
            log.debug("ignored a rename of %r to %r: unknown user or not a nick", old, new)
            return
        if new_key != old_key:
            if self.is_self(new):
                log.debug("ignored a rename of %r to our own nick %r", old, new)
                return
            stale = self.users.get(new_key)
            if stale is not None:
                log.debug("%r renamed to %r, which we still tracked: forgot that one", old, new)
                self._forget(stale)
        self.users.pop(old_key, None)
        if is_self:
            self.nick = new
        user.nick = new
        self.users[new_key] = user
        for key in user.channels:
            members = self.channels[key].members
            members[new_key] = members.pop(old_key, set())

    def _forget(self, user: User) -> None:
        """Remove another user from every channel and from ``users`` (a QUIT)."""
        key = self.fold(user.nick)
        for channel_key in user.channels:
            channel = self.channels.get(channel_key)
            if channel is not None:
                channel.members.pop(key, None)
        user.channels.clear()
        self.users.pop(key, None)

    def refold(self) -> None:
        """Re-key every dictionary after CASEMAPPING changed (it arrives in 005,
        after 001 has already created our own entry).

        Two names under the old mapping may be one under the new (``x[`` and
        ``X{`` under rfc1459): then the later entry wins (our own always), and
        every user's channels are rebuilt from the channels' member lists, so that
        the two sides agree again instead of naming what was merged away."""
        fold = self.fold
        user_keys = {old: fold(u.nick) for old, u in self.users.items()}
        self.channels = {fold(c.name): c for c in self.channels.values()}
        self.users = {user_keys[old]: u for old, u in self.users.items()}
        self.users[fold(self.nick)] = self.me
        for user in self.users.values():
            user.channels = set()
        for key, channel in self.channels.items():
            members = {user_keys.get(m, m): p for m, p in channel.members.items()}
            channel.members = {m: p for m, p in members.items() if m in self.users}
            for member in channel.members:
                self.users[member].channels.add(key)
        for user in list(self.users.values()):
            self._forget_if_alone(user)

    # -- entry point --------------------------------------------------------

    def apply(self, msg: Message) -> list[ev.Event]:
        """Update the state from ``msg``; return the events it caused."""
        if msg.source is not None:
            user = self._learn(msg.source)
            if user is not None and msg.tags is not NO_TAGS:
                account = msg.tags.get("account")  # account-tag
                if account is not None:
                    user.account = account
        handler = _HANDLERS.get(msg.command)
        if handler is None:
            return []
        try:
            return handler(self, msg)
        except IndexError:  # too few parameters: a broken server line
            return []
        except Exception:  # a bug of ours: never a dropped connection and a lost read
            log.exception("state: handling %s failed; the line is skipped", msg.command)
            return []


def _nick_of(msg: Message) -> str:
    return split_userhost(msg.source or "").nick or ""


def _param(msg: Message, index: int) -> str | None:
    return msg.params[index] if len(msg.params) > index else None


@HANDLERS.on("001")
def _welcome(state: IRCState, msg: Message) -> list[ev.Event]:
    state.rename(state.nick, msg.params[0])  # (a bare 001: IndexError, ignored)
    last_word = msg.params[-1].rsplit(" ", 1)[-1]
    if "!" in last_word and "@" in last_word:  # many servers end 001 with our mask
        state._learn(last_word)
    return []


@HANDLERS.on("005")
def _isupport(state: IRCState, msg: Message) -> list[ev.Event]:
    before = state.isupport.casemapping
    state.isupport.apply(msg.params)
    if state.isupport.casemapping != before:
        state.refold()
    return []


@HANDLERS.on("396")  # RPL_VISIBLEHOST: our displayed host changed
def _visible_host(state: IRCState, msg: Message) -> list[ev.Event]:
    user_name, _, host = msg.params[1].rpartition("@")
    state.me.host = host
    state.me.user = user_name or state.me.user
    return []


@HANDLERS.on("JOIN")
def _join(state: IRCState, msg: Message) -> list[ev.Event]:
    nick = _nick_of(msg)
    name = msg.params[0]
    key = state.fold(name)
    if state.is_self(nick):
        if key in state.channels:  # we missed our PART or KICK: what we knew is stale
            log.debug("JOIN of %s, which we were in already: starting it afresh", name)
            state._drop_channel(key)
        state.channels[key] = Channel(name)
    channel = state.channels.get(key)
    if channel is None:
        return []
    user = state._add_member(channel, nick, set())
    state._learn(msg.source or "")
    account = realname = None
    if len(msg.params) >= 3:  # extended-join: JOIN #c account :realname
        account = None if msg.params[1] == "*" else msg.params[1]
        realname = msg.params[2]
        user.account, user.realname = account, realname
    return [
        ev.Joined(
            channel=channel.name,
            nick=nick,
            source=msg.source or nick,
            is_self=state.is_self(nick),
            account=account,
            realname=realname,
            **ev.meta(msg),
        )
    ]


@HANDLERS.on("PART")
def _part(state: IRCState, msg: Message) -> list[ev.Event]:
    nick = _nick_of(msg)
    channel, is_self = state.leave(msg.params[0], nick)
    if channel is None:
        return []
    return [
        ev.Parted(
            channel=channel.name,
            nick=nick,
            source=msg.source or nick,
            is_self=is_self,
            reason=_param(msg, 1),
            **ev.meta(msg),
        )
    ]


@HANDLERS.on("KICK")
def _kick(state: IRCState, msg: Message) -> list[ev.Event]:
    victim = msg.params[1]
    channel, is_self = state.leave(msg.params[0], victim)
    if channel is None:
        return []
    return [
        ev.Kicked(
            channel=channel.name,
            nick=victim,
            source=msg.source or "",
            is_self=is_self,
            reason=_param(msg, 2),
            **ev.meta(msg),
        )
    ]


@HANDLERS.on("QUIT")
def _quit(state: IRCState, msg: Message) -> list[ev.Event]:
    nick = _nick_of(msg)
    channels = state.shared_channels(nick)  # before the user is forgotten
    user = state.user(nick)
    if user is not None and not state.is_self(nick):
        state._forget(user)
    return [
        ev.Quit(
            nick=nick,
            source=msg.source or nick,
            reason=_param(msg, 0),
            channels=channels,
            is_self=state.is_self(nick),
            **ev.meta(msg),
        )
    ]


@HANDLERS.on("NICK")
def _nick(state: IRCState, msg: Message) -> list[ev.Event]:
    old, new = _nick_of(msg), msg.params[0]
    is_self = state.is_self(old)
    channels = state.shared_channels(old)
    if is_self or state.user(old) is not None:
        state.rename(old, new)
    return [
        ev.NickChanged(
            old=old,
            new=new,
            source=msg.source or old,
            channels=channels,
            is_self=is_self,
            **ev.meta(msg),
        )
    ]


@HANDLERS.on("353")  # RPL_NAMREPLY: me <type> #chan :names
def _names(state: IRCState, msg: Message) -> list[ev.Event]:
    channel = state.channel(msg.params[2])
    if channel is None:
        return []
    symbols, modes = state.isupport.prefix[1], state.isupport.prefix[0]
    for entry in msg.params[3].split():
        prefixes = set()
        while entry and entry[0] in symbols:  # multi-prefix: "@+nick"
            prefixes.add(modes[symbols.index(entry[0])])
            entry = entry[1:]
        if not entry:
            continue
        nick = split_userhost(entry).nick or entry  # userhost-in-names
        state._add_member(channel, nick, prefixes)
        state._learn(entry)
    return []


@HANDLERS.on("MODE")
def _mode(state: IRCState, msg: Message) -> list[ev.Event]:
    target, modestring, args = msg.params[0], msg.params[1], msg.params[2:]
    channel = state.channel(target)
    changes = parse_modes(modestring, args, state.isupport, channel is not None)
    if channel is not None:
        apply_channel_modes(channel.modes, channel.members, changes, state.isupport, state.fold)
    elif state.is_self(target):
        for change in changes:
            (state.user_modes.add if change.adding else state.user_modes.discard)(change.mode)
    else:
        return []
    return [ev.ModeChanged(target=target, source=msg.source or "", changes=changes, **ev.meta(msg))]


@HANDLERS.on("324")  # RPL_CHANNELMODEIS: me #chan +modes args
def _channel_mode_is(state: IRCState, msg: Message) -> list[ev.Event]:
    channel = state.channel(msg.params[1])
    if channel is not None:
        channel.modes.clear()
        changes = parse_modes(msg.params[2], msg.params[3:], state.isupport, True)
        apply_channel_modes(channel.modes, channel.members, changes, state.isupport, state.fold)
    return []


@HANDLERS.on("TOPIC")
def _topic(state: IRCState, msg: Message) -> list[ev.Event]:
    channel = state.channel(msg.params[0])
    topic = msg.params[1] if len(msg.params) > 1 else ""
    if channel is not None:
        channel.topic, channel.topic_setter = topic or None, msg.source
    return [
        ev.Topic(
            channel=msg.params[0],
            topic=topic or None,
            setter=msg.source,
            is_change=True,
            **ev.meta(msg),
        )
    ]


@HANDLERS.on("332", "331")  # RPL_TOPIC / RPL_NOTOPIC: me #chan :topic
def _topic_reply(state: IRCState, msg: Message) -> list[ev.Event]:
    topic = msg.params[2] if msg.command == "332" else None
    channel = state.channel(msg.params[1])
    if channel is not None:
        channel.topic = topic
    return [
        ev.Topic(channel=msg.params[1], topic=topic, setter=None, is_change=False, **ev.meta(msg))
    ]


@HANDLERS.on("333")  # RPL_TOPICWHOTIME: me #chan setter unixtime
def _topic_who_time(state: IRCState, msg: Message) -> list[ev.Event]:
    channel = state.channel(msg.params[1])
    if channel is not None:
        channel.topic_setter = msg.params[2]
        try:
            channel.topic_time = int(msg.params[3])
        except ValueError:
            channel.topic_time = None
    return []


def _subject(state: IRCState, msg: Message) -> User:
    """The user a CHGHOST/SETNAME/ACCOUNT/AWAY is about.  An unknown user is
    reported but not stored: we track only users we share a channel with."""
    nick = _nick_of(msg)
    return state.user(nick) or User(nick)


@HANDLERS.on("CHGHOST")
def _chghost(state: IRCState, msg: Message) -> list[ev.Event]:
    user = _subject(state, msg)
    user.user, user.host = msg.params[0], msg.params[1]
    return [
        ev.ChgHost(
            nick=user.nick,
            user=user.user,
            host=user.host,
            channels=state.shared_channels(user.nick),
            **ev.meta(msg),
        )
    ]


@HANDLERS.on("SETNAME")
def _setname(state: IRCState, msg: Message) -> list[ev.Event]:
    user = _subject(state, msg)
    user.realname = msg.params[0]
    return [
        ev.SetName(
            nick=user.nick,
            realname=user.realname,
            channels=state.shared_channels(user.nick),
            **ev.meta(msg),
        )
    ]


@HANDLERS.on("ACCOUNT")
def _account(state: IRCState, msg: Message) -> list[ev.Event]:
    user = _subject(state, msg)
    user.account = None if msg.params[0] == "*" else msg.params[0]
    return [
        ev.AccountChanged(
            nick=user.nick,
            account=user.account,
            channels=state.shared_channels(user.nick),
            **ev.meta(msg),
        )
    ]


@HANDLERS.on("AWAY")
def _away(state: IRCState, msg: Message) -> list[ev.Event]:
    user = _subject(state, msg)
    user.away = (msg.params[0] or None) if msg.params else None
    return [
        ev.Away(
            nick=user.nick,
            message=user.away,
            channels=state.shared_channels(user.nick),
            **ev.meta(msg),
        )
    ]
