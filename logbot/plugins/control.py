"""What a handler may ask of the bot: ``context.bot`` and ``context.logs``.

Why narrow facades instead of the network object itself: a plugin should depend
on a few documented calls that stay put while the bot's insides change, and the
log view it gets is bound to the channel the command came from, so ``!grep`` in
one channel can never read another channel's (perhaps secret) log.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from logbot.plugin import CommandSpec
from logbot.plugins.dispatch import parse_command
from logbot.plugins.logview import LoggedLine

__all__ = ["MAX_LOG_LINES", "BotControl", "ChannelLogs"]

MAX_LOG_LINES = 100  # at most this many lines per ``logs.recent`` call


class BotControl:
    """``context.bot``: the bot on this network, as plugins see it."""

    def __init__(self, runner: Any) -> None:
        self._runner = runner

    @property
    def network(self) -> str:
        return self._runner.name

    @property
    def nick(self) -> str:
        client = self._runner.bot.client
        return client.nickname if client is not None else self._runner.bot.config.nick

    @property
    def prefix(self) -> str:
        return self._runner.options.prefix

    @property
    def version(self) -> str:
        return self._runner.manager.version

    @property
    def started(self) -> float:
        """When the service started (Unix seconds)."""
        return self._runner.manager.started

    @property
    def connected_since(self) -> float | None:
        """When this network's connection registered (Unix seconds), or None."""
        return self._runner.bot.stats.registered_at

    @property
    def server(self) -> str:
        return str(self._runner.bot.server)

    def fold(self, name: str) -> str:
        """``name`` (a nick or channel) folded with the server's CASEMAPPING: compare and
        key by this, not ``str.lower``."""
        client = self._runner.bot.client  # runner._fold(), written out: seen's every line
        if client is not None and client.core is not None:
            return client.core.state.isupport.folded[name]
        return name.lower()

    def commands(self) -> list[CommandSpec]:
        return self._runner.manager.command_specs()

    def command(self, name: str) -> CommandSpec | None:
        handler = self._runner.manager.commands.get(name.lower())
        return None if handler is None else handler.spec

    def plugins(self) -> list[str]:
        return sorted(self._runner.manager.plugins)

    def channels(self) -> list[str]:
        return sorted(self._runner.bot.joined.values())

    def join(self, channel: str, key: str | None = None) -> str:
        """Join ``channel`` now and after every reconnect (until ``part``); a message."""
        return self._runner.bot.join_channel(channel, key)

    def part(self, channel: str, reason: str | None = None) -> str:
        """Leave ``channel`` and stay out (until ``join`` or a restart); a message."""
        return self._runner.bot.part_channel(channel, reason)

    def reload(self, name: str | None = None) -> list[str]:
        """Reload one plugin, or all; one message per plugin."""
        return self._runner.manager.reload(name)


class ChannelLogs:
    """``context.logs``: read-only, bounded access to this channel's own log."""

    def __init__(self, runner: Any, channel: str) -> None:
        self._runner = runner
        self.channel = channel

    def recent(
        self,
        limit: int = 5,
        *,
        nick: str | None = None,
        words: Sequence[str] = (),
        types: Collection[str] = ("message", "action"),
        include_bot: bool = False,
    ) -> list[LoggedLine]:
        """The newest ``limit`` lines (newest first), by ``nick`` if given, holding every
        one of ``words`` (case-insensitive, plain text).  Unless ``include_bot``, the
        bot's own lines and the commands to it are left out."""
        runner = self._runner
        fold = runner._fold()
        folded = fold(self.channel)
        bot = runner.bot
        options = bot._options.get(folded) or bot.config.log
        skip = None
        if not include_bot:
            me = fold(BotControl(runner).nick)
            prefix = runner.options.prefix
            commands = runner.manager.commands

            def skip(line: LoggedLine) -> bool:
                if line.nick is not None and fold(line.nick) == me:
                    return True
                if line.text is None:
                    return False
                invocation = parse_command(
                    line.text, prefix=prefix, nick=me, private=False, fold=fold
                )
                return invocation is not None and invocation.name in commands

        limit = max(0, min(int(limit), MAX_LOG_LINES))
        return runner.view.recent(
            folded, options, limit=limit, nick=nick, words=words, types=types, skip=skip, fold=fold
        )
