"""What the test IRC server (:mod:`logbot.testing.ircd`) can make happen beyond a lone
server's commands: channel renames, netsplits and netjoins, standard replies.

* ``RENAME #old #new [:reason]`` (IRCv3 ``draft/channel-rename``, which the server
  offers), by a channel operator: the channel keeps its members, modes and topic.  A
  member with the capability gets ``:nick!user@host RENAME #old #new :reason`` (the
  reason always there, maybe empty); one without gets the spec's fallback, ``PART
  #old :reason`` then ``JOIN #new`` with the topic and NAMES of a join (none for a
  rename that changes only the case).  Refusals: ``461``, ``403``, ``442``, ``482``, and
  ``FAIL RENAME CHANNEL_NAME_IN_USE`` / ``CANNOT_RENAME`` (a name that is not a
  channel's).  Afterwards a ``JOIN #old`` is redirected, as the spec allows: ``FAIL
  JOIN CHANNEL_RENAMED #old #new`` to a client with the capability, ``470`` and a join
  of ``#new`` to one without; the last :data:`MAX_REDIRECTS` renames are remembered.
  (The channel's kept history, if any, stays under the old name.)
* :func:`netsplit` and :func:`netjoin`: local users behind a server that loses its link
  and gets it back (the test server has no links, so a test says when).  Everyone who
  shares a channel with them gets the QUITs in one ``netsplit`` batch, or the JOINs (and
  the ``MODE`` giving back ops and voices) in one ``netjoin`` batch, as
  ircv3.net/specs/batches/netsplit shows; a client without ``batch`` gets the same lines
  with no batch.  ``end=False`` leaves the batch open, for a test of one that never ends.
* :func:`standard_reply`: a ``FAIL``, ``WARN`` or ``NOTE`` to one user.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import count
from weakref import WeakKeyDictionary

from logbot.irc.message import Message
from logbot.irc.registry import HandlerTable
from logbot.testing import ircd_channels
from logbot.testing.ircd_commands import Handler, find_channel, fold, need_params, valid_channel
from logbot.testing.ircd_users import Channel, LocalUser, Server, User, names_prefix

__all__ = ["CAP", "HANDLERS", "MAX_REDIRECTS", "Split", "netjoin", "netsplit", "standard_reply"]

CAP = "draft/channel-rename"
#: Renames remembered for the redirection of a JOIN of the old name, newest kept.
MAX_REDIRECTS = 100
HANDLERS: HandlerTable[Handler] = HandlerTable()

_refs = count(1)  # batch references of this module's batches ("s1", "s2", ...)
# per server: old folded name -> new name, oldest first (weak: a server's go with it)
_redirects: WeakKeyDictionary[Server, OrderedDict[str, str]] = WeakKeyDictionary()


def _redirects_of(server: Server) -> OrderedDict[str, str]:
    redirects = _redirects.get(server)
    if redirects is None:
        redirects = _redirects[server] = OrderedDict()
    return redirects


# -- RENAME -----------------------------------------------------------------------------


@HANDLERS.on("RENAME")
def rename(server: Server, user: User, msg: Message) -> None:
    if not need_params(server, user, msg, 2):
        return
    old, new = msg.params[0], msg.params[1]
    reason = msg.params[2] if len(msg.params) > 2 else ""
    channel = find_channel(server, user, old)
    if channel is None:
        return
    if user not in channel.users:
        server.reply(user, "442", channel.name, "You're not on that channel")
        return
    if not channel.is_op(user):
        server.reply(user, "482", channel.name, "You're not channel operator")
        return
    if not valid_channel(new):
        server.send(user, "FAIL", "RENAME", "CANNOT_RENAME", channel.name, new,
                    "That is not a channel name")  # fmt: skip
        return
    if fold(new) != fold(old) and fold(new) in server.channels:
        server.send(user, "FAIL", "RENAME", "CHANNEL_NAME_IN_USE", channel.name, new,
                    "The channel name is already taken")  # fmt: skip
        return
    rename_channel(server, channel, new, reason, user)


def rename_channel(server: Server, channel: Channel, new: str, reason: str, by: User) -> None:
    """Rename ``channel`` to ``new`` (checked by the caller) and tell its members."""
    old = channel.name
    case_only = fold(old) == fold(new)
    del server.channels[fold(old)]
    channel.name = new
    server.channels[fold(new)] = channel
    for member in channel.users:
        member.channels.pop(fold(old), None)
        member.channels[fold(new)] = channel
    if not case_only:
        redirects = _redirects_of(server)
        redirects.pop(fold(old), None)
        redirects[fold(old)] = new
        while len(redirects) > MAX_REDIRECTS:
            redirects.popitem(last=False)
    for member in channel.users:
        if CAP in member.caps:
            server.send(member, "RENAME", old, new, reason, sender=by)
        elif not case_only:  # the fallback
            server.send(member, "PART", old, *([reason] if reason else []), sender=member)
            server.send(member, "JOIN", new, sender=member)
            if channel.topic is not None:
                ircd_channels._send_topic(server, member, channel)
            ircd_channels._names(server, member, channel)


@HANDLERS.on("JOIN")
def join(server: Server, user: User, msg: Message) -> None:
    """JOIN as :mod:`logbot.testing.ircd_channels` has it, but a renamed channel's old
    name is redirected to its new one (see the module docstring)."""
    redirects = _redirects_of(server)
    if not msg.params or not redirects or msg.params[0] == "0":
        ircd_channels.join(server, user, msg)
        return
    keys = msg.params[1].split(",") if len(msg.params) > 1 else []
    for i, name in enumerate(msg.params[0].split(",")):
        key = keys[i] if i < len(keys) else None
        new = redirects.get(fold(name))
        if new is not None and fold(name) not in server.channels:
            if CAP in user.caps:
                server.send(user, "FAIL", "JOIN", "CHANNEL_RENAMED", name, new,
                            "The channel has been renamed")  # fmt: skip
                continue
            server.reply(user, "470", name, new, "The channel has been renamed")
            name = new
        ircd_channels.join(server, user, Message("JOIN", (name, *([key] if key else []))))


# -- netsplits --------------------------------------------------------------------------


@dataclass
class Split:
    """Who a :func:`netsplit` took away, to bring back with :func:`netjoin`: each user
    with the channels they were in (name, prefixes), in order; ``ref`` the batch's
    reference (None: no one saw a batch)."""

    servers: tuple[str, str]
    users: list[tuple[LocalUser, list[tuple[str, set[str]]]]] = field(default_factory=list)
    ref: str | None = None


def _batch(
    server: Server,
    kind: str,
    servers: tuple[str, str],
    lines: dict[User, list[tuple[str, tuple[str, ...], User | None]]],
    end: bool,
) -> str:
    """Send each recipient its lines, ``(command, params, sender)``, in one ``kind``
    batch when it has ``batch`` (ended unless ``end`` is false); the reference."""
    ref = f"s{next(_refs)}"
    for to, items in lines.items():
        meta = {"batch": ref} if "batch" in to.caps else {}
        if meta:
            server.send(to, "BATCH", "+" + ref, kind, *servers)
        for command, params, sender in items:
            server.send(to, command, *params, sender=sender, meta=meta)
        if meta and end:
            server.send(to, "BATCH", "-" + ref)
    return ref


def netsplit(
    server: Server,
    users: Iterable[LocalUser],
    servers: tuple[str, str] = ("irc.hub.test", "irc.leaf.test"),
    *,
    end: bool = True,
) -> Split:
    """``users`` quit in a netsplit between ``servers``: everyone sharing a channel
    with one of them sees the QUITs (reason: the two servers) in a ``netsplit`` batch.
    Returns what :func:`netjoin` needs to bring them back."""
    split = Split(servers)
    reason = " ".join(servers)
    leaving = list(users)
    lines: dict[User, list[tuple[str, tuple[str, ...], User | None]]] = {}
    for user in leaving:
        for peer in server.peers(user):
            if peer not in leaving:  # (those split off with them see nothing of it)
                lines.setdefault(peer, []).append(("QUIT", (reason,), user))
        split.users.append((user, [(c.name, set(c.users[user])) for c in user.channels.values()]))
    split.ref = _batch(server, "netsplit", servers, lines, end)
    for user, _ in split.users:  # gone: out of every channel, nick free
        for channel in list(user.channels.values()):
            server.leave(user, channel)
        server.users.pop(fold(user.nickname or ""), None)
        user.registered, user.gone = False, True
    return split


def netjoin(server: Server, split: Split, *, end: bool = True) -> str:
    """Bring back the users of ``split``: each rejoins the channels it was in (those
    still there), everyone in them sees the JOINs, then the server's MODE giving back
    ops and voices, in one ``netjoin`` batch; the batch's reference."""
    lines: dict[User, list[tuple[str, tuple[str, ...], User | None]]] = {}
    modes: list[tuple[Channel, str, str]] = []
    for user, channels in split.users:
        user.registered, user.gone = True, False
        server.users[fold(user.nickname or "")] = user
        for name, prefixes in channels:
            channel = server.channels.get(fold(name))
            if channel is None:
                continue
            channel.users[user] = set(prefixes)
            user.channels[fold(name)] = channel
            for member in channel.users:
                params: tuple[str, ...] = (channel.name,)
                if "extended-join" in member.caps:
                    params += (user.account or "*", user.realname or "")
                lines.setdefault(member, []).append(("JOIN", params, user))
            for prefix in names_prefix(prefixes, True):
                modes.append((channel, "+" + {"@": "o", "+": "v"}[prefix], user.nickname or ""))
    for channel, mode, nick in modes:
        for member in channel.users:
            lines.setdefault(member, []).append(("MODE", (channel.name, mode, nick), None))
    return _batch(server, "netjoin", split.servers, lines, end)


# -- standard replies -------------------------------------------------------------------


def standard_reply(
    server: Server, user: User, kind: str, command: str, code: str, *rest: str
) -> None:
    """``kind command code [context...] :description`` (``rest``: the context, then
    the description) from the server to ``user``."""
    if kind not in ("FAIL", "WARN", "NOTE") or not rest:
        raise ValueError("a standard reply is FAIL, WARN or NOTE, with a description")
    server.send(user, kind, command, code, *rest)
