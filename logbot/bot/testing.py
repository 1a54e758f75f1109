"""Test reply plugins the way the bot runs them: :class:`PluginHarness`.

A plugin's test needs the bot around the plugin (command dispatch, rate limits, reply
caps and splitting, error replies, admins, the store, the channel's log) but no IRC
server and no waiting.  So the harness is the real bot on fakes: the real
:class:`~logbot.bot.network.NetworkBot`, plugin manager and runner, a real log writer
and real stores under a folder of the test's, on a connection that is a
:class:`~logbot.reactor.testing.StringTransport` (the harness plays the server's lines
and reads what the bot wrote back) and a clock that moves only when the test moves it.
What passes here is what the bot does on a network; a fake of the bot's insides would
drift from them, and a plugin author would test that fake::

    from logbot.bot.testing import PluginHarness

    def test_karma(tmp_path):
        h = PluginHarness(["karma"], plugin_dirs=["plugins"], tmp=tmp_path)
        assert h.say("#chan", "alice", "bob++") == []
        assert h.say("#chan", "alice", "!karma bob") == ["bob has 1 karma"]

Everything is synchronous: each call plays one thing on the network and returns the
lines the bot replied, so a test is plain ``assert``\\ s.  How each part behaves:

- *Users* are nicks (``"alice"`` is ``alice!~alice@alice.example``) or whole masks
  (``"root!~root@admin.example"``, for ``admins`` masks).  A user who speaks in a
  channel is in it (as the server's NAMES would say, with no JOIN event), so ``nick``
  and ``quit`` events name that channel; :meth:`~PluginHarness.join` plays a real
  JOIN, which ``@event("join")`` handlers see.  ``account=`` sends the
  ``account`` message tag, as a server with ``account-tag`` does.
- *Channels*: the bot is in every channel the test talks in (it joins one at its first
  use).  ``say(h.botnick, ...)`` is a private message to the bot.
- *Time*: :attr:`~PluginHarness.clock` is the fake reactor handlers get as
  ``context.clock``; the wall clock (``context.now()``) is ``start`` plus its seconds.
  :meth:`~PluginHarness.advance` moves it and returns what the bot said meanwhile
  (``await context.sleep(5)`` answers after ``advance(5)``).  The fake server keeps
  talking while time passes, so the bot never sees its link time out.
- *Exec plugins* run for real: each use starts the script as a real child, on a real
  reactor the harness drives until the child has ended, so the answer is there when
  :meth:`~PluginHarness.say` returns.  Why real: the script is what is under test, and
  a recorded spawn would test nothing of it.  While a child runs, the fake clock follows
  real time, so the plugin's deadline (``timeout``) kills a hung script as the bot
  would; :class:`HarnessError` is raised only if a child outlives even that.
- *Limits* are the bot's (five commands per user per 10 s, the loop guard...): a test
  sees what users would.  ``rate_limits=False`` lifts them for tests that need many
  commands in a row.

Why it lives in ``logbot.bot``: it runs the bot, and only ``bot`` and the CLI may
import it (``ALLOWED`` in ``scripts/check_layout.py``).  It needs nothing but logbot and
the standard library (no pytest): an installed logbot is enough to test a plugin.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from logbot.bot.network import NetworkBot
from logbot.config.loader import parse_config
from logbot.logs.record import TYPES
from logbot.logs.writer import LogWriter
from logbot.plugins.control import ChannelLogs
from logbot.plugins.loader import BUNDLED_DIR
from logbot.plugins.manager import PluginManager
from logbot.plugins.runner import NetworkPlugins
from logbot.plugins.store import Store
from logbot.reactor.failure import Failure
from logbot.reactor.loop import Reactor
from logbot.reactor.protocol import ProcessProtocol
from logbot.reactor.testing import MemoryReactorClock, StringTransport

__all__ = ["START", "HarnessError", "PluginHarness", "Reply"]

#: The wall clock's default start (Unix seconds): 2026-09-21T14:13:20Z, the same in
#: every run, so that a test's times and log file names never depend on when it runs.
START = 1_790_000_000.0
SERVER = "irc.example"
NETWORK = "testnet"
#: The most seconds of fake time without a line from the fake server; the bot calls a
#: link dead after ``ping_timeout`` (90 s) of silence.
KEEPALIVE = 60.0
#: How long the real reactor waits for a child's news before the fake clock is moved on
#: (and so how late, at most, a deadline on it fires).
TICK = 0.05
#: Real seconds a child may outlive its plugin's deadline before the harness gives up.
GRACE = 5.0
#: Rate limits out of the way (``rate_limits=False``).
_NO_LIMIT = {"burst": 1_000_000, "per": 1.0}


class HarnessError(Exception):
    """The harness cannot do what the test asked: a plugin did not load, a child process
    would not end, a private message to someone other than the bot."""


class Reply(NamedTuple):
    """One line the bot sent: ``target`` is the channel, or the nick in private."""

    target: str
    text: str


class _Child(ProcessProtocol):
    """Stands between a real child and its protocol, to know when it has ended."""

    def __init__(self, inner: Any, live: set[_Child]) -> None:
        self.inner = inner
        self.live = live

    def makeConnection(self, transport: Any) -> None:
        self.transport = transport
        self.inner.makeConnection(transport)

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        self.inner.childDataReceived(childFD, data)

    def childConnectionLost(self, childFD: int) -> None:
        self.inner.childConnectionLost(childFD)

    def processExited(self, reason: Failure) -> None:
        self.inner.processExited(reason)

    def processEnded(self, reason: Failure) -> None:
        self.live.discard(self)
        self.inner.processEnded(reason)


class _Reactor(MemoryReactorClock):
    """The fake reactor, but for two things.

    ``advance`` lets the fake server say something at least every :data:`KEEPALIVE`
    seconds (a test that moves the clock by a day must not lose the connection), and
    ``spawnProcess`` starts a real child on a real reactor (made at the first spawn and
    closed once no child is left; see :meth:`PluginHarness._settle`).
    """

    def __init__(self) -> None:
        super().__init__()
        self.keepalive: Any = None  # called with no argument when the server should talk
        self.quiet = 0.0  # fake seconds since the server last said something
        self.real: Reactor | None = None
        self.children: set[_Child] = set()

    def advance(self, amount: float) -> None:
        if self.keepalive is None:
            super().advance(amount)
            return
        while True:
            step = min(amount, KEEPALIVE - self.quiet)
            super().advance(step)
            amount -= step
            self.quiet += step
            if self.quiet >= KEEPALIVE:
                self.keepalive()  # the server speaks: quiet is 0 again
            if amount <= 0:
                return

    def spawnProcess(
        self,
        processProtocol: Any,
        executable: str,
        args: Any = (),
        env: dict[Any, Any] | None = {},  # noqa: B006  (the reactor's signature; never mutated)
        path: str | None = None,
        childFDs: dict[int, Any] | None = None,
        *,
        newSession: bool = False,
    ) -> Any:
        if self.real is None:
            self.real = Reactor()
        child = _Child(processProtocol, self.children)
        self.children.add(child)
        try:
            return self.real.spawnProcess(
                child, executable, args, env, path, childFDs, newSession=newSession
            )
        except BaseException:
            self.children.discard(child)
            raise


class PluginHarness:
    """The bot with ``plugins`` enabled, on a fake network (see the module docstring).

    ``plugin_dirs`` are searched first, then the bundled plugins (unless ``bundled`` is
    false) and installed entry points, as the bot searches them; ``settings`` is the
    config's ``plugins.settings`` (``{"karma": {"max": 10}}``); any other keyword is a
    key of the config's ``plugins`` section (``admins=["account:root"]``,
    ``prefix="?"``, ``timeout=3``, ``user_rate={"burst": 2, "per": 10}``...), checked
    as ``logbot check`` checks it.  Logs go to ``tmp/logs``, stores to ``tmp/data``.
    ``start`` is the wall clock's first value (Unix seconds).

    :raises HarnessError: an enabled plugin did not load (the message says why).
    :raises logbot.config.loader.ConfigError: a keyword the config would refuse.
    """

    def __init__(
        self,
        plugins: str | Iterable[str],
        *,
        tmp: str | os.PathLike[str],
        plugin_dirs: Iterable[str | os.PathLike[str]] = (),
        settings: Mapping[str, Mapping[str, Any]] | None = None,
        nick: str = "logbot",
        bundled: bool = True,
        rate_limits: bool = True,
        start: float = START,
        **options: Any,
    ) -> None:
        enabled = [plugins] if isinstance(plugins, str) else list(plugins)
        self.tmp = Path(tmp)
        section: dict[str, Any] = {
            "enabled": enabled,
            "plugin_dirs": [os.path.abspath(d) for d in plugin_dirs],
            "data_dir": str(self.tmp / "data"),
        }
        if settings:
            section["settings"] = _plain(settings)
        if not rate_limits:
            section.update(user_rate=_NO_LIMIT, channel_rate=_NO_LIMIT, loop_repeats=1_000_000)
        section.update(_plain(options))
        config = parse_config(
            yaml.safe_dump(
                {
                    "logging": {"root": str(self.tmp / "logs")},
                    # line_rate 0: replies leave at once, not one a second
                    "networks": [
                        {"name": NETWORK, "nick": nick, "servers": [SERVER], "line_rate": 0}
                    ],
                    "plugins": section,
                }
            ),
            source="PluginHarness",
            base_dir=str(self.tmp),
        )
        self.reactor = self.clock = _Reactor()
        # only played: what the bot says meanwhile is taken by whoever moved the clock
        self.reactor.keepalive = lambda: self._play(f":{SERVER} PING :keepalive")
        self.start = start
        self._replies: list[Reply] = []
        self._notices: list[Reply] = []
        self._sent: list[str] = []
        self._masks: dict[str, str] = {}  # folded nick -> the mask a test gave for it
        self.writer = LogWriter(self.reactor, root=config.log.root, wall=self.now)
        self.bot = NetworkBot(config.networks[0], self.reactor, self.writer, wall=self.now)
        self.manager = PluginManager(
            config.plugins,
            self.reactor,
            log_root=config.log.root,
            wall=self.now,
            bundled_dir=BUNDLED_DIR if bundled else None,
        )
        self.runner = NetworkPlugins(self.manager, self.bot)
        self.bot.plugins = self.runner
        problems = self.manager.load_all()
        if problems:
            self.close()
            raise HarnessError("; ".join(problems))
        self.bot.start()
        self.client = self.bot.buildProtocol(None)
        self.transport = StringTransport()
        self.client.makeConnection(self.transport)
        self._play(
            f":{SERVER} 001 {nick} :Welcome",
            f":{SERVER} 005 {nick} CASEMAPPING=rfc1459 CHANTYPES=#& PREFIX=(ov)@+ "
            "STATUSMSG=@+ :are supported",
        )
        self._take()

    # -- the network ------------------------------------------------------------------------

    @property
    def botnick(self) -> str:
        """The bot's nick: ``say(h.botnick, "alice", "ping")`` is a private message."""
        return str(self.client.nickname)

    @property
    def replies(self) -> list[Reply]:
        """Every PRIVMSG the bot sent so far, as ``(target, text)``, oldest first: also
        those no call returned (after ``h.clock.advance``).  A list the test may clear."""
        self._take()
        return self._replies

    @property
    def notices(self) -> list[Reply]:
        """Every NOTICE the bot sent so far (a rate limit's "slow down"...)."""
        self._take()
        return self._notices

    @property
    def sent(self) -> list[str]:
        """Every line the bot sent so far, as sent, but PING and PONG (the fake server's
        keepalive and the bot's answers)."""
        self._take()
        return self._sent

    def now(self) -> float:
        """The wall clock (Unix seconds), what handlers get as ``context.now()``."""
        return self.start + self.reactor.seconds()

    def say(self, target: str, nick: str, text: str, *, account: str | None = None) -> list[str]:
        """``nick`` says ``text`` in channel ``target`` (or to the bot in private, when
        ``target`` is :attr:`botnick`); the text of each line the bot replied."""
        if self._is_channel(target):
            self._be_in(target, nick)
        elif self._fold(target) != self._fold(self.botnick):
            raise HarnessError(
                f"{target} is neither a channel nor the bot ({self.botnick}): the bot "
                "hears only those"
            )
        return self.feed(f":{self._mask(nick)} PRIVMSG {target} :{text}", account=account)

    def action(self, target: str, nick: str, text: str, *, account: str | None = None) -> list[str]:
        """``/me text`` by ``nick`` (an ``action`` event)."""
        return self.say(target, nick, f"\x01ACTION {text}\x01", account=account)

    def join(self, channel: str, nick: str, *, account: str | None = None) -> list[str]:
        self._bot_in(channel)
        return self.feed(f":{self._mask(nick)} JOIN {channel}", account=account)

    def part(self, channel: str, nick: str, reason: str | None = None) -> list[str]:
        self._be_in(channel, nick)
        return self.feed(f":{self._mask(nick)} PART {channel}" + _trailing(reason))

    def kick(self, channel: str, nick: str, by: str = "op", reason: str | None = None) -> list[str]:
        """``by`` kicks ``nick`` out of ``channel``."""
        self._be_in(channel, nick)
        self._be_in(channel, by)
        return self.feed(f":{self._mask(by)} KICK {channel} {nick}" + _trailing(reason))

    def quit(self, nick: str, reason: str | None = None) -> list[str]:
        return self.feed(f":{self._mask(nick)} QUIT" + _trailing(reason))

    def nick(self, old: str, new: str) -> list[str]:
        """``old`` is now known as ``new`` (a ``nick`` event; ``context.text`` is ``new``)."""
        mask = self._mask(old)
        line = f":{mask} NICK :{new}"
        _, bang, rest = mask.partition("!")
        self._masks.pop(self._fold(old), None)
        if bang and self._fold(old) != self._fold(new):
            self._masks[self._fold(new)] = f"{new}!{rest}"
        return self.feed(line)

    def topic(self, channel: str, nick: str, text: str) -> list[str]:
        self._be_in(channel, nick)
        return self.feed(f":{self._mask(nick)} TOPIC {channel} :{text}")

    def mode(self, channel: str, nick: str, modes: str) -> list[str]:
        """``nick`` sets ``modes`` (``"+o bob"``) on ``channel``."""
        self._be_in(channel, nick)
        return self.feed(f":{self._mask(nick)} MODE {channel} {modes}")

    def invite(self, nick: str, channel: str) -> list[str]:
        """``nick`` invites the bot to ``channel`` (an ``invite`` event)."""
        return self.feed(f":{self._mask(nick)} INVITE {self.botnick} {channel}")

    def feed(self, *lines: str, account: str | None = None) -> list[str]:
        """Play raw lines from the server (``":alice!a@h PRIVMSG #c :hi"``); the text of
        each line the bot replied.  For what the methods above do not cover."""
        if account is not None:
            lines = tuple(f"@account={account} {line}" for line in lines)
        self._play(*lines)
        self._settle()
        return self._take()

    def advance(self, seconds: float) -> list[str]:
        """Let ``seconds`` pass on the fake clock; the text of each line the bot replied
        meanwhile (an async handler's late answer, a timer's)."""
        self.reactor.advance(seconds)
        self._settle()
        return self._take()

    # -- what plugins keep -----------------------------------------------------------------

    def store(self, plugin: str) -> Store:
        """``plugin``'s store on this network: what its handlers get as ``context.store``
        (``get``, ``set``, ``keys()``...), to look at or to fill before a test."""
        return self.manager.stores.get(plugin, NETWORK)

    def logged(self, channel: str, limit: int = 100) -> list[str]:
        """The channel's log as a plugin reads it (``context.logs``), oldest first, every
        kind of line and the bot's own: ``[2026-09-21 14:13:20] <alice> hi``."""
        lines = ChannelLogs(self.runner, channel).recent(limit, types=TYPES, include_bot=True)
        return [line.line for line in reversed(lines)]

    @property
    def errors(self) -> dict[str, int]:
        """Errors per plugin so far (exceptions, deadlines): ``{"karma": 1}``."""
        return dict(self.manager.stats.errors)

    def close(self) -> None:
        """Tear the plugins down, save their stores and close the logs."""
        self.manager.close()
        self.runner.close()
        self.writer.close()
        self._close_real()

    def __enter__(self) -> PluginHarness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- inside ----------------------------------------------------------------------------

    def _play(self, *lines: str) -> None:
        if self.transport.disconnecting:  # a network never talks to a closed connection
            raise HarnessError("the bot closed its connection to the fake server (see its log)")
        self.client.dataReceived("".join(line + "\r\n" for line in lines).encode())
        self.reactor.quiet = 0.0

    def _take(self) -> list[str]:
        """What the bot wrote since the last call: kept, and the replies' texts."""
        data = self.transport.value().decode("utf-8", "replace")
        self.transport.clear()
        texts = []
        for line in data.split("\r\n")[:-1]:
            command, _, rest = line.partition(" ")
            if command in ("PING", "PONG"):
                continue  # the link's upkeep, answers to the fake server's keepalive
            self._sent.append(line)
            target, _, text = rest.partition(" :")
            if command == "PRIVMSG":
                self._replies.append(Reply(target, text))
                texts.append(text)
            elif command == "NOTICE":
                self._notices.append(Reply(target, text))
        return texts

    def _settle(self) -> None:
        """Run the real reactor until every child process has ended, the fake clock
        following real time meanwhile (see the module docstring)."""
        fake = self.reactor
        real = fake.real
        if real is None:
            return
        options = self.manager.options
        deadline = max([options.timeout, *(e.timeout or 0.0 for e in options.exec)])
        limit = real.seconds() + deadline + GRACE
        last = real.seconds()
        killed = False
        while fake.children:
            real.iterate(TICK)
            now = real.seconds()
            fake.advance(now - last)
            last = now
            if now < limit or not fake.children:
                continue
            if killed:
                raise HarnessError(
                    f"a child process outlived its deadline ({deadline:g} s) and SIGKILL"
                )
            for child in list(fake.children):
                try:
                    child.transport.signalProcess("KILL")
                except Exception:  # reaped meanwhile: its end is on the way
                    pass
            killed, limit = True, now + GRACE
        self._close_real()

    def _close_real(self) -> None:
        real = self.reactor.real
        if real is not None and not self.reactor.children:
            self.reactor.real = None
            real.removeAll()
            real.close()

    def _state(self) -> Any:
        core = self.client.core
        assert core is not None  # connected in __init__, never lost
        return core.state

    def _fold(self, name: str) -> str:
        return str(self._state().fold(name))

    def _is_channel(self, target: str) -> bool:
        return target[:1] in self._state().isupport.chantypes

    def _mask(self, nick: str) -> str:
        if "!" in nick:
            self._masks[self._fold(nick.partition("!")[0])] = nick
            return nick
        return self._masks.get(self._fold(nick), f"{nick}!~{nick}@{nick}.example")

    def _bot_in(self, channel: str) -> None:
        """Join the bot to ``channel`` if it is not there (the server's JOIN echo and
        NAMES, as after a ``JOIN`` the bot sent)."""
        if not self._is_channel(channel):
            raise HarnessError(f"{channel} is not a channel name (they start with # or &)")
        if self._state().channel(channel) is not None:
            return
        me = self.botnick
        self._play(
            f":{me}!~{me}@bot.example JOIN {channel}",
            f":{SERVER} 353 {me} = {channel} :{me}",
            f":{SERVER} 366 {me} {channel} :End of /NAMES list.",
        )
        self._take()

    def _be_in(self, channel: str, nick: str) -> None:
        """Make ``nick`` a member of ``channel`` as a NAMES line would (no JOIN event)."""
        self._bot_in(channel)
        mask = self._mask(nick)
        name = mask.partition("!")[0]
        if self._fold(name) not in self._state().channel(channel).members:
            self._play(f":{SERVER} 353 {self.botnick} = {channel} :{mask}")


def _trailing(text: str | None) -> str:
    return "" if text is None else f" :{text}"


def _plain(value: Any) -> Any:
    """``value`` as YAML for the config reader: paths as strings, tuples as lists, and a
    settings object (``RateLimit(5, 10.0)``) as the mapping the config file would hold."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(v) for v in value]
    return value
