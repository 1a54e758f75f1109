"""What a plugin handler's ``context`` holds, made for each call.

A message hook runs for every channel line, so a context is made as cheaply as Python
allows: the event's fields once per event (:meth:`ContextMaker.base`: the source split
once per speaker, :class:`~logbot.irc.message.SourceParts`), then per handler one dict,
the plugin's shared fields and the event's, set as the new context's ``__dict__``
(:meth:`ContextMaker.make`).  Fields left out of it read the dataclass's class
attributes, its defaults (tests/plugins/test_runner.py keeps every one readable).
"""

from __future__ import annotations

from typing import Any

from logbot.irc.message import SourceParts
from logbot.plugin import Context
from logbot.plugins.control import ChannelLogs
from logbot.plugins.dispatch import Invocation
from logbot.plugins.manager import Handler

__all__ = ["MAX_CHANNEL_LOGS", "ContextMaker"]

#: Channels whose ``context.logs`` reader is kept for the next context (past it, the
#: cache starts again: a reader is two attributes, remade on demand).
MAX_CHANNEL_LOGS = 1024


class ContextMaker:
    """The contexts of one network's plugins (``runner``: its ``NetworkPlugins``)."""

    def __init__(self, runner: Any) -> None:
        self._runner = runner
        self._shared: dict[str, dict[str, Any]] = {}  # plugin -> its fields on this network
        self._logs: dict[str, ChannelLogs] = {}  # a context's ``logs``, by channel
        self._sources = SourceParts()  # nick, user, host of each source

    def reset(self) -> None:
        """The options changed: the plugins' settings and stores may have."""
        self._shared = {}
        self._logs = {}

    def base(self, event: Any, client: Any, target: str | None, text: str) -> dict[str, Any]:
        """The fields every handler's context shares for this event."""
        state = client.core.state
        source = getattr(event, "source", None) or getattr(event, "setter", None) or ""
        nick, user, host = self._sources[source]
        account = event.tags.get("account") if event.tags else None
        if account is None and nick:
            known = state.user(nick)
            if known is not None:
                account = known.account
        # "@#chan" (STATUSMSG) is #chan's, and a reply to it goes to "@#chan": the same
        # audience as the question.
        if target is None:
            channel = None
        elif target[:1] in state.isupport.channel_starts:  # (channel_of's first test)
            channel = target
        else:
            channel = state.isupport.channel_of(target)
        private = target is not None and channel is None
        if private and nick:
            target = nick  # a reply to a private message goes back to its sender
        return {
            "network": self._runner.name,
            "channel": channel,
            "target": target,
            "nick": nick or None,
            "user": user or None,
            "host": host or None,
            "account": account,
            "text": text,
            "event": event,
        }

    def make(
        self,
        handler: Handler,
        base: dict[str, Any],
        invocation: Invocation | None,
        match: Any,
        is_admin: bool,
    ) -> Context:
        """A new context for one handler call.  Made as one dict (the plugin's shared
        fields, then the event's) set as its ``__dict__``: this runs for
        every message a ``message`` hook sees, and the dataclass ``__init__`` with
        twenty keywords cost more than the hook itself."""
        name = handler.plugin
        shared = self._shared.get(name)
        if shared is None:
            shared = self._shared[name] = self.shared_fields(name)
        values = {**shared, **base}
        if invocation is not None:
            values["command"] = invocation.name
            values["args"] = invocation.args
            values["argtext"] = invocation.argtext
        if match is not None:
            values["match"] = match
        if is_admin:
            values["is_admin"] = is_admin
        channel = base["channel"]
        if channel is not None:
            logs = self._logs.get(channel)
            if logs is None:
                if len(self._logs) >= MAX_CHANNEL_LOGS:
                    self._logs.clear()
                logs = self._logs[channel] = ChannelLogs(self._runner, channel)
            values["logs"] = logs
        context = Context.__new__(Context)
        context.__dict__ = values
        return context

    def shared_fields(self, name: str) -> dict[str, Any]:
        """The fields of every context of plugin ``name`` on this network.  The other
        fields' defaults are the dataclass's class attributes, read through the
        instance: a context's dict holds only what differs (15 entries, not 25)."""
        runner = self._runner
        manager = runner.manager
        return {
            "config": manager.options.settings.get(name, {}),
            "clock": runner.reactor,
            "store": manager.stores.get(name, runner.name),
            "bot": runner.control,
            "now": manager.wall,
        }
