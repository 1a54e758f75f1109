"""What the service knows about each network's connection, for ``logbot`` diagnostics
and the metrics endpoint: a plain dataclass the network updates in place.  A
network's connection state changes only through :class:`NetworkStats`'s methods, so
the fields /healthz reads (connecting, down_since, last_error) stay consistent."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["NetworkStats", "SaslStatus"]


@dataclass
class SaslStatus:
    """The SASL login of the current connection, for /healthz and /metrics: an optional
    login that failed leaves the bot registered (healthy) but unauthenticated, which
    must be visible somewhere other than the server's own numeric."""

    required: bool
    authenticated: bool | None = None  # None: not settled yet on this connection
    mechanism: str | None = None  # the last one tried
    account: str | None = None
    error: str | None = None  # the server's numeric and text (or why it never happened)


@dataclass
class NetworkStats:
    connected: bool = False
    registered: bool = False
    connections: int = 0  # registrations so far
    reconnects: int = 0  # connection attempts after the first
    lines_logged: int = 0
    log_failures: int = 0  # exceptions while turning events into lines
    registered_at: float | None = None  # wall time of the current registration
    connecting: bool = False  # a connection attempt is under way
    down_since: float | None = None  # wall time since which it is not registered
    last_error: str | None = None  # why the last attempt or connection ended
    sasl: SaslStatus | None = None  # None: no SASL configured
    sasl_failures: int = 0  # SASL logins that failed (or could not happen), all connections
    history_recovered: int = 0  # lines logged from a server's history (replays)
    history_duplicates: int = 0  # replayed lines the log already held
    history_refused: int = 0  # replayed lines dropped: long after the join
    replies_dropped: int = 0  # reply lines dropped by ended connections' send queues
    #: IRCv3 standard replies received, by (FAIL/WARN/NOTE, command); bounded by
    #: logbot.bot.standard_replies.MAX_REPLY_COMMANDS
    standard_replies: dict[tuple[str, str], int] = field(default_factory=dict)

    # The life of a connection, as /healthz reports it; ``now`` is wall time.

    def starting(self, now: float) -> None:
        if self.down_since is None and not self.registered:
            self.down_since = now

    def attempt(self) -> None:
        self.connecting = True

    def failed(self, why: str) -> None:
        """An attempt that never connected (refused, timed out, bad TLS setup)."""
        self.connecting = False
        self.last_error = why

    def up(self) -> None:
        self.connected = True
        self.connecting = False

    def sasl_wanted(self, required: bool | None) -> None:
        """A new connection (or a config) with SASL (``required`` true or false) or
        without (None): the previous connection's result no longer holds."""
        self.sasl = None if required is None else SaslStatus(required=required)

    def sasl_result(
        self, success: bool, mechanism: str | None, account: str | None, error: str | None
    ) -> None:
        if self.sasl is None:  # (a config without SASL never gets a result)
            return
        self.sasl.authenticated = success
        self.sasl.mechanism = mechanism
        self.sasl.account = account if success else None
        self.sasl.error = None if success else error
        if not success:
            self.sasl_failures += 1

    def signed_on(self, now: float) -> None:
        self.registered = True
        self.connections += 1
        self.registered_at = now
        self.down_since = self.last_error = None

    def lost(self, now: float, why: str) -> None:
        self.connected = self.registered = False
        self.registered_at = None
        if self.down_since is None:  # else still the first moment, if it never registered
            self.down_since = now
        self.last_error = why
