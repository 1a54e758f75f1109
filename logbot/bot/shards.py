"""More channels than one connection may join: further connections, logged as one network.

A server lets one connection into so many channels (``CHANLIMIT=#:250`` in ISUPPORT,
or, where it says nothing, a JOIN refused with ``405 ERR_TOOMANYCHANNELS``).  A
network whose channel list is longer gets further connections ("shards"), each a
:class:`~logbot.bot.network.NetworkBot` of its own (its reconnects, markers, gaps,
history, plugins), all with the network's name and the service's one writer: the logs
show one network.  This module is the coordinator the connections share: it owns
which connection holds which channel, so that

- **each channel is held by exactly one connection** (``assigned``: folded name ->
  connection index; 0 is the first connection, which is also the default of a
  channel not assigned, so a network within its limit behaves as before); a
  connection joins only its own channels (:meth:`Shards.mine`), and since the server
  sends a channel's lines, and a QUIT, only to connections in it, every line is
  logged once, by the connection holding its channel;
- **the limit** is read from the connection's ISUPPORT, per group of prefixes
  (``#&:100`` counts ``#`` and ``&`` channels together); a 405 teaches the real one
  (the channels that connection had joined) and moves the refused channel on;
- **connections open one at a time**: the first plans once it registers; each
  further one starts when the one before it registered (a server limits
  connections per address, and its own backoff governs each one's reconnects);
- **bounded**: at most ``max_connections`` (a server that refuses every JOIN with
  405 cannot make us open more); a channel with no room is said once (one warning
  line for those found together) and retried every ``rejoin_after_kick`` seconds
  (:data:`RETRY_DEFAULT` when that is null or 0) on the least loaded connection.

Channels are not moved back when room appears elsewhere (a reconnect keeps every
connection's channels): moving a channel costs a part and a join, and a gap.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from logbot.config.settings import ChannelConfig, NetworkConfig

__all__ = ["RETRY_DEFAULT", "Shards", "group_of", "shard_config"]

log = logging.getLogger("logbot.bot.network")  # beside the network's other lines

#: Seconds between attempts to place channels no connection had room for, when
#: ``rejoin_after_kick`` is null or 0.
RETRY_DEFAULT = 60.0


def group_of(name: str, limits: dict[str, int | None]) -> str:
    """The CHANLIMIT group ``name`` counts in ("" when none: no limit)."""
    first = name[:1]
    for prefixes in limits:
        if first and first in prefixes:
            return prefixes
    return ""


def shard_config(config: NetworkConfig, number: int, nicklen: int | None) -> NetworkConfig:
    """The config of connection ``number`` (2, 3, ...): the network's ``alt_nicks`` in
    turn, then the nick with the number appended, cut to fit ``nicklen``.  It logs in
    as the network does (same ident, SASL account)."""
    spare = number - 2
    if spare < len(config.alt_nicks):
        nick = config.alt_nicks[spare]
    else:
        suffix = str(number)
        base = config.nick if nicklen is None else config.nick[: max(1, nicklen - len(suffix))]
        nick = base + suffix
    sasl = config.sasl
    if sasl is not None and sasl.username is None:
        sasl = replace(sasl, username=config.nick)
    return replace(config, nick=nick, alt_nicks=(), user=config.user or config.nick, sasl=sasl)


class Shards:
    """The connections of one network and who holds which channel (module docstring).

    ``primary`` is the network's first :class:`~logbot.bot.network.NetworkBot`; the
    others are made with ``type(primary)`` (no import cycle) and share this object."""

    def __init__(self, primary: Any) -> None:
        self.primary = primary
        self.bots: list[Any] = [primary]  # index i: connection i + 1
        self.size = 1  # connections planned (bots are made up to it, one at a time)
        self.assigned: dict[str, int | None] = {}  # folded -> index; None: no room
        self.groups: dict[str, str] = {}  # folded -> its CHANLIMIT group
        self.channels: dict[str, ChannelConfig] = {}  # folded -> channel, as wanted
        self.counts: dict[tuple[int, str], int] = {}  # (index, group) -> assigned
        self.learned: dict[tuple[int, str], int] = {}  # (index, group) -> its 405 limit
        self.retrying: set[str] = set()  # placed by a retry: refused again, no move
        self.warned: set[str] = set()  # said to have no room (once)
        self._to_warn: list[str] = []
        self._retry_call: Any = None
        self._warn_call: Any = None
        self.opening: Any = None  # the connection started and not registered yet
        self.planned = False
        self.stopped = False

    # -- asked by the connections ------------------------------------------------------

    def mine(self, bot: Any, channels: list[ChannelConfig]) -> list[ChannelConfig]:
        """Those of ``channels`` that ``bot`` holds (all of them on a lone connection)."""
        index = bot.shard_index
        if not self.assigned and index == 0:
            return channels
        fold = bot._fold()
        return [c for c in channels if self.assigned.get(fold(c.name), 0) == index]

    def holder(self, folded: str) -> Any:
        """The connection that holds (or will hold) a channel, or None."""
        index = self.assigned.get(folded, 0)
        return self.bots[index] if index is not None and index < len(self.bots) else None

    def connections(self) -> list[Any]:
        return list(self.bots)

    def registered(self, bot: Any) -> None:
        """``bot`` registered: the first plans (before it joins), any opens the next."""
        if bot is self.opening:
            self.opening = None
        if bot.shard_index == 0:
            self.plan()
        self._open_next()

    def joined(self, folded: str) -> None:
        """A channel joined: no longer waiting for room."""
        self.retrying.discard(folded)
        self.warned.discard(folded)

    def claim(self, bot: Any, folded: str, channel: ChannelConfig) -> None:
        """A channel joined by a command on ``bot``: that connection holds it."""
        self.channels[folded] = channel
        if self.assigned or bot.shard_index != 0:
            self._assign(folded, bot.shard_index, channel.name)

    def moved(self, old: str, new: str) -> None:
        """A channel renamed: its holder keeps it under the new name."""
        if old in self.assigned:
            index = self.assigned[old]
            self._unassign(old)
            self.assigned[new], self.groups[new] = index, self.groups.get(old, "")
            self._count(index, self.groups[new], 1)
        if old in self.channels:
            self.channels[new] = self.channels.pop(old)

    # -- planning -------------------------------------------------------------------

    def plan(self) -> None:
        """Give every wanted channel not held yet a connection with room (opening more,
        up to ``max_connections``), and forget those no longer wanted."""
        primary = self.primary
        if primary._registered_client() is None:
            return
        self.planned = True
        fold = primary._fold()
        wanted = {fold(c.name): c for c in primary.joins.network_wanted()}
        for key in [k for k in self.assigned if k not in wanted]:
            self._unassign(key)
            self.channels.pop(key, None)
            self.retrying.discard(key)
            self.warned.discard(key)
        self.channels.update(wanted)
        if not self.assigned and self.size == 1 and self._fits(wanted.values()):
            return  # one connection holds them all: nothing to assign (the default)
        for key, channel in wanted.items():
            if self.assigned.get(key, -1) in (-1, None):
                if key in self.assigned:
                    self._unassign(key)
                self._assign(key, self._place(channel.name), channel.name)
        self._open_next()
        self._report()

    def _fits(self, channels: Any) -> bool:
        limits = self._limits(0)
        counts: dict[str, int] = {}
        for channel in channels:
            group = group_of(channel.name, limits)
            counts[group] = counts.get(group, 0) + 1
        for group, count in counts.items():
            limit = limits.get(group) if group else None
            if limit is not None and count > limit:
                return False
        return True

    def refused(self, bot: Any, channel: str) -> None:
        """``bot``'s JOIN of ``channel`` was refused with 405: the server's limit for
        that connection is what it had joined; the channel goes to another one."""
        key = bot._fold()(channel)
        index = bot.shard_index
        if self.assigned.get(key, 0) != index or self.stopped:
            return  # (not ours any more)
        if not self.assigned:  # a lone connection meets a limit it did not advertise
            fold = bot._fold()
            for c in self.primary.joins.network_wanted():
                self.channels.setdefault(fold(c.name), c)
                self._assign(fold(c.name), 0, c.name)
        self.planned = True
        group = self.groups.get(key) or group_of(channel, self._limits(index))
        held = sum(1 for k in bot.joined if group_of(k, {group: 0}) == group)
        self.learned[(index, group)] = held
        self._unassign(key)
        if key in self.retrying:  # a retry refused again: wait for the next one
            self.retrying.discard(key)
            self._assign(key, None, channel)
            self._report()
            return
        target = self._place(channel, exclude=index)
        self._assign(key, target, channel)
        log.debug(
            "%s: %s refused by connection %d: moved to %s",
            bot.label,
            channel,
            index + 1,
            "none" if target is None else f"connection {target + 1}",
        )
        self._join_now(target, key)
        self._open_next()
        self._report()

    def _limits(self, index: int) -> dict[str, int | None]:
        """The CHANLIMIT of connection ``index`` (the first's until it registered)."""
        for bot in (self.bots[index] if index < len(self.bots) else None, self.primary):
            client = None if bot is None else bot._registered_client()
            if client is not None:
                limits: dict[str, int | None] = client.core.state.isupport.chanlimit
                return limits
        return {}

    def _room(self, index: int, group: str) -> bool:
        limit = self.learned.get((index, group))
        if limit is None:
            limit = self._limits(index).get(group) if group else None
        return limit is None or self.counts.get((index, group), 0) < limit

    def _place(self, name: str, exclude: int | None = None) -> int | None:
        """The first connection with room for ``name``; a new one if none has and
        ``max_connections`` allows; else None."""
        group = group_of(name, self._limits(0))
        for index in range(self.size):
            if index != exclude and self._room(index, group):
                return index
        if self.size < self.primary.config.max_connections:
            self.size += 1
            return self.size - 1
        return None

    def _assign(self, key: str, index: int | None, name: str) -> None:
        group = group_of(name, self._limits(0))
        self.assigned[key], self.groups[key] = index, group
        self._count(index, group, 1)
        if index is None and key not in self.warned:
            self.warned.add(key)
            self._to_warn.append(name)

    def _unassign(self, key: str) -> None:
        index = self.assigned.pop(key, None)
        self._count(index, self.groups.pop(key, ""), -1)

    def _count(self, index: int | None, group: str, step: int) -> None:
        if index is not None:
            self.counts[(index, group)] = self.counts.get((index, group), 0) + step

    def _join_now(self, index: int | None, key: str) -> None:
        """JOIN through connection ``index`` if it is registered (else it joins the
        channel when it registers)."""
        if index is None or index >= len(self.bots) or key not in self.channels:
            return
        bot = self.bots[index]
        if bot._registered_client() is not None:
            bot.joins.join([self.channels[key]])

    # -- more connections -------------------------------------------------------------

    def _open_next(self) -> None:
        """Start the next planned connection, once the one before registered."""
        if self.stopped or self.opening is not None or len(self.bots) >= self.size:
            return
        primary = self.primary
        if primary._registered_client() is None:
            return
        number = len(self.bots) + 1
        client = primary._registered_client()
        nicklen = client.core.state.isupport.nicklen if client is not None else None
        config = shard_config(primary.config, number, nicklen)
        bot = type(primary)(
            config,
            primary.reactor,
            primary.writer,
            wall=primary.wall,
            rng=primary.rng,
            sts=primary.sts.store,
            shard_of=primary,
            shard_index=number - 1,
        )
        plugins = primary.plugins
        if plugins is not None:
            bot.plugins = type(plugins)(plugins.manager, bot)
        self.bots.append(bot)
        self.opening = bot
        log.info(
            "%s: opening connection %d (of at most %d) as %s: more channels than one "
            "connection may join",
            primary.config.name,
            number,
            primary.config.max_connections,
            config.nick,
        )
        bot.start()

    def configure(self, config: NetworkConfig) -> None:
        """A reload: the further connections take the new config (their own nicks),
        and the channels it adds get a connection (placed first, so that each
        connection joins those it now holds)."""
        if self.planned:
            self.plan()
        client = self.primary._registered_client()
        nicklen = client.core.state.isupport.nicklen if client is not None else None
        for number, bot in enumerate(self.bots[1:], start=2):
            bot.configure(shard_config(config, number, nicklen))

    # -- channels with no room ------------------------------------------------------------

    def _report(self) -> None:
        """One warning for the channels found without room together; a retry timer."""
        if self._to_warn and self._warn_call is None:
            self._warn_call = self.primary.clock.callLater(0, self._warn)
        if None in self.assigned.values() and self._retry_call is None and not self.stopped:
            self._retry_call = self.primary.clock.callLater(self._interval(), self._retry)

    def _interval(self) -> float:
        return self.primary.config.rejoin_after_kick or RETRY_DEFAULT

    def _warn(self) -> None:
        self._warn_call = None
        names, self._to_warn = self._to_warn, []
        if not names:
            return
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        log.warning(
            "%s: not joined: %s: every connection is at the server's channel limit and "
            "max_connections (%d) are open; retrying every %g s",
            self.primary.config.name,
            shown,
            self.primary.config.max_connections,
            self._interval(),
        )

    def _retry(self) -> None:
        """Channels with no room: one JOIN each, on the least loaded registered
        connection (refused again, they wait for the next retry)."""
        self._retry_call = None
        live = [b.shard_index for b in self.bots if b._registered_client() is not None]
        joins: dict[int, list[ChannelConfig]] = {}
        for key in [k for k, i in self.assigned.items() if i is None]:
            if not live or key not in self.channels:
                continue
            group = self.groups.get(key, "")
            target = min(live, key=lambda i: self.counts.get((i, group), 0))
            self._unassign(key)
            self.retrying.add(key)
            self._assign(key, target, self.channels[key].name)
            joins.setdefault(target, []).append(self.channels[key])
        for target, channels in joins.items():  # a JOIN line for many channels
            self.bots[target].joins.join(channels)
        self._report()

    def stop(self, message: str | None) -> list[Any]:
        """Stop the further connections (and the timers); their ``stop`` Deferreds."""
        self.stopped = True
        for call in (self._retry_call, self._warn_call):
            if call is not None and call.active():
                call.cancel()
        self._retry_call = self._warn_call = None
        done = []
        for bot in self.bots[1:]:
            if bot.plugins is not None:
                bot.plugins.close()
            done.append(bot.stop(message))
        return done
