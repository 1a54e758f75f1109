"""The IRC protocol of the logging bot: an ``IRCClient`` that hands everything on.

All decisions live in :class:`~logbot.bot.network.NetworkBot` (the factory);
this class only forwards the core's typed events and registration to it, so a
new connection after a reconnect starts with a fresh core and nothing stale.

It asks the core for raw messages only for the numerics the bot reads
(topic setter, end of NAMES, join refusals), so ordinary lines cost no
``RawMessage`` event.
"""

from __future__ import annotations

from typing import Any

from logbot.bot.wire_log import WireLog
from logbot.config.settings import NetworkConfig
from logbot.irc import events as ev
from logbot.irc.client import IRCClient
from logbot.irc.core import IRCConnection
from logbot.irc.flood import MAX_QUEUED_LINES, MAX_QUEUED_PER_TARGET, MAX_REPLY_WAIT
from logbot.irc.sasl import SaslConfig
from logbot.reactor.failure import Failure
from logbot.reactor.protocol import connectionDone

__all__ = ["JOIN_REFUSALS", "LogBotClient", "register_as"]

#: Numerics that say a JOIN failed: ``me #chan :why``.
JOIN_REFUSALS = frozenset({"403", "405", "471", "473", "474", "475", "477", "489"})
# 315/354: WHOX; FAIL: a CHATHISTORY request refused
_RAW_WANTED = frozenset({"333", "366", "315", "354", "FAIL"}) | JOIN_REFUSALS


def register_as(client: IRCClient, config: NetworkConfig) -> None:
    """Set ``client`` up to register as ``config`` says: nick, alternatives, user,
    realname, server password, SASL and the registration and keepalive times.  One
    place, so that ``logbot check --connect`` registers exactly as the bot does."""
    client.nickname = config.nick
    client.alt_nicks = config.alt_nicks
    client.username = config.user or config.nick
    client.realname = config.realname
    client.password = config.password.reveal() if config.password else None
    client.registration_timeout = config.registration_timeout
    client.ping_interval = config.ping_interval
    client.ping_timeout = config.ping_timeout
    client.versionName = "logbot"
    sasl = config.sasl
    if sasl is not None:
        client.sasl = SaslConfig(
            username=sasl.username or config.nick,
            password=sasl.password,
            key=sasl.key,
            mechanisms=sasl.mechanisms,
            required=sasl.required,
        )


class LogBotClient(IRCClient):
    """One connection of a :class:`NetworkBot`; configured by its ``buildProtocol``."""

    factory: Any
    # The lag (/metrics, /healthz) is known seconds after connecting, not a minute: the
    # first probe follows the join burst.
    first_lag_probe = 5.0
    # Replies are bounded (logbot.irc.flood): a reply that would leave more than 30 s
    # late is dropped and its asker told, instead of answering hours later.
    max_reply_wait = MAX_REPLY_WAIT
    max_queued_lines = MAX_QUEUED_LINES
    max_queued_per_target = MAX_QUEUED_PER_TARGET

    def build_core(self) -> IRCConnection:
        """The core, with the network's debug log of the traffic tapped in (before
        ``connectionMade`` sends the registration lines, which it shows too)."""
        core = super().build_core()
        factory = getattr(self, "factory", None)  # (None: a test's bare client)
        if factory is not None:
            core.wire_tap = WireLog(factory.config.name)
        return core

    def connectionMade(self) -> None:
        super().connectionMade()
        assert self.core is not None
        self.core.set_raw_filter(_RAW_WANTED.__contains__)
        self._tap = self.factory.handle  # every event straight to the bot: one call less
        self.factory.connection_made(self)

    _holding = False

    def dataReceived(self, data: bytes) -> None:
        """One read from the server: its lines are gathered and written with one write
        per file, before anything is sent back (see ``beforeSending``)."""
        writer = self.factory.writer
        self._holding = writer.hold()
        try:
            super().dataReceived(data)
            self.factory.read_done()
        finally:
            self.beforeSending()

    def beforeSending(self) -> None:
        """The lines of this read reach the disk before our replies (PONG) leave."""
        if self._holding:
            self._holding = False
            self.factory.writer.release()

    def signedOn(self) -> None:
        self.factory.registered(self)

    def drop(self, reason: str) -> None:
        """Close the connection at the end of this turn and send nothing more: what is
        queued (the CAP REQ or CAP END the listing just caused) is dropped, so that an
        STS upgrade leaves the plain connection unregistered.  The network says why at
        its own level, so the adapter's own line about the close is a debug one, as
        after our QUIT."""
        if self.core is not None:
            self.core.flood.clear()
        self._quitting = True
        self._close_after_flush("abort", reason)

    def eventReceived(self, event: ev.Event) -> None:
        """(Replaced by the factory's ``handle`` in connectionMade; defined so that the
        adapter taps events at all.)"""
        self.factory.handle(event)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        super().connectionLost(reason)
        self.factory.connection_lost(self, reason)
