"""What we know of the network: our nick, our channels, the users in them.

:class:`IRCState` is fed every parsed message (``apply``) and returns the
membership events that message caused.  Handlers are registered in a table
by decorator (:mod:`logbot.irc.registry`), never looked up by name.  The
bookkeeping of who is where, and its limits, is :class:`~logbot.irc.members.Members`,
which ``IRCState`` extends: names are keys only after case folding, only users who
share a channel with us are tracked, and ``channels`` and ``users`` always agree.

Every event that concerns a user (QUIT, NICK, CHGHOST, ...) carries the
channels we share with them, computed *before* the state changes.  A line is never
dropped for a limit: a JOIN or NAMES entry past one gives its event, only its member
is not tracked (see :mod:`logbot.irc.members` for what that costs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from logbot.irc import events as ev
from logbot.irc.casemap import DEFAULT_CASEMAPPING
from logbot.irc.diagnostics import Diagnostics
from logbot.irc.events import ModeChange
from logbot.irc.isupport import unescape_isupport_value
from logbot.irc.limits import ReceiveLimits
from logbot.irc.members import Channel, Members, User
from logbot.irc.message import NO_TAGS, Message, split_userhost
from logbot.irc.modes import apply_channel_modes, parse_modes
from logbot.irc.registry import HandlerTable

__all__ = ["Channel", "IRCState", "User"]

log = logging.getLogger(__name__)


Handler = Callable[["IRCState", Message], list[ev.Event]]
HANDLERS: HandlerTable[Handler] = HandlerTable()
_HANDLERS = HANDLERS.mapping  # the live dict: filled by the decorators below


class IRCState(Members):
    """Mutable tracking state of one connection."""

    def __init__(
        self,
        nick: str,
        limits: ReceiveLimits | None = None,
        diagnostics: Diagnostics | None = None,
    ) -> None:
        super().__init__(nick, limits, diagnostics)
        self.user_modes: set[str] = set()

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
            self.diagnostics.warning(
                "state handler failed",
                log,
                "state: handling %s failed; the line is skipped",
                msg.command,
                exc_info=True,
                level=logging.ERROR,
            )
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
    """A new CASEMAPPING re-keys every user and membership (:meth:`refold`), which a
    server could ask for in every 005 line: a change that would take the names
    re-keyed past ``limits.refold_budget`` is ignored (said once)."""
    params = msg.params
    isupport = state.isupport
    mapping = _casemapping_set(params[1:-1])
    if (
        mapping is not None
        and mapping != isupport.casemapping
        and state.refolded + len(state.users) + state.memberships > state.limits.refold_budget
    ):
        state.diagnostics.once(
            "casemapping",
            log,
            "the server changed CASEMAPPING too often: it stays %s",
            isupport.casemapping,
        )
        tokens = [p for p in params[1:-1] if _token_name(p) != "CASEMAPPING"]
        params = (params[0], *tokens, params[-1])
    before = isupport.casemapping
    isupport.apply(params)
    if isupport.casemapping != before:
        state.refold()
    return []


def _token_name(token: str) -> str:
    return token.lstrip("-").partition("=")[0].upper()


def _casemapping_set(tokens: tuple[str, ...]) -> str | None:
    """The casemapping these 005 tokens leave (as :class:`ISupport` reads it), or None
    when they do not name it."""
    mapping = None
    for token in tokens:
        if _token_name(token) == "CASEMAPPING":
            value = "" if token.startswith("-") else token.partition("=")[2]
            mapping = (unescape_isupport_value(value) or DEFAULT_CASEMAPPING).lower()
    return mapping


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
    is_self = state.is_self(nick)
    if is_self:
        if key in state.channels:  # we missed our PART or KICK: what we knew is stale
            log.debug("JOIN of %s, which we were in already: starting it afresh", name)
            state._drop_channel(key)
        if state.room_for_channel(name):
            state.channels[key] = Channel(name)
    channel = state.channels.get(key)
    if channel is None and not is_self:
        return []
    account = realname = None
    extended = len(msg.params) >= 3  # extended-join: JOIN #c account :realname
    if extended:
        account = None if msg.params[1] == "*" else msg.params[1]
        realname = msg.params[2]
    # Past a limit the JOIN is still reported (and logged); only the member is not kept.
    if channel is not None and state.room_for_member(channel, state.fold(nick)):
        user = state._add_member(channel, nick, set())
        state._learn(msg.source or "")
        if extended:
            user.account, user.realname = account, realname
    return [
        ev.Joined(
            channel=name if channel is None else channel.name,
            nick=nick,
            source=msg.source or nick,
            is_self=is_self,
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


@HANDLERS.on("RENAME")  # IRCv3 draft/channel-rename: RENAME old new :reason
def _rename_channel(state: IRCState, msg: Message) -> list[ev.Event]:
    """A channel of ours renamed: the same channel, its members and modes, under the
    new name.  A RENAME of a channel we are not in, or to what cannot be a channel
    name, changes nothing and gives no event."""
    new = msg.params[1]
    old = state.rename_channel(msg.params[0], new)
    if old is None:
        return []
    reason = _param(msg, 2)
    return [
        ev.ChannelRenamed(
            old=old, new=new, source=msg.source or "", reason=reason or None, **ev.meta(msg)
        )
    ]


@HANDLERS.on("353")  # RPL_NAMREPLY: me <type> #chan :names
def _names(state: IRCState, msg: Message) -> list[ev.Event]:
    """Each entry is ``[prefix symbols]nick[!user@host]`` (multi-prefix,
    userhost-in-names).  A server can send a million of them: the lookups are hoisted,
    and once a limit stops new members for this line (:meth:`room_for_member`, said
    once) an entry of someone not tracked costs a fold and a dictionary lookup."""
    channel = state.channel(msg.params[2])
    if channel is None:
        return []
    isupport = state.isupport
    modes, symbols = isupport.prefix
    folded, table, members = isupport.folded, isupport.fold_table, channel.members
    room = True  # for new members; only ever runs out within a line
    for entry in msg.params[3].split():
        name = entry.lstrip(symbols)  # (symbols == "": nothing is stripped)
        if not name:
            continue
        nick = name.partition("@")[0].partition("!")[0] or name  # split_userhost's nick
        if nick not in members:  # (a member's key is folded, and folds to itself)
            # Not folded[nick]: a flood of names we do not track must not fill (and so
            # empty) the fold cache that every other line uses.
            key = folded.get(nick)
            if key is None:
                key = nick.translate(table)
            if key not in members:
                if not room:
                    continue
                if not state.room_for_member(channel, key):
                    room = False
                    continue
        prefixes = {modes[symbols.index(c)] for c in entry[: len(entry) - len(name)]}
        state._add_member(channel, nick, prefixes)
        state._learn(name)
    return []


def _ascii_modes(changes: tuple[ModeChange, ...]) -> tuple[ModeChange, ...]:
    """The changes whose mode is ASCII: the only ones kept in the state.  Every mode
    of every server is an ASCII letter, and a mode is a key of ``Channel.modes``, so a
    server sending a different non-ASCII character in each MODE could otherwise grow
    it by a million entries per channel.  (The event still lists every change.)"""
    if all(change.mode.isascii() for change in changes):
        return changes
    return tuple(change for change in changes if change.mode.isascii())


@HANDLERS.on("MODE")
def _mode(state: IRCState, msg: Message) -> list[ev.Event]:
    target, modestring, args = msg.params[0], msg.params[1], msg.params[2:]
    channel = state.channel(target)
    changes = parse_modes(modestring, args, state.isupport, channel is not None)
    kept = _ascii_modes(changes)
    if channel is not None:
        apply_channel_modes(channel.modes, channel.members, kept, state.isupport, state.fold)
    elif state.is_self(target):
        for change in kept:
            (state.user_modes.add if change.adding else state.user_modes.discard)(change.mode)
    else:
        return []
    return [ev.ModeChanged(target=target, source=msg.source or "", changes=changes, **ev.meta(msg))]


@HANDLERS.on("324")  # RPL_CHANNELMODEIS: me #chan +modes args
def _channel_mode_is(state: IRCState, msg: Message) -> list[ev.Event]:
    channel = state.channel(msg.params[1])
    if channel is not None:
        channel.modes.clear()
        changes = _ascii_modes(parse_modes(msg.params[2], msg.params[3:], state.isupport, True))
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
