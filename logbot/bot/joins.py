"""The channels of one network: which to join, which are joined, and the gaps between.

Apart from :mod:`logbot.bot.network` because this is one piece of bookkeeping with
rules of its own that outlives every connection, while ``NetworkBot`` is the
connection, its reconnects and the dispatch of its events:

- **which**: the configured channels less those a ``!part`` left, and those a
  ``!join`` joined (:meth:`Joins.wanted`), joined after each registration (with their
  keys); a config reload joins the channels it adds and leaves those it removes;
- **joined**: the channels the bot is in (by folded name), and those whose
  ``joined #chan (N users)`` on stderr waits for the end of their NAMES (366);
- **gaps**: when a connection ends, a ``disconnect`` line in every joined channel and
  a gap from the last data the server sent; on rejoining, the gap line (or, on a
  channel's first join, a ``connect`` line and a gap from the log's last line), which
  :mod:`logbot.bot.replay` writes once the channel's history is in;
- **kicks**: a rejoin once ``rejoin_after_kick`` seconds passed;
- **which connection**: on a network with several connections
  (:mod:`logbot.bot.shards`) each joins only the channels it holds, a ``405`` (too
  many channels) hands the channel to the coordinator, and the ``!join``/``!part``
  lists are the network's (shared with the first connection's ``Joins``).

``NetworkBot`` keeps its names for this state (``joined``, ``parted``,
``extra_channels``, ``_joining``, ``_gaps``, ``_rejoins``), which :mod:`~logbot.bot.renames`
and the plugins use: they are the same objects, only ever changed in place.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from logbot.bot.ircbot import LogBotClient
from logbot.config.settings import ChannelConfig, NetworkConfig, Secret
from logbot.irc import events as ev
from logbot.irc.message import Message

__all__ = ["Joins"]

log = logging.getLogger("logbot.bot.network")  # as before the move: stderr shows it


class Joins:
    """The channels of one network (see the module docstring).

    ``bot`` is the :class:`~logbot.bot.network.NetworkBot`: its ``config``, ``clock``,
    ``reactor``, ``wall``, ``current``, ``maker``, ``own_log``, ``replays``,
    ``_options_mapping``, ``_rebuild_options``, ``_fold``, ``_registered_client`` and
    ``_write`` are used."""

    def __init__(self, bot: Any, network: Joins | None = None) -> None:
        self.bot = bot
        self.joined: dict[str, str] = {}  # folded -> channel name, while joined
        self.joining: set[str] = set()  # folded: joined, "joined" not said yet (at 366)
        self.gaps: dict[str, tuple[float, str]] = {}  # folded -> (gap start, why)
        self.rejoins: dict[str, Any] = {}  # folded -> the delayed rejoin after a kick
        # folded -> joined by a command; folded configured channels left by a command:
        # the network's (``network``: the first connection's), whichever asked
        self.extra: dict[str, ChannelConfig] = network.extra if network else {}
        self.parted: set[str] = network.parted if network else set()

    # -- which channels ---------------------------------------------------------------

    def wanted(self) -> list[ChannelConfig]:
        """The channels of :meth:`network_wanted` this connection holds: what every
        registration joins."""
        return self.bot.shards.mine(self.bot, self.network_wanted())

    def network_wanted(self) -> list[ChannelConfig]:
        """The configured channels (less those parted by a command) and those joined by
        one, whichever connection holds them."""
        bot = self.bot
        fold = bot._fold()
        channels = [c for c in bot.config.channels if fold(c.name) not in self.parted]
        configured = {fold(c.name) for c in bot.config.channels}
        return channels + [c for k, c in self.extra.items() if k not in configured]

    def join(self, channels: Any) -> None:
        client = self.bot._registered_client()
        if client is None or not channels:
            return
        client.join_many([(c.name, c.key.reveal() if c.key else None) for c in channels])

    def reconfigured(self, old: NetworkConfig, client: LogBotClient) -> None:
        """A new config while registered: leave the channels it removed, join those it
        added."""
        fold = client.core.state.fold  # type: ignore[union-attr]
        before = {fold(c.name) for c in old.channels}
        after = {fold(c.name): c for c in self.bot.config.channels}
        for key in before - after.keys():
            if key in self.joined:
                client.leave(self.joined[key], "channel removed from the config")
        self.join(self.bot.shards.mine(self.bot, [c for k, c in after.items() if k not in before]))

    def join_channel(self, name: str, key: str | None = None) -> str:
        """Join ``name`` now and after each reconnect (a plugin's ``!join``)."""
        client = self.bot._registered_client()
        if client is None:
            return "not connected"
        state = client.core.state
        if not name or name[0] not in state.isupport.chantypes or " " in name or "," in name:
            return f"{name!r} is not a channel name"
        folded = state.fold(name)
        self.parted.discard(folded)
        holder = self.bot.shards.holder(folded)
        for joins in (self, holder.joins if holder is not None else self):
            if folded in joins.joined:  # (here, or by the connection holding it)
                return f"already in {joins.joined[folded]}"
        self.extra[folded] = ChannelConfig(name, Secret(key) if key else None, self.bot.config.log)
        self.bot.shards.claim(self.bot, folded, self.extra[folded])
        client.join(name, key)
        return f"joining {name}"

    def part_channel(self, name: str, reason: str | None = None) -> str:
        """Leave ``name`` and do not rejoin it (a plugin's ``!part``)."""
        client = self.bot._registered_client()
        if client is None:
            return "not connected"
        folded = client.core.state.fold(name)
        self.extra.pop(folded, None)
        self.parted.add(folded)
        call = self.rejoins.pop(folded, None)
        if call is not None and call.active():
            call.cancel()
        holder = self.bot.shards.holder(folded)
        if holder is not None and holder is not self.bot:  # held by another connection
            return holder.joins.leave(folded, name, reason)
        return self.leave(folded, name, reason)

    def leave(self, folded: str, name: str, reason: str | None) -> str:
        client = self.bot._registered_client()
        if client is None or folded not in self.joined:
            return f"not in {name}"
        client.leave(self.joined[folded], reason)
        return f"leaving {self.joined[folded]}"

    # -- joined, and the gaps ---------------------------------------------------------

    def self_joined(self, event: ev.Joined, client: LogBotClient) -> None:
        bot = self.bot
        state = client.core.state  # type: ignore[union-attr]
        if state.isupport.casemapping != bot._options_mapping:
            bot._rebuild_options()
        key = state.fold(event.channel)
        self.joined[key] = event.channel
        self.joining.add(key)
        bot.shards.joined(key)
        gap = self.gaps.pop(key, None)
        where = f"{bot.current.host}:{bot.current.port} as {client.nickname}"
        connect = None
        since: datetime | None
        if gap is None:
            connect = bot.maker.marker(
                "connect", event.channel, f"connected to {where}", nick=client.nickname
            )
            # A first join in this process: the log's last line is where the gap starts.
            since = bot.own_log.last_time(key, datetime.fromtimestamp(bot.wall(), UTC))
            what = "the log resumes"
        else:
            since = datetime.fromtimestamp(gap[0], UTC)
            what = f"reconnected to {where}" if gap[1] == "reconnected" else gap[1]
        bot.replays.joined(client, event.channel, key, since, what, connect)

    def say_joined(self, channel: str, state: Any) -> None:
        """``libera: joined #chan (12 users)`` at info, at the end of the channel's
        NAMES (366), when its users are known: the sign on stderr that logging began."""
        key = state.fold(channel)
        if key not in self.joining:
            return
        self.joining.discard(key)
        known = state.channel(channel)
        users = len(known.members) if known is not None else 0
        name = self.joined.get(key, channel)
        plural = "" if users == 1 else "s"
        log.info("%s: joined %s (%d user%s)", self.bot.label, name, users, plural)

    def refused(self, msg: Message) -> None:
        """A numeric that says a JOIN failed (``JOIN_REFUSALS``): said on stderr; too
        many channels (405) goes to the coordinator, which finds another connection
        (and says so if none has room)."""
        if msg.command == "405":
            self.bot.shards.refused(self.bot, msg.params[1])
            return
        why = msg.params[-1] if len(msg.params) >= 3 else msg.command
        log.warning("%s: cannot join %s: %s (%s)", self.bot.label, msg.params[1], why, msg.command)

    def kicked(self, event: ev.Kicked, state: Any) -> None:
        bot = self.bot
        key = state.fold(event.channel)
        self.joined.pop(key, None)
        self.gaps[key] = (bot.wall(), "rejoined after a kick")
        delay = bot.config.rejoin_after_kick
        log.warning(
            "%s: kicked from %s by %s (%s)%s",
            bot.config.name,
            event.channel,
            event.source.partition("!")[0],
            event.reason or "",
            "" if delay is None else f"; rejoining in {delay:g} s",
        )
        if delay is None:
            return
        old = self.rejoins.pop(key, None)
        if old is not None and old.active():
            old.cancel()
        self.rejoins[key] = bot.clock.callLater(delay, self._rejoin, key)

    def _rejoin(self, key: str) -> None:
        self.rejoins.pop(key, None)
        if key in self.joined:
            return
        fold = self.bot._fold()
        self.join([c for c in self.wanted() if fold(c.name) == key])

    def connection_lost(self, client: LogBotClient, why: str, now: float) -> None:
        """A ``disconnect`` line in every joined channel and a gap from the last data
        heard; nothing joined any more, no rejoin pending."""
        bot = self.bot
        heard = self._last_heard(client, now)
        for key, name in self.joined.items():
            bot._write(name, key, bot.maker.marker("disconnect", name, f"disconnected ({why})"))
            self.gaps[key] = (heard, "reconnected")
        self.joined.clear()
        self.joining.clear()
        self.cancel_rejoins()
        self.rejoins.clear()

    def cancel_rejoins(self) -> None:
        for call in self.rejoins.values():
            if call.active():
                call.cancel()

    def _last_heard(self, client: LogBotClient, now: float) -> float:
        """The wall time at which the server last sent anything: where a gap starts.

        A dead link is dropped ``ping_timeout`` seconds after the last data; what was
        said in between never reached us, so the gap must not start at the drop.  The
        keepalive keeps that moment on the reactor's monotonic clock; its age, taken
        from the wall time ``now``, gives the wall time (a wall clock stepped since
        then moves it with ``now``, as it moves every other line we write)."""
        core = client.core
        last = core.keepalive.last_received if core is not None else None
        if last is None:
            return now
        return now - max(0.0, self.bot.reactor.seconds() - last)
