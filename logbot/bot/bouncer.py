"""A bouncer (ZNC) between the bot and the network: its ``*status`` and a second 001.

Apart from :mod:`logbot.bot.network` because it is a case of its own, learnt
differently from every other gap: behind a bouncer, the link the bot holds never
drops when the bouncer loses the network, so no ``connection_lost`` marks a gap.  What
tells instead is a second welcome (001) on the same connection, once the bouncer has
registered again, and the bouncer's own messages (ZNC's ``*status`` says
"Disconnected from IRC" when it loses the network, "Connected!" when it is back), which
say from when lines may be missing.  The gaps themselves are kept with the joins
(:mod:`logbot.bot.joins`), and written on rejoining as any other.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from logbot.bot.ircbot import LogBotClient
from logbot.irc import events as ev

__all__ = ["Bouncer"]

log = logging.getLogger("logbot.bot.network")  # as before the move: stderr shows it


class Bouncer:
    """What tells that a bouncer lost the network (see the module docstring).

    ``bot`` is the :class:`~logbot.bot.network.NetworkBot`: its ``config``, ``wall``,
    ``own_log`` and ``joins`` are used."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.welcomed: LogBotClient | None = None  # the connection that got its 001
        self.said: float | None = None  # wall time: the first "*status" since that 001

    def registered(self, client: LogBotClient) -> None:
        """A 001: on a connection that had one, the bouncer is back on the network."""
        if client is self.welcomed:
            self._network_back()
        self.welcomed = client
        self.said = None

    def message(self, event: ev.Privmsg) -> None:
        """A private message from ``*status`` (ZNC's voice): said on stderr, and its
        time kept: the first since the last 001 (it says "Disconnected from IRC" when
        the bouncer loses the network, and "Connected!" when it is back)."""
        if self.said is None:
            self.said = self.bot.wall()
        log.info("%s: the bouncer (%s) says: %s", self.bot.config.name, event.source, event.text)

    def _network_back(self) -> None:
        """A second 001 on one connection: a bouncer (ZNC) lost the network and has
        registered again; our link to it never dropped.  What was said in between never
        reached the bouncer or us, so each channel has a gap from its log's last line
        (the last thing that came through) until the bouncer rejoins it.  ZNC says
        "Disconnected from IRC" as ``*status`` when it loses the network, and may relay
        a NICK before the new 001: the last line *before* that message counts."""
        bot = self.bot
        joins = bot.joins
        now = bot.wall()
        said, self.said = self.said, None
        log.warning(
            "%s: a second welcome (001) on this connection: the bouncer reconnected to the"
            " network; events since each channel's last logged line may be missing",
            bot.config.name,
        )
        moment = datetime.fromtimestamp(now, UTC)
        before = None if said is None else datetime.fromtimestamp(said, UTC)
        for key in joins.joined:
            # (flushed: this read's lines are in the files to be read back)
            last = bot.own_log.last_time(key, moment, before=before, flush=True)
            since = now if last is None else min(now, last.timestamp())
            joins.gaps[key] = (since, "the bouncer reconnected to the network")
        joins.joined.clear()
