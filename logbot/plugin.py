"""The plugin API: the only module a reply plugin imports.

A plugin is a module of small functions marked with a few decorators::

    from logbot.plugin import command

    @command("shout", help="says it louder", usage="<text>")
    def shout(context):
        return f"{context.nick}: {context.argtext.upper()}" if context.args else None

A handler gets a :class:`Context` and *returns* its reply: a ``str``, a list of
lines, ``None`` (no reply), a Deferred of one of those, or it is an ``async def``
(which may ``await`` Deferreds such as ``context.sleep(1)``).  The plugin manager
sends it, split and capped, to where the command came from, rate-limits it and
contains every error: why a plugin never talks to the connection itself is that
the manager can then guarantee that no plugin floods a channel, blocks the bot
past its deadline, or smuggles a second IRC command into a reply.

Optional module-level functions: ``setup(context)`` when the plugin is loaded
(``context`` has ``config``, ``store``, ``clock`` and ``now``, no channel) and
``teardown()`` before it is unloaded or reloaded.

Why the decorators only attach data to the function (``__logbot__``): loading,
reloading and testing a plugin is then just importing a module and reading it;
nothing is registered globally as a side effect of an import.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "EVENTS",
    "CommandSpec",
    "Context",
    "EventSpec",
    "RuleSpec",
    "command",
    "event",
    "format_duration",
    "rule",
    "specs_of",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The names ``@event`` accepts, and when each fires (never for the bot's own actions).
EVENTS = frozenset(
    {
        "message",  # a channel or private PRIVMSG (after commands and rules were tried)
        "action",  # /me
        "join",
        "part",
        "kick",
        "quit",
        "nick",
        "topic",
        "mode",
        "invite",  # the bot was invited somewhere
        "connect",  # the bot registered on the network (context.channel is None)
    }
)

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


@dataclass(frozen=True)
class CommandSpec:
    name: str
    aliases: tuple[str, ...] = ()
    help: str = ""
    usage: str = ""  # the arguments, e.g. "<nick>" or "[n] [nick]"
    admin: bool = False  # only configured admins may run it


@dataclass(frozen=True)
class RuleSpec:
    pattern: re.Pattern[str]  # searched in every channel and private message


@dataclass(frozen=True)
class EventSpec:
    name: str  # one of EVENTS


def _attach(func: F, spec: Any) -> F:
    if not callable(func):
        raise TypeError(f"a plugin decorator needs a function, not {func!r}")
    specs = list(getattr(func, "__logbot__", ()))
    specs.append(spec)
    func.__logbot__ = tuple(specs)  # type: ignore[attr-defined]
    return func


def command(
    name: str, *aliases: str, help: str = "", usage: str = "", admin: bool = False
) -> Callable[[F], F]:
    """``!name args`` (or ``<bot>: name args``, or a private ``name args``) runs the function.

    Names are matched case-insensitively; ``help`` and ``usage`` feed ``!help``.
    """
    for each in (name, *aliases):
        if not isinstance(each, str) or not _NAME.match(each):
            raise ValueError(f"bad command name {each!r}: letters, digits, '_', '.', '-'")
    spec = CommandSpec(name.lower(), tuple(a.lower() for a in aliases), help, usage, admin)
    return lambda func: _attach(func, spec)


def rule(pattern: str | re.Pattern[str], flags: int = 0) -> Callable[[F], F]:
    """Run the function for every message whose text ``re.search``-es ``pattern``;
    the match is ``context.match``."""
    compiled = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, flags)
    spec = RuleSpec(compiled)
    return lambda func: _attach(func, spec)


def event(name: str) -> Callable[[F], F]:
    """Run the function on a channel event (one of :data:`EVENTS`)."""
    if name not in EVENTS:
        raise ValueError(f"unknown event {name!r}; known: {', '.join(sorted(EVENTS))}")
    spec = EventSpec(name)
    return lambda func: _attach(func, spec)


def specs_of(func: Any) -> tuple[Any, ...]:
    """The specs the decorators attached to ``func`` (empty for anything else)."""
    specs = getattr(func, "__logbot__", ())
    return specs if isinstance(specs, tuple) and callable(func) else ()


def format_duration(seconds: float) -> str:
    """``3 d 4 h``, ``2 h 5 min``, ``4 min 10 s``, ``12 s``: the two largest units."""
    seconds = max(0, int(seconds))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
        elif parts:
            break
    return " ".join(parts[:2])


@dataclass
class Context:
    """Everything a handler may look at, and the few things it may do.

    ``channel`` is None for a private message (``target`` is then the nick, where
    the reply goes).  ``args`` are the words after the command, ``argtext`` the
    same unsplit.  ``logs`` reads this channel's own logs (``logs.recent(...)``);
    ``store`` is the plugin's key-value store for this network, kept on disk
    under the data directory; ``bot`` gives commands, the bot's nick, uptime and
    (for admin commands) join/part/reload.
    """

    network: str | None = None
    channel: str | None = None
    target: str | None = None  # where a reply goes: the channel, or the nick in private
    nick: str | None = None
    user: str | None = None
    host: str | None = None
    account: str | None = None
    text: str = ""
    command: str | None = None
    args: Sequence[str] = ()
    argtext: str = ""
    match: re.Match[str] | None = None
    event: Any = None  # the IRC event (logbot.irc.events) that triggered the handler
    is_admin: bool = False
    config: Mapping[str, Any] = field(default_factory=dict)  # this plugin's settings
    clock: Any = None  # callLater/seconds: the reactor, or a task.Clock in tests
    logs: Any = None
    store: Any = None
    bot: Any = None
    now: Callable[[], float] = field(default=lambda: 0.0, repr=False)  # wall clock, Unix s

    @property
    def private(self) -> bool:
        return self.channel is None

    def sleep(self, seconds: float) -> Any:
        """A Deferred that fires after ``seconds`` on the bot's clock (``await`` it)."""
        from logbot.reactor.task import deferLater

        return deferLater(self.clock, seconds, lambda: None)
