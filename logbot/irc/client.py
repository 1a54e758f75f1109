"""``IRCClient``: the reactor protocol that drives the sans-I/O core.

This is the only module of ``logbot.irc`` that touches the reactor.  It feeds
received bytes to :class:`~logbot.irc.core.IRCConnection`, writes what the core
releases, turns the core's typed events into Twisted's event methods, and keeps
one timer at ``core.next_wakeup(now)`` (flood queue, keepalive PING, lag probe, dead
link, SASL and registration deadlines, nick regain).

One turn of the adapter (on received data, on a request, on the timer)::

    events = core.receive_data(data, now)      # only on received data
    dispatch(events)                            # requests made here are queued
    loop: write(core.data_to_send(now)); dispatch(core.pop_events())
    schedule the timer at core.next_wakeup(now)

The timer is moved only when the core needs it *earlier* than it is set: a timer
that fires early finds nothing to do and sets itself again, which keeps received
data (which moves the keepalive deadline on every read) free of timer work.

Compatibility surface (Twisted's names, see API.md): ``IRCClient`` with the
attributes ``nickname``, ``username``, ``realname``, ``password``, ``lineRate``,
``versionName``, ``factory``, ``hostname``; the requests ``join``, ``leave``/``part``,
``msg``, ``say``, ``notice``, ``describe``, ``setNick``, ``quit``, ``topic``,
``mode``, ``kick``, ``sendLine``; the events ``connectionMade``, ``connectionLost``,
``signedOn``, ``joined``, ``left``, ``privmsg``, ``noticed``, ``action``,
``userJoined``, ``userLeft``, ``userQuit``, ``userKicked``, ``kickedFrom``,
``userRenamed``, ``nickChanged``, ``topicUpdated``, ``modeChanged``,
``alterCollidedNick``, and ``irc_<COMMAND>(prefix, params)`` /
``irc_unknown(prefix, command, params)`` hooks.  As in Twisted, ``privmsg``,
``noticed``, ``action`` and ``modeChanged`` get the full ``nick!user@host``
source; ``userJoined``, ``userLeft``, ``userQuit``, ``userKicked``, ``kickedFrom``,
``topicUpdated`` and ``userRenamed`` get nicks.  Numerics reach hooks by their
RFC name (``irc_RPL_TOPIC``) or number (``irc_332``).  Differences: the core keeps
its state whatever the hooks do (``irc_NICK`` is called *in addition* to
``userRenamed``, not instead), and our own messages never reach ``privmsg``.

Names of our own (PEP 8): ``alt_nicks``, ``sasl``, ``caps``, ``clock``,
``ping_interval``, ``ping_timeout``, ``registration_timeout``, ``nick_retry_interval``,
``max_reply_wait``, ``max_queued_lines``, ``max_queued_per_target`` (the send queue's
bounds on PRIVMSG and NOTICE lines, :mod:`logbot.irc.flood`; None: no bound, as in
Twisted), ``reply(target, lines)`` (all the lines or none, False when the queue cannot
take them in time), ``notice(..., urgent=True)``,
``core``, ``join_many``, ``build_core()``, ``disconnect_reason``,
``eventReceived(event)``, which gets every typed core event (channels lists,
server-time, account...) for the bot, and ``beforeSending()``, called before each
write of what the core released.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from logbot.irc import events as ev
from logbot.irc.caps import KNOWN_CAPS
from logbot.irc.client_events import handlers_for, raw_filter
from logbot.irc.core import REGISTRATION_TIMEOUT, IRCConnection
from logbot.irc.flood import (
    FloodControl,
)
from logbot.irc.keepalive import PING_INTERVAL, PING_TIMEOUT
from logbot.irc.limits import ReceiveLimits
from logbot.irc.message import parse
from logbot.irc.sasl import SaslConfig
from logbot.irc.split import split_text
from logbot.reactor.failure import Failure
from logbot.reactor.protocol import Protocol, connectionDone

__all__ = ["IRCClient"]

log = logging.getLogger(__name__)


def _find_clock(transport: Any) -> Any:
    """The reactor that owns ``transport`` (TCP: ``.reactor``; TLS: ``.tcp.reactor``)."""
    for _ in range(4):
        reactor = getattr(transport, "reactor", None)
        if reactor is not None:
            return reactor
        transport = getattr(transport, "tcp", None) or getattr(transport, "transport", None)
        if transport is None:
            break
    return None


class IRCClient(Protocol):
    """An IRC client connection; subclass it and override the events."""

    # -- configuration (class-level defaults; set on a subclass or an instance) --------
    nickname: str = "irc"
    username: str | None = None  # None: the nickname
    realname: str | None = None  # None: the nickname
    password: str | None = None  # server password (PASS)
    lineRate: float | None = None  # None: burst 4, then 1 line/s; N: 1 line per N s; 0: off
    versionName: str | None = None  # CTCP VERSION reply (None: "logbot")
    hostname: str | None = None  # the server's name, from 001
    alt_nicks: Iterable[str] = ()
    sasl: SaslConfig | None = None
    caps: Iterable[str] = KNOWN_CAPS
    clock: Any = None  # None: the reactor that owns the transport
    ping_interval: float = PING_INTERVAL  # seconds of silence before we PING (30)
    ping_timeout: float = PING_TIMEOUT  # seconds of silence that make the link dead (90)
    registration_timeout: float = REGISTRATION_TIMEOUT  # CAP, SASL and 001 by then (60)
    first_lag_probe: float | None = None  # seconds after 001; None: ping_interval
    nick_retry_interval: float | None = 300.0
    # The send queue's bounds: off here, as in Twisted's IRCClient, so that a ported
    # program keeps every line it queues; the logging bot's client sets them to
    # MAX_REPLY_WAIT (30 s), MAX_QUEUED_LINES (200) and MAX_QUEUED_PER_TARGET (50).
    max_reply_wait: float | None = None  # s a reply may wait, else dropped
    max_queued_lines: int | None = None  # reply lines waiting in all
    receive_limits: ReceiveLimits | None = None  # what the server can make us hold
    max_queued_per_target: int | None = None  # ... to one target

    core: IRCConnection | None = None
    disconnect_reason: str | None = None  # why we dropped the connection, if we did
    _timer: Any = None
    _busy = False
    _lost = False
    _close: str | None = None  # "lose" or "abort", requested during a turn
    _quitting = False

    def build_core(self) -> IRCConnection:
        """The sans-I/O connection for this session (override for full control)."""
        bounds: dict[str, Any] = {
            "max_reply_wait": self.max_reply_wait,
            "max_queued": self.max_queued_lines,
            "max_per_target": self.max_queued_per_target,
        }
        if self.lineRate is None:
            flood = FloodControl(**bounds)
        elif self.lineRate <= 0:
            flood = FloodControl(enabled=False, **bounds)
        else:
            flood = FloodControl(burst=1, rate=1.0 / self.lineRate, **bounds)
        return IRCConnection(
            self.nickname,
            username=self.username,
            realname=self.realname,
            password=self.password,
            alt_nicks=self.alt_nicks,
            alter_collided_nick=self.alterCollidedNick,
            nick_retry_interval=self.nick_retry_interval,
            sasl=self.sasl,
            caps=self.caps,
            flood=flood,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
            registration_timeout=self.registration_timeout,
            first_lag_probe=self.first_lag_probe,
            version=self.versionName or "logbot",
            ctcp_time=time.asctime,
            limits=self.receive_limits,
        )

    # -- the transport's side -----------------------------------------------------------

    def connectionMade(self) -> None:
        """Start registration (a subclass that overrides this must call it)."""
        clock = self.clock if self.clock is not None else _find_clock(self.transport)
        if clock is None:
            raise RuntimeError(f"{type(self).__name__}: no clock; set .clock to the reactor")
        self._seconds = clock.seconds
        self._call_later = clock.callLater
        self._lost = False
        self._close = None
        self._quitting = False
        self.disconnect_reason = None
        self.core = self.build_core()
        cls = type(self)
        self._handlers = handlers_for(cls)
        self._tap = self.eventReceived if cls.eventReceived is not IRCClient.eventReceived else None
        if self._tap is None:  # eventReceived gets every RawMessage; else only irc_* hooks
            self.core.set_raw_filter(raw_filter(cls))
        self.core.connection_made(self._seconds())
        self._flush()

    def dataReceived(self, data: bytes) -> None:
        core = self.core
        if core is None or self._lost:
            return
        now = self._seconds()
        self._busy = True
        try:
            self._dispatch(core.receive_data(data, now))
        finally:
            self._busy = False
        self._flush(now)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """The connection is gone: the timer and the send queue go with it."""
        self._lost = True
        timer, self._timer = self._timer, None
        if timer is not None and timer.active():
            timer.cancel()
        if self.core is not None:
            self.core.flood.clear()

    # -- requests ---------------------------------------------------------------------

    def join(self, channel: str, key: str | None = None) -> None:
        self._core().join(self._channel(channel), key)
        self._requested()

    def join_many(self, channels: Iterable[str | tuple[str, str | None]]) -> None:
        """Join many channels (names, or ``(name, key)``) in as few JOIN lines as fit."""
        self._core().join_many(
            [
                self._channel(c) if isinstance(c, str) else (self._channel(c[0]), c[1])
                for c in channels
            ]
        )
        self._requested()

    def leave(self, channel: str, reason: str | None = None) -> None:
        self._core().part(self._channel(channel), reason)
        self._requested()

    part = leave

    def msg(self, user: str, message: str, length: int | None = None) -> None:
        """Send a PRIVMSG, split into as many lines as it needs (at most ``length``
        bytes each, CRLF included, when given; else to fit the relayed 512 bytes)."""
        core = self._core()
        if length is None:
            core.privmsg(user, message)
        else:
            overhead = len(f"PRIVMSG {user} :".encode()) + 2
            if length <= overhead:
                raise ValueError(f"length must be more than {overhead} for target {user!r}")
            for piece in split_text(message, length - overhead):
                core.privmsg(user, piece)
        self._requested()

    def say(self, channel: str, message: str, length: int | None = None) -> None:
        self.msg(self._channel(channel), message, length)

    def reply(self, target: str, lines: Iterable[str]) -> bool:
        """PRIVMSG each of ``lines`` to ``target``, all of them or none: False, with
        nothing queued, when the send queue is over its bounds or the last line would
        wait longer than ``max_reply_wait`` (the lines are counted in
        ``core.replies_dropped``).  A bot says so instead of answering hours late."""
        queued = self._core().reply(target, lines, self._seconds())
        self._requested()
        return queued

    def notice(self, user: str, message: str, *, urgent: bool = False) -> None:
        """``urgent``: ahead of the PRIVMSG and NOTICE lines waiting (the short notice
        that someone's reply was dropped)."""
        self._core().notice(user, message, urgent=urgent)
        self._requested()

    def describe(self, channel: str, action: str) -> None:
        """CTCP ACTION (``/me``) to a channel or user."""
        self._core().action(channel, action)
        self._requested()

    def setNick(self, nickname: str) -> None:
        self._core().nick(nickname)
        self._requested()

    def quit(self, message: str = "") -> None:
        self._quitting = True  # the server's ERROR reply is expected, not news
        self._core().quit(message or None)
        self._requested()

    def topic(self, channel: str, topic: str | None = None) -> None:
        """Ask for the topic (``topic=None``) or set it (``""`` clears it)."""
        self._core().topic(self._channel(channel), topic)
        self._requested()

    def mode(
        self,
        chan: str,
        set: bool,
        modes: str,
        limit: int | None = None,
        user: str | None = None,
        mask: str | None = None,
    ) -> None:
        """``MODE chan +modes [arg]`` (``set``) or ``-modes``, Twisted's signature."""
        args = [("+" if set else "-") + modes]
        if limit is not None:
            args.append(str(limit))
        elif user is not None:
            args.append(user)
        elif mask is not None:
            args.append(mask)
        self._core().mode(chan, *args)
        self._requested()

    def kick(self, channel: str, user: str, reason: str | None = None) -> None:
        self._core().kick(self._channel(channel), user, reason)
        self._requested()

    def sendLine(self, line: str | bytes) -> None:
        """Queue one raw line (flood-controlled); CR, LF or NUL raise ``ValueError``."""
        if isinstance(line, bytes):
            line = line.decode("utf-8")
        if "\r" in line or "\n" in line or "\0" in line:
            raise ValueError(f"refusing to send a line with CR, LF or NUL: {line!r}")
        self._core().send_raw(parse(line))
        self._requested()

    # -- events (override) ------------------------------------------------------------

    def signedOn(self) -> None:
        """Registered (001): a good time to join channels."""

    def joined(self, channel: str) -> None:
        """We joined ``channel``."""

    def left(self, channel: str) -> None:
        """We left ``channel``."""

    def privmsg(self, user: str, channel: str, message: str) -> None:
        """``user`` (nick!user@host) said ``message`` to ``channel`` (our nick: private)."""

    def noticed(self, user: str, channel: str, message: str) -> None:
        """A NOTICE; never answer one automatically (RFC 1459)."""

    def action(self, user: str, channel: str, data: str) -> None:
        """``user`` did ``/me data`` in ``channel``."""

    def userJoined(self, user: str, channel: str) -> None:
        """``user`` (a nick) joined ``channel``."""

    def userLeft(self, user: str, channel: str) -> None:
        """``user`` (a nick) parted ``channel``."""

    def userQuit(self, user: str, quitMessage: str) -> None:
        """``user`` (a nick) quit; ``eventReceived`` gets the channels it was in."""

    def userKicked(self, kickee: str, channel: str, kicker: str, message: str) -> None:
        """``kickee`` was kicked from ``channel`` by ``kicker`` (nicks)."""

    def kickedFrom(self, channel: str, kicker: str, message: str) -> None:
        """We were kicked from ``channel``."""

    def userRenamed(self, oldname: str, newname: str) -> None:
        """Someone else changed nick."""

    def nickChanged(self, nick: str) -> None:
        """Our nick changed (the default keeps ``self.nickname`` up to date)."""
        self.nickname = nick

    def topicUpdated(self, user: str, channel: str, topic: str) -> None:
        """The topic of ``channel`` is ``topic`` (changed by ``user``, or shown on join)."""

    def modeChanged(
        self, user: str, channel: str, set: bool, modes: str, args: tuple[str | None, ...]
    ) -> None:
        """Modes were set (``set``) or unset on ``channel`` (or on us, a user mode)."""

    def alterCollidedNick(self, nickname: str) -> str:
        """The nick to try after ``nickname`` was refused (the default appends ``_``)."""
        return nickname + "_"

    def eventReceived(self, event: ev.Event) -> None:
        """Every typed core event, after the Twisted-style methods (ours: PEP 8 data)."""

    def beforeSending(self) -> None:
        """Called before the adapter writes what the core released (after the events of
        received data were dispatched).  A logging bot makes its log lines durable
        here, so that a reply to a line (a PONG) never leaves before the lines that
        came before it are on disk."""

    # -- internals --------------------------------------------------------------------

    def _core(self) -> IRCConnection:
        if self.core is None:
            raise RuntimeError("not connected: requests need connectionMade() first")
        return self.core

    def _channel(self, name: str) -> str:
        """Twisted adds ``#`` to a name that is not a channel: so do we."""
        core = self.core
        chantypes = core.state.isupport.chantypes if core is not None else "#&"
        return name if name and name[0] in chantypes else "#" + name

    def _requested(self) -> None:
        if not self._busy:  # during a turn, the end of the turn flushes
            self._flush()

    def _flush(self, now: float | None = None) -> None:
        """Write what the core releases, dispatch what that caused, set the timer."""
        core = self.core
        if core is None or self._lost:
            return
        self.beforeSending()
        if now is None:
            now = self._seconds()
        write = self.transport.write
        while True:
            data = core.data_to_send(now)
            if data:
                write(data)
            events = core.pop_events()
            if not events:
                break
            self._busy = True
            try:
                self._dispatch(events)
            finally:
                self._busy = False
        if self._close is not None:
            self._disconnect()
            return
        self._schedule(now)

    def _schedule(self, now: float) -> None:
        when = self.core.next_wakeup(now) if self.core is not None else None
        if when is None:
            return  # a pending timer fires, finds nothing to do, and is not set again
        timer = self._timer
        if timer is not None and timer.active():
            if timer.getTime() <= when:
                return
            timer.cancel()
        self._timer = self._call_later(max(0.0, when - now), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._flush()

    def _close_after_flush(self, how: str, reason: str) -> None:
        if self._close is None:
            self._close = how
            self.disconnect_reason = reason
            # After our own QUIT the close is expected: the owner (the bot's network,
            # `check --connect`) says what it means; only an unexpected one warns here.
            level = logging.DEBUG if self._quitting else logging.WARNING
            log.log(level, "%s: closing the IRC connection: %s", type(self).__name__, reason)

    def _disconnect(self) -> None:
        how, self._close = self._close, None
        timer, self._timer = self._timer, None
        if timer is not None and timer.active():
            timer.cancel()
        if how == "abort":
            self.transport.abortConnection()
        else:
            self.transport.loseConnection()

    def _dispatch(self, events: list[ev.Event]) -> None:
        handlers = self._handlers
        tap = self._tap
        # The base class's privmsg does nothing: a bot that only taps events skips it.
        privmsg = self.privmsg if type(self).privmsg is not IRCClient.privmsg else None
        plain = ev.Privmsg
        for event in events:
            kind = type(event)
            if kind is plain:  # most lines: client_events._privmsg, written out
                if privmsg is not None and not event.is_self:  # type: ignore[attr-defined]
                    privmsg(event.source, event.target, event.text)  # type: ignore[attr-defined]
            else:
                handler = handlers.get(kind)
                if handler is not None:
                    handler(self, event)
            if tap is not None:
                tap(event)
