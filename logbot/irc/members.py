"""Who is where: our channels, their members and the users we share them with.

:class:`Members` is the bookkeeping half of :class:`~logbot.irc.state.IRCState` (the
other half reads the server's messages).  Names are keys only after case folding with
the server's CASEMAPPING; the displayed spelling is kept in the objects.  Only users
who share a channel with us (and we ourselves) are tracked: a user who leaves our last
common channel is forgotten, so memory follows our channels, not the network.

``channels`` and ``users`` always agree (a member of a channel is a known user who
lists it; a user lists only our channels; we are in each of them): a server, a
bouncer or a lost line can send what does not fit (a JOIN for a channel we are in,
a NICK onto a nick we know, a bare ``001``), and such a line is made to fit or
ignored with a debug log, never allowed to raise: an exception here would drop the
connection and the rest of the read.

Bounded (:mod:`logbot.irc.limits`): a server can list any number of members and put us
in any number of channels, and each member tracked costs about 800 bytes.  So at most
``channel_members`` members are tracked in one channel, ``members`` memberships in all
of them together (``memberships`` counts them; ours are not limited), and ``channels``
channels of ours.  Past a limit the member or channel is simply not tracked, and the
first time each limit is reached is said once per connection.  What that costs: the
line itself still gives its event (a JOIN past the limit is logged), but a user we do
not track has no channels, so their QUIT, NICK, CHGHOST, ... name none and are logged
in no channel, and their account is not remembered; a channel of ours we do not track
gives no event for our own PART or KICK there (so no rejoin after a kick).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from logbot.irc.diagnostics import Diagnostics
from logbot.irc.isupport import ISupport
from logbot.irc.limits import ReceiveLimits

__all__ = ["Channel", "Members", "User"]

log = logging.getLogger(__name__)

#: What no channel name holds (RFC 2812 2.3.1; a colon is allowed after the first
#: character on modern servers): a space, comma, BEL or NUL would split a JOIN line.
_BAD_CHANNEL = re.compile("[ ,\x07\x00\r\n]")


@dataclass(slots=True)  # slots: one of these per tracked user, 100 bytes less each
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


@dataclass(slots=True)
class Channel:
    name: str
    topic: str | None = None
    topic_setter: str | None = None
    topic_time: int | None = None
    modes: dict[str, str | None] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=dict)  # folded nick -> prefix modes


class Members:
    """Our nick, channels and the users in them, for one connection."""

    def __init__(
        self,
        nick: str,
        limits: ReceiveLimits | None = None,
        diagnostics: Diagnostics | None = None,
    ) -> None:
        self.nick = nick
        self.limits = limits if limits is not None else ReceiveLimits()
        self.diagnostics = diagnostics if diagnostics is not None else Diagnostics()
        self.isupport = ISupport(self.limits.isupport_tokens, self.diagnostics)
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, User] = {}
        #: Entries in all channels' ``members`` together (ours included).
        self.memberships = 0
        #: Names re-keyed by :meth:`refold` so far (``limits.refold_budget``).
        self.refolded = 0
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

    # -- limits -------------------------------------------------------------

    def room_for_channel(self, name: str) -> bool:
        """Whether a channel of ours may be tracked (``limits.channels``)."""
        if len(self.channels) < self.limits.channels:
            return True
        self.diagnostics.once(
            "channels",
            log,
            "tracking %d channels, the most allowed: %.60r and any further channel of ours "
            "are not tracked (our own PART or KICK there gives no event)",
            self.limits.channels,
            name,
        )
        return False

    def room_for_member(self, channel: Channel, key: str) -> bool:
        """Whether ``key`` (a folded nick) may be a member of ``channel``: already one,
        us, or within ``limits.channel_members`` and ``limits.members``."""
        members = channel.members
        if key in members:
            return True
        limits = self.limits
        if len(members) < limits.channel_members and self.memberships < limits.members:
            return True
        if key == self.isupport.folded[self.nick]:
            return True  # our own: bounded by the channels
        if len(members) >= limits.channel_members:
            self.diagnostics.once(
                "channel members",
                log,
                "%.60r has %d members tracked, the most allowed in one channel: further "
                "members of a channel that full are not tracked (their QUIT and NICK are "
                "logged in no channel)",
                channel.name,
                len(members),
            )
        else:
            self.diagnostics.once(
                "members",
                log,
                "tracking %d channel members in all, the most allowed: further members are "
                "not tracked (their QUIT and NICK are logged in no channel); a bot in"
                " thousands of channels raises the network's max_members",
                self.memberships,
            )
        return False

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
        """Make ``nick`` a member (the caller checked :meth:`room_for_member`)."""
        user = self._user(nick)
        key = self.fold(nick)
        members = channel.members
        if key not in members:
            self.memberships += 1
        members[key] = prefixes
        user.channels.add(self.fold(channel.name))
        return user

    def _remove_member(self, channel_key: str, nick: str) -> None:
        channel = self.channels.get(channel_key)
        if channel is not None and channel.members.pop(self.fold(nick), None) is not None:
            self.memberships -= 1
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
        self.memberships -= len(channel.members)
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

    def rename_channel(self, old: str, new: str) -> str | None:
        """A channel of ours is called ``new`` from now on (IRCv3 ``RENAME``): its
        members, modes and topic stay.  Returns the name it had, or None when it is not
        ours or ``new`` cannot be a channel name (no CHANTYPES first, or a space, comma,
        BEL or NUL: it would not be one word of a JOIN).

        A channel we still track under ``new`` (a case change aside) is stale: we missed
        our leaving it, since the server renamed another onto that name; it is dropped."""
        key = self.fold(old)
        channel = self.channels.get(key)
        if channel is None or not self.isupport.is_channel(new) or _BAD_CHANNEL.search(new):
            log.debug("ignored a rename of %r to %r: not ours, or not a channel name", old, new)
            return None
        new_key = self.fold(new)
        before = channel.name
        if new_key != key:
            if new_key in self.channels:
                log.debug("%r renamed onto %r, which we still tracked: dropped that", old, new)
                self._drop_channel(new_key)
            del self.channels[key]
            self.channels[new_key] = channel
            for member in channel.members:
                user = self.users.get(member)
                if user is not None:
                    user.channels.discard(key)
                    user.channels.add(new_key)
        channel.name = new
        return before

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
            prefixes = members.pop(old_key, None)
            if prefixes is None:  # (cannot be, while the two sides agree)
                prefixes = set()
                self.memberships += 1
            members[new_key] = prefixes

    def _forget(self, user: User) -> None:
        """Remove another user from every channel and from ``users`` (a QUIT)."""
        key = self.fold(user.nick)
        for channel_key in user.channels:
            channel = self.channels.get(channel_key)
            if channel is not None and channel.members.pop(key, None) is not None:
                self.memberships -= 1
        user.channels.clear()
        self.users.pop(key, None)

    def refold(self) -> None:
        """Re-key every dictionary after CASEMAPPING changed (it arrives in 005,
        after 001 has already created our own entry).

        Two names under the old mapping may be one under the new (``x[`` and
        ``X{`` under rfc1459): then the later entry wins (our own always), and
        every user's channels are rebuilt from the channels' member lists, so that
        the two sides agree again instead of naming what was merged away."""
        self.refolded += len(self.users) + self.memberships
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
        self.memberships = sum(len(channel.members) for channel in self.channels.values())
