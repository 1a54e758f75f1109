"""What the service knows about each network's connection, for ``logbot`` diagnostics
and the metrics endpoint: a plain dataclass the network updates in place.  A
network's connection state changes only through :class:`NetworkStats`'s methods, so
the fields /healthz reads (connecting, down_since, last_error) stay consistent."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NetworkStats"]


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
