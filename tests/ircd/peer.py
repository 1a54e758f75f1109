"""A scripted raw IRC peer on our reactor, for integration tests.

    peer = run_until(connect(reactor, ngircd, "alice"))          # registered (001 seen)
    peer.send("JOIN #test")
    run_until(peer.expect(r" JOIN :?#test"))                     # -> the matching line
    run_until(peer.quit())

Or in one coroutine (``Deferred.fromCoroutine``), awaiting each step.

``expect(pattern, timeout)`` looks at the lines received since the last successful
``expect`` (the *unread* lines), oldest first, then at lines as they arrive; the first
line that matches is returned and it and every unread line before it count as read.
``pattern`` is a regular expression (``re.search`` on the whole raw line, tags and
prefix included; the match object is kept as ``peer.match``) or a callable taking the
line.  On timeout the Deferred fails with ``ExpectTimeout``, whose message names the
pattern and shows the unread lines; if the connection is lost first it fails with
``PeerDisconnected``.  One ``expect`` may be pending per peer at a time.

The peer answers every ``PING`` at once (also before registration) and keeps every
line it received in ``peer.lines``.  Lines are decoded as UTF-8 with replacement.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple, Union

from logbot.reactor import defer
from logbot.reactor.basic import LineReceiver
from logbot.reactor.failure import Failure
from logbot.reactor.protocol import ClientFactory

Pattern = Union[str, "re.Pattern[str]", Callable[[str], bool]]


class ExpectTimeout(AssertionError):
    """No line matched within the timeout."""


class PeerDisconnected(ConnectionError):
    """The connection ended while an ``expect`` (or registration) was pending."""


class RegistrationFailed(ConnectionError):
    """The server refused our registration (for example 433, nick in use)."""


class Message(NamedTuple):
    tags: str | None
    source: str | None
    command: str
    params: list[str]


def parse(line: str) -> Message:
    """A minimal split of a raw line: tags (unparsed), source, command, params."""
    tags = source = None
    rest = line
    if rest.startswith("@"):
        tags, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
    if rest.startswith(":"):
        source, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
    trailing = None
    if " :" in rest:
        rest, trailing = rest.split(" :", 1)
    elif rest.startswith(":"):
        rest, trailing = "", rest[1:]
    words = rest.split()
    command = words[0].upper() if words else ""
    params = words[1:]
    if trailing is not None:
        params.append(trailing)
    return Message(tags, source, command, params)


def _matcher(pattern: Pattern) -> tuple[Callable[[str], Any], str]:
    if callable(pattern):
        return pattern, getattr(pattern, "__name__", repr(pattern))
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern
    return regex.search, f"/{regex.pattern}/"


class Peer(LineReceiver):
    """One raw IRC connection driven by a test (see the module docstring)."""

    MAX_LENGTH = 1 << 16  # never drop what a server sends; tests look at everything

    def __init__(
        self,
        reactor: Any,
        nick: str,
        user: str | None = None,
        realname: str | None = None,
        register: bool = True,
    ) -> None:
        self.reactor = reactor
        self.nick = nick
        self.user = user or nick[:9]
        self.realname = realname or f"logbot test peer {nick}"
        self.register = register
        self.lines: list[str] = []
        self.match: re.Match[str] | None = None
        self.registered = False
        self.closed: defer.Deferred[None] = defer.Deferred()  # fires on disconnect
        self.lost_reason: Failure | None = None
        self._cursor = 0
        self._waiter: tuple[Callable[[str], Any], str, defer.Deferred[str], Any] | None = None

    def __repr__(self) -> str:
        return f"<Peer {self.nick} {'registered' if self.registered else 'unregistered'}>"

    # -- requests -----------------------------------------------------------------------

    def send(self, line: str | bytes) -> None:
        """Send one raw line (without CRLF)."""
        data = line.encode("utf-8") if isinstance(line, str) else line
        if b"\r" in data or b"\n" in data:
            raise ValueError(f"send() takes one line; use send_raw() for {data!r}")
        self.sendLine(data)

    def send_raw(self, data: bytes) -> None:
        """Send bytes as they are (for tests of framing: CR, LF, NUL, long lines)."""
        self.transport.write(data)

    def expect(self, pattern: Pattern, timeout: float = 10.0) -> defer.Deferred[str]:
        """The first unread or future line that matches (see the module docstring)."""
        if self._waiter is not None:
            raise RuntimeError(f"{self!r}: an expect({self._waiter[1]}) is still pending")
        match, description = _matcher(pattern)
        d: defer.Deferred[str] = defer.Deferred(self._cancelExpect)
        found = self._scan(match)
        if found is not None:
            d.callback(found)
            return d
        if self.lost_reason is not None:
            d.errback(
                PeerDisconnected(
                    self._describe(
                        f"connection lost ({self.lost_reason.getErrorMessage()}) before a line "
                        f"matched {description}"
                    )
                )
            )
            return d
        timer = self.reactor.callLater(timeout, self._expectTimedOut, timeout)
        self._waiter = (match, description, d, timer)
        return d

    def quit(self, message: str = "done", timeout: float = 5.0) -> defer.Deferred[None]:
        """Send QUIT and wait until the server closes the connection (at most
        ``timeout``, then the connection is aborted)."""
        if self.lost_reason is None and self.transport is not None:
            self.send(f"QUIT :{message}")
            timer = self.reactor.callLater(timeout, self.abort)
            self.closed.addBoth(lambda r: timer.cancel() if timer.active() else None)
        d: defer.Deferred[None] = defer.Deferred()
        self.closed.addBoth(lambda r: (d.callback(None), r)[1])  # closed fires with None
        return d

    def abort(self) -> None:
        """Drop the connection now (no QUIT)."""
        if self.transport is not None and self.lost_reason is None:
            self.transport.abortConnection()

    # -- events ---------------------------------------------------------------------------

    def connectionMade(self) -> None:
        if self.register:
            self.send(f"NICK {self.nick}")
            self.send(f"USER {self.user} 0 * :{self.realname}")

    def lineReceived(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace")
        self.lines.append(line)
        msg = parse(line)
        if msg.command == "PING":
            self.sendLine(b"PONG" + raw[raw.upper().index(b"PING") + 4 :])
        elif msg.command == "001" and msg.params:
            self.nick = msg.params[0]
            self.registered = True
        elif (
            msg.command == "NICK"
            and msg.source
            and msg.params
            and msg.source.split("!")[0] == self.nick
        ):
            self.nick = msg.params[0]
        if self._waiter is not None:
            match, _, d, timer = self._waiter
            found = self._scan(match)
            if found is not None:
                self._waiter = None
                if timer.active():
                    timer.cancel()
                d.callback(found)

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        self.lost_reason = reason
        if self._waiter is not None:
            _, description, d, timer = self._waiter
            self._waiter = None
            if timer.active():
                timer.cancel()
            message = reason.getErrorMessage() if reason is not None else "closed"
            d.errback(
                PeerDisconnected(
                    self._describe(
                        f"connection lost ({message}) before a line matched {description}"
                    )
                )
            )
        self.closed.callback(None)

    # -- internals --------------------------------------------------------------------

    def _scan(self, match: Callable[[str], Any]) -> str | None:
        lines = self.lines
        for i in range(self._cursor, len(lines)):
            result = match(lines[i])
            if result:
                self._cursor = i + 1
                self.match = result if isinstance(result, re.Match) else None
                return lines[i]
        return None

    def _expectTimedOut(self, timeout: float) -> None:
        if self._waiter is None:
            return
        _, description, d, _ = self._waiter
        self._waiter = None
        d.errback(
            ExpectTimeout(self._describe(f"no line matched {description} within {timeout} s"))
        )

    def _cancelExpect(self, d: defer.Deferred[str]) -> None:
        if self._waiter is not None and self._waiter[2] is d:
            timer = self._waiter[3]
            self._waiter = None
            if timer.active():
                timer.cancel()
        d.errback(defer.CancelledError("expect() cancelled"))

    def _describe(self, what: str, last: int = 15) -> str:
        unread = self.lines[self._cursor :]
        shown = "\n  ".join(unread[-last:]) or "(none)"
        more = f" (last {last} of {len(unread)})" if len(unread) > last else ""
        return f"{self.nick}: {what}; unread lines{more}:\n  {shown}"


class _PeerFactory(ClientFactory):
    noisy = False
    timeout = 15.0  # registration deadline, set by connect()

    def __init__(self, reactor: Any, nick: str, register: bool, **kw: Any) -> None:
        self.reactor = reactor
        self.nick = nick
        self.register = register
        self.kw = kw
        self.deferred: defer.Deferred[Peer] = defer.Deferred()

    def buildProtocol(self, addr: Any) -> Peer:
        peer = Peer(self.reactor, self.nick, register=self.register, **self.kw)
        peer.factory = self
        if self.register:
            registered = peer.expect(
                lambda line: (
                    parse(line).command in ("001", "432", "433", "436", "437", "465", "ERROR")
                ),
                self.timeout,
            )

            def check(line: str) -> Peer:
                if parse(line).command != "001":
                    peer.abort()
                    raise RegistrationFailed(f"{self.nick}: registration refused: {line}")
                return peer

            registered.addCallback(check).chainDeferred(self.deferred)
        else:
            self.reactor.callLater(0, self._connected, peer)
        return peer

    def _connected(self, peer: Peer) -> None:
        if not self.deferred.called:
            self.deferred.callback(peer)

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        if not self.deferred.called:
            self.deferred.errback(reason)


def connect(
    reactor: Any,
    server: Any,
    nick: str,
    tls: bool = False,
    *,
    register: bool = True,
    context: Any = None,
    user: str | None = None,
    realname: str | None = None,
    timeout: float = 15.0,
) -> defer.Deferred[Peer]:
    """Connect a ``Peer`` to ``server`` (an ``IRCServer``) on its plain or TLS port.

    With ``register`` (the default) it sends NICK/USER and fires once 001 arrived (or
    fails with ``RegistrationFailed``, e.g. on 433); without, it fires as soon as the
    connection is up, for raw exchanges (CAP, SASL) done by the test itself.  For TLS
    the server certificate is verified against the server's own CA (``context``
    overrides, e.g. ``server.client_context("testbot")`` to present a client cert).
    """
    factory = _PeerFactory(reactor, nick, register, user=user, realname=realname)
    factory.timeout = timeout
    if tls:
        ctx = context if context is not None else server.client_context()
        reactor.connectSSL(server.host, server.tls_port, factory, ctx, timeout=timeout)
    else:
        reactor.connectTCP(server.host, server.port, factory, timeout=timeout)
    return factory.deferred


def connect_all(
    reactor: Any, server: Any, nicks: list[str], tls: bool = False, **kw: Any
) -> defer.Deferred[list[Peer]]:
    """Connect several peers at once (InspIRCd takes about 1 s to register each,
    in parallel that is 1 s for all)."""
    d = defer.gatherResults(
        [connect(reactor, server, n, tls, **kw) for n in nicks], consumeErrors=True
    )

    def first_error(failure: Failure) -> Failure:
        if failure.check(defer.FirstError):
            return failure.value.subFailure
        return failure

    return d.addErrback(first_error)
