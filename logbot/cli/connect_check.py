"""``logbot check --connect``: try every configured server, and say how far each gets.

A first run's mistakes (a name that does not resolve, a firewall, a plain-text port
given as TLS, a certificate not trusted, a wrong password) otherwise show up as a
retry loop in the bot's log.  This tries each server once, the way ``logbot run``
would, and reports each step with OK or FAILED, the time it took and what to do:

1. **name lookup** (the reactor's resolver, off the loop);
2. **TCP**: a connection to the port;
3. **TLS** (``tls: true``): the handshake with the bot's own TLS settings, and the
   certificate's subject, issuer, names, expiry and SHA-256 fingerprint, with the
   ``fingerprint:`` line that would pin it (its certificate's and its key's).  When the
   certificate is not trusted, it is fetched again without verification and shown all
   the same, so the user can decide between ``ca_file`` and ``verify: false``; nothing
   is sent to that server, and registration is not tried (it would hand it the
   password);
   **fingerprint**, for a server with pins: OK when the certificate matches one, else
   FAILED with the fingerprint it has (the certificate is shown; registration is not
   tried, as the bot would refuse the connection);
4. **SASL** (when configured) and **registration**: CAP, PASS, SASL, NICK and USER up
   to 001 (:class:`~logbot.cli.connect_probe.RegistrationProbe`), then QUIT.  No
   channel is joined and nothing is logged.

Servers are tried one after the other, on a reactor of their own, so the report reads
in order.  The result is True when every network has a server that registered (and
logged in, when SASL is configured).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import click

from logbot.bot.conn_errors import explain, is_certificate_problem
from logbot.bot.pins import PinMismatch, matches, seen
from logbot.bot.tls_context import TLSConfigError, client_context
from logbot.cli.certificate import fingerprint, read_certificate
from logbot.cli.connect_probe import Attempt, Bare, RegistrationProbe
from logbot.config.settings import Config, NetworkConfig, ServerConfig
from logbot.reactor import defer, error, resolve
from logbot.reactor.failure import Failure
from logbot.reactor.loop import Reactor

__all__ = ["STEP_TIMEOUT", "check_connections", "step_line"]

#: Seconds for each of the name lookup, the TCP connection and the TLS handshake
#: (registration has the network's ``registration_timeout``, as in the bot).
STEP_TIMEOUT = 10.0
QUIT_WAIT = 3.0  # seconds the server may take to close after our QUIT
QUIT_MESSAGE = "logbot check --connect"
_INDENT = " " * 33  # under a step's detail
PINNED = "pinned (fingerprint: the CA, name and dates are not checked)"


def check_connections(config: Config, echo: Callable[[str], Any] = click.echo) -> bool:
    """Try every server of every network, printing each step with ``echo``; True when
    every network has a server that registered."""
    reactor = Reactor(None if config.reactor == "auto" else config.reactor)
    checker = _Checker(reactor, echo)
    outcome: list[bool] = []

    def done(result: object) -> None:
        if isinstance(result, Failure):  # a bug of ours: say it, in one line
            echo(f"logbot: the connection check failed: {result.getErrorMessage()}")
        outcome.append(result is True)
        if reactor.running:
            reactor.stop()

    def start() -> None:
        defer.ensureDeferred(checker.run(config.networks)).addBoth(done)

    reactor.callWhenRunning(start)
    reactor.run()  # (SIGINT or SIGTERM stop it: no outcome, so False)
    return outcome == [True]


def _took(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def step_line(name: str, ok: bool | None, took: float | None, detail: str) -> str:
    """One step of the report: its name, OK / FAILED / skipped, the time, what it found
    (the archive database's check prints its steps the same way)."""
    status = "OK" if ok else "skipped" if ok is None else "FAILED"
    return f"  {name:<13}{status:<8}{'' if took is None else _took(took):>8}  {detail}"


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def certificate_lines(der: bytes | None, now: datetime) -> list[str]:
    """What the check shows of a server's certificate (``der``: its DER bytes)."""
    if not der:
        return ["the server sent no certificate"]
    pins = [f"to pin   fingerprint: {pin}" for pin in seen(der)]
    try:
        return read_certificate(der).lines(now) + pins
    except ValueError as e:
        return [f"SHA-256  {fingerprint(der)} (its other fields could not be read: {e})", *pins]


class _Checker:
    """The steps, each reported as it ends (a slow server shows where it is slow)."""

    def __init__(self, reactor: Reactor, echo: Callable[[str], Any]) -> None:
        self.reactor = reactor
        self.echo = echo

    def step(
        self, name: str, ok: bool | None, took: float | None, detail: str, more: Sequence[str] = ()
    ) -> None:
        self.echo(step_line(name, ok, took, detail))
        for line in more:
            self.echo(_INDENT + line)

    async def run(self, networks: Sequence[NetworkConfig]) -> bool:
        every = True
        for network in networks:
            good = 0
            for server in network.servers:
                self.echo(f"{network.name}: {server}")
                if await self.server(network, server):
                    good += 1
            total = len(network.servers)
            verdict = "OK" if good else "FAILED"
            plural = "" if total == 1 else "s"
            self.echo(f"{network.name}: {verdict}: {good} of {total} server{plural} registered")
            every = every and good > 0
        return every

    async def server(self, network: NetworkConfig, server: ServerConfig) -> bool:
        if not await self.lookup(server):
            return False
        if not server.tls:
            probe = await self.tcp(server, lambda: RegistrationProbe(network, self.reactor))
        else:
            bare = await self.tcp(server, Bare)
            if bare is None:
                return False
            bare.transport.loseConnection()
            probe = await self.tls(network, server)
        if probe is None:
            if server.tls:
                self.step("registration", None, None, "not tried (the bot would stop before)")
            return False
        return await self.register(network, probe)

    async def lookup(self, server: ServerConfig) -> bool:
        started = self.reactor.seconds()
        if resolve.literal(server.host, server.port) is not None:
            self.step("name lookup", True, 0.0, f"{server.host} is an address")
            return True
        found = resolve.resolve(self.reactor, server.host, server.port)
        try:
            addresses = await found.addTimeout(STEP_TIMEOUT, self.reactor)
        except TimeoutError:
            took = self.reactor.seconds() - started
            why = f"no answer for {server.host} within {STEP_TIMEOUT:g} s (is DNS reachable?)"
            self.step("name lookup", False, took, why)
            return False
        except error.DNSLookupError as e:
            self.step("name lookup", False, self.reactor.seconds() - started, explain(e, server))
            return False
        took = self.reactor.seconds() - started
        shown = ", ".join(sockaddr[0] for _family, sockaddr in addresses[:4])
        more = f" and {len(addresses) - 4} more" if len(addresses) > 4 else ""
        self.step("name lookup", True, took, f"{server.host}: {shown}{more}")
        return True

    async def tcp(self, server: ServerConfig, build: Callable[[], Any]) -> Any:
        """The protocol ``build()`` made on a TCP connection, or None (reported)."""
        started = self.reactor.seconds()
        attempt = Attempt(build)
        self.reactor.connectTCP(server.host, server.port, attempt, timeout=STEP_TIMEOUT)
        try:
            protocol = await attempt.connected
        except Exception as e:
            took = self.reactor.seconds() - started
            self.step("TCP", False, took, explain(e, server, STEP_TIMEOUT))
            return None
        peer = protocol.transport.getPeer()
        took = self.reactor.seconds() - started
        self.step("TCP", True, took, f"connected to {_address(peer.host, peer.port)}")
        return protocol

    async def tls(self, network: NetworkConfig, server: ServerConfig) -> Any:
        """The registration probe on a TLS connection made as the bot makes it, or
        None (reported, with the certificate when it was not trusted)."""
        started = self.reactor.seconds()
        try:
            context = client_context(server)
        except TLSConfigError as e:
            self.step("TLS", False, 0.0, str(e))
            return None
        attempt = Attempt(lambda: RegistrationProbe(network, self.reactor))
        self.reactor.connectSSL(server.host, server.port, attempt, context, timeout=STEP_TIMEOUT)
        try:
            probe = await attempt.connected
        except Exception as e:
            took = self.reactor.seconds() - started
            mismatch = e.__cause__
            if isinstance(mismatch, PinMismatch):  # the handshake was done: no pin matched
                lines = certificate_lines(mismatch.certificate, datetime.now(UTC))
                self.step("TLS", True, took, f"handshake done; the certificate is {PINNED}", lines)
                self.step("fingerprint", False, None, explain(e, server, STEP_TIMEOUT))
                return None
            more = await self.certificate_anyway(server) if is_certificate_problem(e) else []
            self.step("TLS", False, took, explain(e, server, STEP_TIMEOUT), more)
            return None
        took = self.reactor.seconds() - started
        der = probe.transport.getPeerCertificate(True)
        if server.fingerprints:
            trust = PINNED
        else:
            trust = "verified" if server.verify else "NOT verified (verify: false)"
        lines = certificate_lines(der, datetime.now(UTC))
        self.step("TLS", True, took, f"handshake done; the certificate is {trust}", lines)
        if server.fingerprints:  # (the handshake checked it: this says which pin)
            pin = next((pin for pin in server.fingerprints if der and matches(der, (pin,))), None)
            said = f"the certificate matches the pinned {pin}" if pin else "no pin matches"
            self.step("fingerprint", pin is not None, None, said)
        return probe

    async def certificate_anyway(self, server: ServerConfig) -> list[str]:
        """The certificate the server showed, fetched again without verifying it (only
        the handshake: nothing is sent to a server we do not trust)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        attempt = Attempt(Bare)
        self.reactor.connectSSL(server.host, server.port, attempt, context, timeout=STEP_TIMEOUT)
        try:
            bare = await attempt.connected
        except Exception as e:
            return [f"(the certificate could not be fetched: {explain(e, server)})"]
        der = bare.transport.getPeerCertificate(True)
        bare.transport.loseConnection()
        return ["the certificate it showed:", *certificate_lines(der, datetime.now(UTC))]

    async def register(self, network: NetworkConfig, probe: RegistrationProbe) -> bool:
        result = await probe.outcome
        logged_in = True
        if network.sasl is not None:
            logged_in = self.sasl(network, probe)
        self.step("registration", result.ok, result.at - probe.started, result.detail)
        if result.ok:
            probe.quit(QUIT_MESSAGE)
            closed = probe.closed.addTimeout(QUIT_WAIT, self.reactor)
            try:
                await closed
            except TimeoutError:
                probe.transport.abortConnection()
        return result.ok and logged_in

    def sasl(self, network: NetworkConfig, probe: RegistrationProbe) -> bool:
        result = probe.sasl_result
        if result is None:
            self.step("SASL", None, None, "not tried (registration ended before it)")
            return False
        took = probe.sasl_at - probe.started
        if result.success:
            account = f" as {result.account}" if result.account else ""
            self.step("SASL", True, took, f"{result.mechanism} login{account}")
            return True
        how = result.mechanism or "no mechanism"
        if network.sasl is not None and network.sasl.required:
            then = "sasl.required is true: the bot would disconnect"
        else:
            then = "sasl.required is false: the bot would log without it"
        self.step("SASL", False, took, f"{how}: {result.reason} ({then})")
        return False
