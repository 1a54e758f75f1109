"""A channel renamed (IRCv3 ``draft/channel-rename``): its log, options and rejoin
follow the new name.

Ergo can rename a channel (``RENAME #old #new :reason``): the same channel, its members,
modes and topic, under another name; the core has moved what it knows
(:meth:`~logbot.irc.members.Members.rename_channel`).  Here the bot follows, for the
rest of this process:

* **the log**: from the rename on, the channel's lines go to the new name's log (its
  folder is the new name, escaped like any channel's, so no name can leave the log
  root); the old log ends with a ``renamed_to`` line and the new one starts with a
  ``renamed_from`` line (:mod:`logbot.logs.events_to_records` makes both);
* **the options**: a channel with its own ``logging`` in the config keeps them under
  the new name (read from the config at each rebuild, so a reload that changes the old
  entry changes them too);
* **the joins**: after a reconnect the bot joins the new name (with the old one's key),
  not the old one: the old name is left out as a ``!part`` would, the new one joined
  as a ``!join`` would (``NetworkBot.parted`` and ``extra_channels``).

A channel renamed while the bot was away is learnt on rejoining the old name, when the
server answers ``FAIL JOIN CHANNEL_RENAMED #old #new`` (the spec's redirection): the
same bookkeeping, a ``renamed_to`` line in the old log (naming no one: who renamed it
is not said), and a JOIN of the new name.

Bounded: what is kept is one origin per configured channel (a channel renamed again
keeps its first name as origin), and a name's options and entries go with the name
(but a configured name's), never one entry per rename a server sends.
"""

from __future__ import annotations

import logging
from typing import Any

from logbot.bot.standard_replies import printable
from logbot.config.settings import ChannelConfig, LogOptions
from logbot.irc import events as ev

__all__ = ["Renames"]

log = logging.getLogger(__name__)


class Renames:
    """The channel renames of one network (see the module docstring).

    ``bot`` is the :class:`~logbot.bot.network.NetworkBot`: its ``config``, ``joined``,
    ``parted``, ``extra_channels``, ``replays``, ``_options``, ``_gaps``,
    ``_joining``, ``_rejoins``, ``maker``, ``_write`` and ``_join`` are used."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        #: The configured channel each renamed one came from: its current name (folded)
        #: -> its name in the config.  At most one entry per configured channel.
        self.origins: dict[str, str] = {}

    def options(self, fold: Any) -> dict[str, LogOptions]:
        """The log options that follow renamed channels, by folded new name, from the
        config as it is now (for ``NetworkBot._rebuild_options``)."""
        own = {fold(c.name): c.log for c in self.bot.config.channels}
        out = {}
        for name, origin in self.origins.items():
            options = own.get(fold(origin))
            if options is not None:
                out[fold(name)] = options
        return out

    def renamed(self, event: ev.ChannelRenamed, state: Any) -> None:
        """``event.old`` is ``event.new`` from now on: the old name's last line, the
        move of the bookkeeping and options, the new name's first line."""
        bot = self.bot
        who = event.source.partition("!")[0] or "the server"
        log.info(  # (what the server wrote, escaped: stderr is read in terminals)
            "%s: %s was renamed to %s by %s%s: logging it as %s from now on",
            bot.config.name,
            printable(event.old),
            printable(event.new),
            printable(who),
            f" ({printable(event.reason)})" if event.reason else "",
            printable(event.new),
        )
        fold = state.fold
        bot.replays.finish(fold(event.old))  # lines held for the old name: written first
        (old, last), *first = bot.maker.records(event, state)
        bot._write(old, fold(old), last, state)  # with the old name's options
        self._move(event.old, event.new, fold)
        for name, record in first:  # (none when only the case changed)
            bot._write(name, fold(name), record, state)

    def redirected(self, old: str, new: str, why: str, state: Any) -> None:
        """``FAIL JOIN CHANNEL_RENAMED old new :why``: our channel ``old`` was renamed
        while we were away; join ``new`` instead, from now on."""
        bot = self.bot
        fold = state.fold
        if not state.isupport.is_channel(new) or fold(old) == fold(new):
            return
        if not any(fold(c.name) == fold(old) for c in bot._wanted_channels()):
            return  # not a channel we asked for: nothing of ours to move
        log.warning(
            "%s: %s was renamed to %s while the bot was away (%s): joining %s instead",
            bot.config.name,
            printable(old),
            printable(new),
            printable(why),
            printable(new),
        )
        marker = ev.ChannelRenamed(old=old, new=new, source="", reason=why or None)
        (name, last), *_ = bot.maker.records(marker, state)  # the new log starts at the join
        bot._write(name, fold(name), last, state)
        self._move(old, new, fold)
        bot._join([bot.extra_channels[fold(new)]])

    # -- the bookkeeping -------------------------------------------------------------

    def _move(self, old: str, new: str, fold: Any) -> None:
        bot = self.bot
        old_key, new_key = fold(old), fold(new)
        if old_key == new_key:  # only the case: same log, options and JOIN
            if old_key in bot.joined:
                bot.joined[old_key] = new
            return
        if old_key in bot.joined:
            del bot.joined[old_key]
            bot.joined[new_key] = new
        if old_key in bot._joining:
            bot._joining.discard(old_key)
            bot._joining.add(new_key)
        gap = bot._gaps.pop(old_key, None)
        if gap is not None:
            bot._gaps[new_key] = gap
        bot.shards.moved(old_key, new_key)  # its connection keeps it
        call = bot._rejoins.pop(old_key, None)
        if call is not None and call.active():
            call.cancel()
        configured = self._entry(old_key, new, fold)
        options = bot._options.get(old_key)
        if options is not None:
            bot._options[new_key] = options
            if not configured:  # bounded: a name the config does not hold is not kept
                del bot._options[old_key]

    def _entry(self, old_key: str, new: str, fold: Any) -> bool:
        """The channel's entry for the joins: the new name, the old one's key.  Whether
        the old name is a configured channel's."""
        bot = self.bot
        new_key = fold(new)
        configured = {fold(c.name): c for c in bot.config.channels}
        entry = bot.extra_channels.pop(old_key, None)
        if entry is None:
            entry = configured.get(old_key)
        key = entry.key if entry is not None else None
        origin = self.origins.pop(old_key, None)
        if origin is None and old_key in configured:
            origin = configured[old_key].name
        if origin is not None:
            self.origins[new_key] = origin
        if old_key in configured:
            bot.parted.add(old_key)  # bounded: configured channels only
        bot.parted.discard(new_key)
        bot.extra_channels[new_key] = ChannelConfig(new, key, bot.config.log)
        return old_key in configured
