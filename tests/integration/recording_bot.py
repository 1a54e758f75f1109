"""An IRCClient that records what it is told, and waits for it, for integration tests.

Every Twisted-style event call is recorded as a tuple (``("privmsg", user, channel,
text)``) and every typed core event as itself, in one stream (``bot.stream``).
``bot.expect(predicate, timeout)`` returns a Deferred that fires with the first unread
item that matches (like ``tests.ircd.peer.Peer.expect``): unread items are looked at
first, then items as they arrive.  The timeout is a bound, never a sleep.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from logbot.irc.client import IRCClient
from logbot.reactor import defer
from logbot.reactor.failure import Failure
from logbot.reactor.protocol import ClientFactory

_ids = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


class BotTimeout(AssertionError):
    pass


class BotDisconnected(ConnectionError):
    pass


def _recorder(name: str) -> Callable[..., None]:
    def method(self: RecordingBot, *args: Any) -> None:
        self._record((name, *args))

    method.__name__ = name
    return method


class RecordingBot(IRCClient):
    lineRate = 0  # the shared servers run without throttling; the flood test turns it on

    def __init__(self, reactor: Any) -> None:
        self.clock = reactor
        self.stream: list[Any] = []
        self.signed_on: defer.Deferred[RecordingBot] = defer.Deferred()
        self.closed: defer.Deferred[None] = defer.Deferred()  # fires on connectionLost
        self.lost_reason: Failure | None = None
        self._cursor = 0
        self._waiter: tuple[Callable[[Any], bool], str, defer.Deferred[Any], Any] | None = None

    joined = _recorder("joined")
    left = _recorder("left")
    privmsg = _recorder("privmsg")
    noticed = _recorder("noticed")
    action = _recorder("action")
    userJoined = _recorder("userJoined")
    userLeft = _recorder("userLeft")
    userQuit = _recorder("userQuit")
    userKicked = _recorder("userKicked")
    kickedFrom = _recorder("kickedFrom")
    userRenamed = _recorder("userRenamed")
    topicUpdated = _recorder("topicUpdated")
    modeChanged = _recorder("modeChanged")

    def nickChanged(self, nick: str) -> None:
        IRCClient.nickChanged(self, nick)
        self._record(("nickChanged", nick))

    def signedOn(self) -> None:
        self._record(("signedOn",))
        if not self.signed_on.called:
            self.signed_on.callback(self)

    def eventReceived(self, event: Any) -> None:
        self._record(event)

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        IRCClient.connectionLost(self, reason)
        self.lost_reason = reason
        if self._waiter is not None:
            _, description, d, timer = self._waiter
            self._waiter = None
            if timer.active():
                timer.cancel()
            d.errback(
                BotDisconnected(
                    f"{self.nickname}: connection lost "
                    f"({self.disconnect_reason or reason.getErrorMessage()}) "
                    f"while waiting for {description}"
                )
            )
        if not self.signed_on.called:
            self.signed_on.errback(
                BotDisconnected(
                    f"{self.nickname}: connection lost before signing on: "
                    f"{self.disconnect_reason or reason.getErrorMessage()}"
                )
            )
        if not self.closed.called:
            self.closed.callback(None)

    # -- waiting -------------------------------------------------------------------------

    def expect(
        self,
        predicate: Callable[[Any], bool],
        timeout: float = 10.0,
        description: str | None = None,
    ) -> defer.Deferred[Any]:
        if self._waiter is not None:
            raise RuntimeError("one expect() at a time")
        description = description or getattr(predicate, "__name__", repr(predicate))
        d: defer.Deferred[Any] = defer.Deferred()
        found = self._scan(predicate)
        if found is not None:
            d.callback(found[0])
            return d
        if self.lost_reason is not None:
            d.errback(BotDisconnected(f"already disconnected; waited for {description}"))
            return d
        timer = self.clock.callLater(timeout, self._timed_out, timeout)
        self._waiter = (predicate, description, d, timer)
        return d

    def expect_call(self, name: str, *args: Any, timeout: float = 10.0) -> defer.Deferred[Any]:
        """The next recorded call ``name`` whose first arguments are ``args``."""

        def match(item: Any) -> bool:
            return isinstance(item, tuple) and item[0] == name and item[1 : 1 + len(args)] == args

        return self.expect(match, timeout, f"{name}{args}")

    def expect_event(self, kind: type, timeout: float = 10.0, **fields: Any) -> defer.Deferred[Any]:
        def match(item: Any) -> bool:
            return isinstance(item, kind) and all(getattr(item, k) == v for k, v in fields.items())

        return self.expect(match, timeout, f"{kind.__name__}({fields})")

    def _record(self, item: Any) -> None:
        self.stream.append(item)
        if self._waiter is not None:
            predicate, _, d, timer = self._waiter
            found = self._scan(predicate)
            if found is not None:
                self._waiter = None
                if timer.active():
                    timer.cancel()
                d.callback(found[0])

    def _scan(self, predicate: Callable[[Any], bool]) -> tuple[Any] | None:
        for i in range(self._cursor, len(self.stream)):
            if predicate(self.stream[i]):
                self._cursor = i + 1
                return (self.stream[i],)
        return None

    def _timed_out(self, timeout: float) -> None:
        if self._waiter is None:
            return
        _, description, d, _ = self._waiter
        self._waiter = None
        unread = "\n  ".join(repr(x) for x in self.stream[self._cursor :][-15:]) or "(none)"
        d.errback(
            BotTimeout(
                f"{self.nickname}: nothing matched {description} within "
                f"{timeout} s; unread:\n  {unread}"
            )
        )


class BotFactory(ClientFactory):
    noisy = False

    def __init__(self, reactor: Any, nick: str, attrs: dict[str, Any]) -> None:
        self.reactor = reactor
        self.nick = nick
        self.attrs = attrs
        self.bot: RecordingBot | None = None
        self.signed_on: defer.Deferred[RecordingBot] = defer.Deferred()

    def buildProtocol(self, addr: Any) -> RecordingBot:
        bot = RecordingBot(self.reactor)
        bot.factory = self
        bot.nickname = self.nick
        for name, value in self.attrs.items():
            setattr(bot, name, value)
        self.bot = bot
        bot.signed_on.chainDeferred(self.signed_on)
        return bot

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        if not self.signed_on.called:
            self.signed_on.errback(reason)


def start_bot(
    reactor: Any, server: Any, nick: str, tls: bool = False, **attrs: Any
) -> defer.Deferred[RecordingBot]:
    """Connect a RecordingBot; fires with it once signed on (001)."""
    factory = BotFactory(reactor, nick, attrs)
    if tls:
        reactor.connectSSL(server.host, server.tls_port, factory, server.client_context())
    else:
        reactor.connectTCP(server.host, server.port, factory)
    return factory.signed_on


async def stop_bot(bot: RecordingBot, timeout: float = 5.0) -> None:
    """QUIT and wait for the connection to end (aborted after ``timeout``)."""
    if bot.lost_reason is None:
        bot.quit("test done")
        timer = bot.clock.callLater(timeout, bot.transport.abortConnection)
        await bot.closed
        if timer.active():
            timer.cancel()
