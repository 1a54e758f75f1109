"""The seed's ircLogBot behaviour, on IRCClient, against ngircd.

The program below is written afresh for Python 3 in the seed's shape: a LogBot
(an ``irc.IRCClient``) that logs a channel to a file, replies to "nick: ..." and to
private messages, logs nick changes from an ``irc_NICK`` hook and picks ``nick^``
on a collision; and a LogBotFactory (a ``ClientFactory``) that reconnects from
``clientConnectionLost`` with ``connector.connect()``.  Like the seed it never sets
a clock: IRCClient uses the reactor that owns its transport.

Two things are ours, for the test: the nickname comes from the factory (nicks must
be unique on the shared server) and the factory can be told to stop reconnecting and
tells the test about each log line.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from logbot import irc
from logbot.reactor import defer, protocol
from logbot.reactor.backends import available
from tests.integration.recording_bot import unique
from tests.ircd.peer import connect, parse

pytestmark = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)


class MessageLogger:
    """Writes timestamped lines to a file, flushing each one."""

    def __init__(self, file: Any, listener: Callable[[str], None]) -> None:
        self.file = file
        self.listener = listener

    def log(self, message: str) -> None:
        stamp = time.strftime("[%H:%M:%S]", time.localtime())
        self.file.write(f"{stamp} {message}\n")
        self.file.flush()
        self.listener(message)

    def close(self) -> None:
        self.file.close()


class LogBot(irc.IRCClient):
    nickname = "twistedbot"

    def connectionMade(self) -> None:
        irc.IRCClient.connectionMade(self)
        log_file = open(self.factory.filename, "a")  # noqa: SIM115  (closed in connectionLost)
        self.logger = MessageLogger(log_file, self.factory.logged)
        self.logger.log(f"[connected at {time.asctime()}]")

    def connectionLost(self, reason: Any) -> None:
        irc.IRCClient.connectionLost(self, reason)
        self.logger.log(f"[disconnected at {time.asctime()}]")
        self.logger.close()

    def signedOn(self) -> None:
        self.join(self.factory.channel)

    def joined(self, channel: str) -> None:
        self.logger.log(f"[I have joined {channel}]")

    def privmsg(self, user: str, channel: str, msg: str) -> None:
        user = user.split("!", 1)[0]
        self.logger.log(f"<{user}> {msg}")
        if channel == self.nickname:  # a private message
            self.msg(user, "It isn't nice to whisper! Play nice with the group.")
            return
        if msg.startswith(self.nickname + ":"):
            reply = f"{user}: I am a log bot"
            self.msg(channel, reply)
            self.logger.log(f"<{self.nickname}> {reply}")

    def action(self, user: str, channel: str, msg: str) -> None:
        self.logger.log(f"* {user.split('!', 1)[0]} {msg}")

    def irc_NICK(self, prefix: str, params: list[str]) -> None:
        self.logger.log(f"{prefix.split('!')[0]} is now known as {params[0]}")

    def alterCollidedNick(self, nickname: str) -> str:
        return nickname + "^"


class LogBotFactory(protocol.ClientFactory):
    def __init__(self, channel: str, filename: str, nickname: str) -> None:
        self.channel = channel
        self.filename = filename
        self.nickname = nickname
        self.reconnect = True
        self.lines: list[str] = []
        self.connections = 0
        self._watch: tuple[re.Pattern[str], defer.Deferred[str]] | None = None
        self.failed: Any = None

    def buildProtocol(self, addr: Any) -> LogBot:
        bot = LogBot()
        bot.factory = self
        bot.nickname = self.nickname
        self.bot = bot
        self.connections += 1
        return bot

    def clientConnectionLost(self, connector: Any, reason: Any) -> None:
        if self.reconnect:
            connector.connect()

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        self.failed = reason

    # -- for the test ---------------------------------------------------------------

    def logged(self, line: str) -> None:
        self.lines.append(line)
        if self._watch is not None and self._watch[0].search(line):
            d = self._watch[1]
            self._watch = None
            d.callback(line)

    def wait_for(self, reactor: Any, pattern: str, timeout: float = 10.0) -> defer.Deferred[str]:
        """The first log line from now on that matches ``pattern`` (bounded wait)."""
        regex = re.compile(pattern)
        d: defer.Deferred[str] = defer.Deferred()
        self._watch = (regex, d)
        timer = reactor.callLater(
            timeout,
            lambda: (
                d.called
                or d.errback(
                    AssertionError(
                        f"no log line matched /{pattern}/ in {timeout} s; log: {self.lines[-10:]}"
                    )
                )
            ),
        )
        d.addBoth(lambda r: (timer.active() and timer.cancel(), r)[1])
        return d


def run(run_until, coro, timeout: float = 30.0):
    return run_until(defer.Deferred.fromCoroutine(coro), timeout)


async def _start(reactor, server, tmp_path, nick):
    channel = "#" + unique("logs")
    factory = LogBotFactory(channel, str(tmp_path / "channel.log"), nick)
    joined = factory.wait_for(reactor, re.escape(f"[I have joined {channel}]"))
    reactor.connectTCP(server.host, server.port, factory)
    await joined
    return factory, channel


async def _stop(reactor, factory):
    factory.reconnect = False
    lost = factory.wait_for(reactor, r"^\[disconnected at ")
    factory.bot.quit("bye")
    await lost


def test_logs_the_channel_and_replies(reactor, run_until, ngircd, tmp_path):
    async def scenario():
        factory, channel = await _start(reactor, ngircd, tmp_path, unique("logbot"))
        nick = factory.bot.nickname
        alice = await connect(reactor, ngircd, unique("alice"))
        alice.send(f"JOIN {channel}")
        await alice.expect(f" JOIN :?{channel}$")

        alice.send(f"PRIVMSG {channel} :hello everyone")
        await factory.wait_for(reactor, "hello everyone")
        alice.send(f"PRIVMSG {channel} :{nick}: who are you?")
        line = await alice.expect(f"PRIVMSG {channel} :")
        assert parse(line).params[1] == f"{alice.nick}: I am a log bot"
        assert parse(line).source.startswith(nick + "!")

        alice.send(f"PRIVMSG {nick} :psst")
        line = await alice.expect(f"PRIVMSG {alice.nick} :")
        assert parse(line).params[1] == "It isn't nice to whisper! Play nice with the group."

        alice.send(f"PRIVMSG {channel} :\x01ACTION waves\x01")
        await factory.wait_for(reactor, r"^\* ")
        old = alice.nick
        alice.send(f"NICK {old}x")
        await factory.wait_for(reactor, "is now known as")
        await alice.quit()
        await _stop(reactor, factory)

        text = (tmp_path / "channel.log").read_text()
        stamps = r"\[\d\d:\d\d:\d\d\] "
        expected = [
            r"\[connected at .+\]",
            re.escape(f"[I have joined {channel}]"),
            re.escape(f"<{old}> hello everyone"),
            re.escape(f"<{old}> {nick}: who are you?"),
            re.escape(f"<{nick}> {old}: I am a log bot"),
            re.escape(f"<{old}> psst"),
            re.escape(f"* {old} waves"),
            re.escape(f"{old} is now known as {old}x"),
            r"\[disconnected at .+\]",
        ]
        lines = text.splitlines()
        assert len(lines) == len(expected), text
        for pattern, line in zip(expected, lines, strict=False):
            assert re.fullmatch(stamps + pattern, line), (pattern, line)

    run(run_until, scenario())


def test_reconnects_after_being_killed(reactor, run_until, ngircd, tmp_path):
    async def scenario():
        factory, channel = await _start(reactor, ngircd, tmp_path, unique("logbot"))
        oper = await connect(reactor, ngircd, unique("oper"))
        oper.send("OPER {} {}".format(*ngircd.oper))
        await oper.expect(r" 381 ")
        rejoined = factory.wait_for(reactor, re.escape(f"[I have joined {channel}]"))
        oper.send(f"KILL {factory.bot.nickname} :go away")
        await rejoined  # disconnected, connector.connect(), signed on, joined again
        assert factory.connections == 2
        assert [line.split(" at ")[0] for line in factory.lines if " at " in line] == [
            "[connected",
            "[disconnected",
            "[connected",
        ]
        await oper.quit()
        await _stop(reactor, factory)

    run(run_until, scenario())


def test_taken_nick_becomes_nick_caret(reactor, run_until, ngircd, tmp_path):
    nick = unique("taken")

    async def scenario():
        holder = await connect(reactor, ngircd, nick)
        factory, channel = await _start(reactor, ngircd, tmp_path, nick)
        assert factory.bot.nickname == nick + "^"
        holder.send(f"JOIN {channel}")
        await holder.expect(f" JOIN :?{channel}$")
        holder.send(f"PRIVMSG {channel} :{nick}^: are you the bot?")  # its current nick
        line = await holder.expect(f"PRIVMSG {channel} :")
        assert parse(line).source.startswith(nick + "^!")
        assert parse(line).params[1] == f"{nick}: I am a log bot"
        await holder.quit()
        await _stop(reactor, factory)

    run(run_until, scenario())
