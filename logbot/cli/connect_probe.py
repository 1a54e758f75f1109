"""The connections ``logbot check --connect`` makes, each a Deferred to wait on.

- :class:`Attempt`: one ``connectTCP``/``connectSSL`` whose outcome is a Deferred (the
  protocol once connected, after the TLS handshake for TLS; or the failure), the same
  calls the bot makes, so the check meets what the bot would meet;
- :class:`Bare`: a connection that says nothing (the TCP step of a TLS server, and
  fetching a certificate that was not trusted: nothing is sent to such a server);
- :class:`RegistrationProbe`: the bot's own IRC client (CAP, PASS, SASL, NICK/USER,
  nick collisions and the registration deadline, from the network's config) that
  stops at 001: it never joins a channel, and nothing it sees is logged.  Its traffic
  goes to the debug log like the bot's, secrets masked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from logbot.bot.ircbot import register_as
from logbot.bot.wire_log import WireLog
from logbot.config.settings import NetworkConfig
from logbot.irc import events as ev
from logbot.irc.client import IRCClient
from logbot.irc.core import IRCConnection
from logbot.reactor import defer, error
from logbot.reactor.failure import Failure
from logbot.reactor.protocol import ClientFactory, Protocol, connectionDone

__all__ = ["Attempt", "Bare", "Registration", "RegistrationProbe"]


class Attempt(ClientFactory):
    """One connection attempt: ``connected`` fires with the protocol ``build()`` made,
    once it is connected, or fails with the reason the attempt failed."""

    noisy = False

    def __init__(self, build: Callable[[], Protocol]) -> None:
        self.build = build
        self.connected: defer.Deferred[Any] = defer.Deferred()

    def buildProtocol(self, addr: Any) -> Protocol:
        protocol = self.build()
        protocol.factory = self
        return protocol

    def made(self, protocol: Protocol) -> None:
        if not self.connected.called:
            self.connected.callback(protocol)

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        if not self.connected.called:
            self.connected.errback(reason)


class Bare(Protocol):
    """A connection that only connects."""

    def connectionMade(self) -> None:
        self.factory.made(self)


@dataclass(frozen=True)
class Registration:
    """How registration ended: ``ok`` (001 received), what to say, and when."""

    ok: bool
    detail: str
    at: float  # the reactor's clock


class RegistrationProbe(IRCClient):
    """Registers as the network's config says, reports, and stops there."""

    lineRate = 0  # a handful of lines: no flood pacing to wait for

    def __init__(self, network: NetworkConfig, clock: Any) -> None:
        self.network = network
        self.clock = clock
        register_as(self, network)
        self.started = 0.0
        self.refusals: list[str] = []  # error numerics before 001: "464 Password incorrect"
        self.sasl_result: ev.SaslResult | None = None
        self.sasl_at = 0.0
        self.outcome: defer.Deferred[Registration] = defer.Deferred()
        self.closed: defer.Deferred[None] = defer.Deferred()

    def build_core(self) -> IRCConnection:
        core = super().build_core()
        core.wire_tap = WireLog(self.network.name)
        return core

    def connectionMade(self) -> None:
        self.started = self.clock.seconds()
        super().connectionMade()
        self.factory.made(self)

    def eventReceived(self, event: ev.Event) -> None:
        kind = type(event)
        if kind is ev.RawMessage and not self.outcome.called:
            msg = event.message  # type: ignore[attr-defined]
            command = msg.command
            if len(command) == 3 and command[0] in "45" and command.isdigit():
                self.refusals.append(f"{command} {msg.params[-1] if msg.params else ''}")
        elif kind is ev.SaslResult and self.sasl_result is None:
            self.sasl_result = event  # type: ignore[assignment]
            self.sasl_at = self.clock.seconds()

    def signedOn(self) -> None:
        self._report(True, f"registered as {self.nickname} on {self.hostname or 'the server'}")

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        super().connectionLost(reason)
        if self.disconnect_reason:  # ours: the deadline, required SASL, the server's ERROR
            why = self.disconnect_reason
        elif isinstance(reason.value, error.ConnectionDone):
            why = "the server closed the connection"
        else:
            why = f"the connection was lost ({reason.value})"
        if self.refusals:
            why = f"{self.refusals[-1]}; {why}"
        self._report(False, why)
        if not self.closed.called:
            self.closed.callback(None)

    def _report(self, ok: bool, detail: str) -> None:
        if not self.outcome.called:
            self.outcome.callback(Registration(ok, detail, self.clock.seconds()))
